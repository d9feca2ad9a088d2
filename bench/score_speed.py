"""How fast the offline scorer grades: answers per second over a bank's worth of answers.

One answer per bank question (~120-200 words): the question's strong answer,
lengthened with spoken filler and a vague tail so it reads like speech, plus a
vague echo answer for every third question. Model load time is printed on its
own; ``coverage`` (what the follow-up policy calls after every answer) and the
full ``grade`` are timed separately, cold (nothing cached) and warm (rubric
texts cached, as in a real session).

    python bench/score_speed.py [--role mlops-engineer]
"""

from __future__ import annotations

import argparse
import statistics
import time

from voice_interviewer.bank import Question, load_role
from voice_interviewer.scoring.embed import get_embedder
from voice_interviewer.scoring.grader import OfflineGrader
from voice_interviewer.transcript import Transcript

TAIL = ("Um, and I mean in practice it depends on the team and the setup, you know, so we'd look at what we "
        "already have and, uh, start from there and improve it step by step.")


def realistic_answers(questions: list[Question]) -> list[tuple[Question, Transcript]]:
    out = []
    for i, q in enumerate(questions):
        words = ("So, um, " + q.strong_answer + " " + TAIL).split()
        while len(words) < 120:
            words += TAIL.split()
        out.append((q, Transcript(" ".join(words[:200]))))
        if i % 3 == 0:
            out.append((q, Transcript(f"Well, {q.text.rstrip('?')}, um, that's a good question, it's important "
                                      "and it depends on the situation really. " + TAIL)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--role", default="mlops-engineer")
    args = ap.parse_args()
    bank = load_role(args.role)
    answers = realistic_answers(list(bank.questions))
    words = [len(t.text.split()) for _, t in answers]

    t0 = time.perf_counter()
    embedder = get_embedder()
    load_s = time.perf_counter() - t0
    grader = OfflineGrader()

    t0 = time.perf_counter()
    per = []
    for q, t in answers:
        s = time.perf_counter()
        grader.grade_sync(q, [t])
        per.append(time.perf_counter() - s)
    cold_s = time.perf_counter() - t0

    embedder._cache.clear()
    for q in bank.questions:  # a session embeds a question's rubric once; answers are new every time
        grader.coverage(q, [Transcript("warm up")])
    rubric = dict(embedder._cache)
    rubric_texts = len(rubric)
    warm_cov, warm_grade = [], []
    for q, t in answers:
        for timings, call in ((warm_cov, grader.coverage), (warm_grade, grader.grade_sync)):
            embedder._cache.clear()  # keep only the rubric texts: an answer is never seen twice
            embedder._cache.update(rubric)
            s = time.perf_counter()
            call(q, [t])
            timings.append(time.perf_counter() - s)
    n = len(answers)
    print(f"role {bank.role}: {len(bank.questions)} questions, {n} answers, "
          f"{statistics.mean(words):.0f} words per answer (min {min(words)}, max {max(words)})")
    print(f"model load:                 {load_s:.2f} s")
    print(f"grade, cold (rubric uncached): {n / cold_s:.2f} answers/s  (median {statistics.median(per) * 1000:.0f} ms)")
    print(f"rubric texts embedded:      {rubric_texts}")
    print(f"coverage, warm:             {n / sum(warm_cov):.2f} answers/s  "
          f"(median {statistics.median(warm_cov) * 1000:.0f} ms, max {max(warm_cov) * 1000:.0f} ms)")
    print(f"grade, warm:                {n / sum(warm_grade):.2f} answers/s  "
          f"(median {statistics.median(warm_grade) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
