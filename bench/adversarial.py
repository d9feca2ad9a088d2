"""Does the grader judge understanding rather than vocabulary? Four kinds of answer per question.

Reads a development set (default ``bench/adversarial_set.yaml``): for each question of the
bank, four spoken-style answers — ``strong`` (own words), ``buzzword`` (fluent names that
explain nothing), ``misconception`` (fluent, built on a classic wrong idea) and ``partial``
(correct, about half) — grades every answer with the offline grader, exactly as the
``grade`` command does, and prints the shares of questions where

* strong ≥ buzzword + 0.10          (target 0.90)
* strong ≥ misconception + 0.10     (target 0.90)
* misconception ≤ partial           (target 0.75)
* the misconception answer has at least one ``incorrect`` verdict   (target 0.60)

plus the mean score of each kind and, with ``--verbose``, every question's scores and the
verdicts given to the misconception answer.

Run: ``.venv/bin/python bench/adversarial.py [--set FILE] [--verbose]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import mean

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_interviewer.bank import load_role  # noqa: E402
from voice_interviewer.scoring.grader import OfflineGrader  # noqa: E402
from voice_interviewer.transcript import Transcript  # noqa: E402

KINDS = ("strong", "buzzword", "misconception", "partial")
MARGIN = 0.10
TARGETS = {"strong ≥ buzzword + 0.10": 0.90, "strong ≥ misconception + 0.10": 0.90,
           "misconception ≤ partial": 0.75, "misconception flagged incorrect": 0.60}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", type=Path, default=ROOT / "bench" / "adversarial_set.yaml")
    ap.add_argument("--role", default="mlops-engineer")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()

    items = yaml.safe_load(args.set.read_text(encoding="utf-8"))
    bank = load_role(args.role)
    grader = OfflineGrader()
    grader.grade_sync(bank.questions[0], [Transcript("warm up the model")])
    checks: dict[str, list[bool]] = {name: [] for name in TARGETS}
    scores: dict[str, list[float]] = {k: [] for k in KINDS}
    started = time.perf_counter()
    for item in items:
        question = bank.question(item["question_id"])
        graded = {k: grader.grade_sync(question, [Transcript(" ".join(item[k].split()))]) for k in KINDS}
        s = {k: fb.score for k, fb in graded.items()}
        for k in KINDS:
            scores[k].append(s[k])
        flagged = [r for r in graded["misconception"].key_points if r.verdict == "incorrect"]
        checks["strong ≥ buzzword + 0.10"].append(s["strong"] >= s["buzzword"] + MARGIN)
        checks["strong ≥ misconception + 0.10"].append(s["strong"] >= s["misconception"] + MARGIN)
        checks["misconception ≤ partial"].append(s["misconception"] <= s["partial"])
        checks["misconception flagged incorrect"].append(bool(flagged))
        if args.verbose:
            print(f"{question.id:34s} " + "  ".join(f"{k[:6]} {s[k]:.2f}" for k in KINDS))
            for r in flagged:
                print(f"    incorrect {r.key_point_id}: \"{r.evidence.quote if r.evidence else ''}\"")
            for k in ("strong", "partial"):
                for r in graded[k].key_points:
                    if r.verdict == "incorrect":
                        print(f"    FALSE incorrect in {k} answer, {r.key_point_id}: "
                              f"\"{r.evidence.quote if r.evidence else ''}\"")
    elapsed = time.perf_counter() - started
    n = len(items)
    print(f"{n} questions, {4 * n} answers graded in {elapsed:.1f} s")
    print("mean score: " + ", ".join(f"{k} {mean(v):.2f}" for k, v in scores.items()))
    for name, target in TARGETS.items():
        share = sum(checks[name]) / n if n else 0.0
        print(f"{name:34s} {share:.2f}  (target {target:.2f}) {'ok' if share >= target else 'BELOW'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
