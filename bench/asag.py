"""Correlation of the offline score with human grades on a short-answer grading set.

Each row of the CSV (question, reference_answer, student_answer, score_avg) is
graded through exactly the ``voice-interviewer grade`` path for reference
questions (``grade_stream`` over JSONL lines), and a lexical-only baseline (recall
of the reference's content-word stems in the student answer) is computed in the
same run. Prints Pearson and Spearman for both. The set is for development
only; the scorer is judged on other questions.

    python bench/asag.py [PATH/TO/dev.csv]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import time
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

from voice_interviewer.commands.grade import grade_stream
from voice_interviewer.scoring.text import is_content, tokenize

DEFAULT = Path(os.environ.get("VI_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) \
    / "asag" / "dev.csv"


def lexical_baseline(reference: str, answer: str) -> float:
    ref = {t.stem for t in tokenize(reference) if is_content(t)}
    ans = {t.stem for t in tokenize(answer) if is_content(t)}
    return len(ref & ans) / len(ref) if ref else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="?", default=str(DEFAULT))
    args = ap.parse_args()
    with open(args.csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lines = io.StringIO("".join(json.dumps({"question": r["question"], "reference": r["reference_answer"],
                                            "answer": r["student_answer"]}) + "\n" for r in rows))
    out = io.StringIO()
    t0 = time.perf_counter()
    failed = grade_stream(lines, out, role="mlops-engineer")
    took = time.perf_counter() - t0
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    human = np.array([float(r["score_avg"]) for r in rows])
    ours = np.array([r.get("score", 0.0) for r in results])
    lexical = np.array([lexical_baseline(r["reference_answer"], r["student_answer"]) for r in rows])
    print(f"{len(rows)} answers to {len({r['question'] for r in rows})} questions, {failed} failed, "
          f"graded in {took:.1f} s ({len(rows) / took:.1f} answers/s)")
    for name, x in (("offline grade", ours), ("lexical baseline", lexical)):
        print(f"{name:17s} pearson {pearsonr(x, human)[0]:.3f}   spearman {spearmanr(x, human)[0]:.3f}")


if __name__ == "__main__":
    main()
