"""How fast the offline scorer grades: answers per second over a bank's worth of answers.

One answer per bank question (~120-200 words): the question's strong answer,
lengthened with spoken filler and a vague tail so it reads like speech, plus a
vague echo answer for every third question. Model load time is printed on its
own; ``coverage`` (what the follow-up policy calls after every answer) and the
full ``grade`` are timed separately, cold (nothing cached) and warm (rubric
texts cached, as in a real session: answers are new every time).

In the same run, a baseline is timed the way the scorer worked before the ONNX
backend: the float32 numpy forward pass in batches of 32 over the older, denser
units (whole run-on sentences plus windows every 6 words). Ratios within one run are the
figures to compare; the machine may be busy.

    python bench/score_speed.py [--role mlops-engineer] [--no-baseline]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Callable

from voice_interviewer.bank import Question, load_role
from voice_interviewer.scoring.content import ContentOptions, ContentScorer, analyse
from voice_interviewer.scoring.embed import Embedder, EmbedderOptions, load_embedder
from voice_interviewer.scoring.grader import OfflineGrader
from voice_interviewer.transcript import Transcript

TAIL = ("Um, and I mean in practice it depends on the team and the setup, you know, so we'd look at what we "
        "already have and, uh, start from there and improve it step by step.")
BASELINE_CONTENT = ContentOptions(window_stride=6, max_unit_words=10_000, long_window_stride=6)


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


@dataclass
class Figures:
    load_s: float
    tokens_per_answer: float
    cold: list[float]
    warm_cov: list[float]
    warm_grade: list[float]


def _warm(embedder: Embedder, rubric: dict, call: Callable[[], object]) -> float:
    embedder._cache.clear()  # keep only the rubric texts: an answer is never seen twice
    embedder._cache.update(rubric)
    s = time.perf_counter()
    call()
    return time.perf_counter() - s


def measure(answers: list[tuple[Question, Transcript]], questions: list[Question], embed: EmbedderOptions,
            content: ContentOptions, cold: bool) -> Figures:
    t0 = time.perf_counter()
    embedder = load_embedder(embed)
    load_s = time.perf_counter() - t0
    grader = OfflineGrader(content=content, scorer=ContentScorer(content, embedder))
    tokens = [sum(len(e.ids) for e in embedder.tokenizer.encode_batch(analyse(t.text, content).unit_texts))
              for _, t in answers]
    per = []
    if cold:
        for q, t in answers:
            s = time.perf_counter()
            grader.grade_sync(q, [t])
            per.append(time.perf_counter() - s)
    embedder._cache.clear()
    for q in questions:  # a session embeds a question's rubric once
        grader.coverage(q, [Transcript("warm up")])
    rubric = dict(embedder._cache)
    warm_cov = [_warm(embedder, rubric, lambda: grader.coverage(q, [t])) for q, t in answers] if cold else []
    warm_grade = [_warm(embedder, rubric, lambda: grader.grade_sync(q, [t])) for q, t in answers]
    return Figures(load_s, statistics.mean(tokens), per, warm_cov, warm_grade)


def _rate(n: int, times: list[float]) -> str:
    return f"{n / sum(times):6.2f} answers/s  (median {statistics.median(times) * 1000:.0f} ms, " \
           f"max {max(times) * 1000:.0f} ms)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--role", default="mlops-engineer")
    ap.add_argument("--no-baseline", action="store_true", help="skip the slow numpy baseline")
    args = ap.parse_args()
    bank = load_role(args.role)
    questions = list(bank.questions)
    answers = realistic_answers(questions)
    words = [len(t.text.split()) for _, t in answers]
    n = len(answers)
    print(f"role {bank.role}: {len(questions)} questions, {n} answers, "
          f"{statistics.mean(words):.0f} words per answer (min {min(words)}, max {max(words)})")
    now = measure(answers, questions, EmbedderOptions(), ContentOptions(), cold=True)
    backend = load_embedder(EmbedderOptions()).backend
    print(f"default ({backend} backend): model load {now.load_s:.2f} s, "
          f"{now.tokens_per_answer:.0f} word pieces embedded per answer")
    print(f"  grade, cold (rubric uncached): {_rate(n, now.cold)}")
    print(f"  coverage, warm:                {_rate(n, now.warm_cov)}")
    print(f"  grade, warm:                   {_rate(n, now.warm_grade)}")
    if args.no_baseline:
        return
    base = measure(answers, questions, EmbedderOptions(backend="numpy", batch_size=32), BASELINE_CONTENT,
                   cold=False)
    print(f"baseline (numpy backend, denser units): model load {base.load_s:.2f} s, "
          f"{base.tokens_per_answer:.0f} word pieces embedded per answer")
    print(f"  grade, warm:                   {_rate(n, base.warm_grade)}")
    print(f"speed-up, grade warm: {sum(base.warm_grade) / sum(now.warm_grade):.1f}x")


if __name__ == "__main__":
    main()
