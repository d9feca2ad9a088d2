"""How fast the offline scorer grades: answers per second over a bank's worth of answers.

One answer per bank question (~120-200 words): the question's strong answer,
lengthened with spoken filler and a vague tail so it reads like speech, plus a
vague echo answer for every third question. Model load time is printed on its
own; ``coverage`` (what the follow-up policy calls after every answer) and the
full ``grade`` are timed separately, cold (nothing cached), in a new process that finds the
rubric vectors an earlier one stored on disk, and warm (rubric texts cached, as in a real
session: answers are new every time).

"grade, warm" is the product's speed, timed alone. Then, in the same run, alternating answer by
answer, a baseline is timed the way the scorer worked before the ONNX backend: the float32 numpy
forward pass in batches of 32 over the older, denser units (windows every 6 words over every clause
longer than 12 words). Ratios within one run are the figures to compare; the machine may be busy.
Alternation slows the default by about a third (numpy's threads and weights share the two cores and
their caches), so the alternated figure is printed apart and used only for the ratio.

    python bench/score_speed.py [--role mlops-engineer] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable

from voice_interviewer.bank import Question, load_role
from voice_interviewer.scoring.content import ContentOptions, ContentScorer, analyse
from voice_interviewer.scoring.embed import EmbedderOptions, load_embedder
from voice_interviewer.scoring.grader import OfflineGrader
from voice_interviewer.scoring.vector_cache import ENV_CACHE
from voice_interviewer.transcript import Transcript

TAIL = ("Um, and I mean in practice it depends on the team and the setup, you know, so we'd look at what we "
        "already have and, uh, start from there and improve it step by step.")
BASELINE_CONTENT = ContentOptions(window_stride=6, max_unit_words=12)


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


class Setup:
    """One scorer configuration with its own model and cache, warmed with every question's rubric."""

    def __init__(self, questions: list[Question], embed: EmbedderOptions, content: ContentOptions):
        t0 = time.perf_counter()
        self.embedder = load_embedder(embed)
        self.load_s = time.perf_counter() - t0
        self.content = content
        self.grader = OfflineGrader(content=content, scorer=ContentScorer(content, self.embedder))
        self.rubric: dict = {}
        self.questions = questions

    def tokens_per_answer(self, answers: list[tuple[Question, Transcript]]) -> float:
        return statistics.mean(sum(len(e.ids) for e in self.embedder.tokenizer.encode_batch(
            analyse(t.text, self.content).unit_texts)) for _, t in answers)

    def warm_up(self) -> None:
        self.embedder._cache.clear()
        for q in self.questions:  # a session embeds a question's rubric once
            self.grader.coverage(q, [Transcript("warm up")])
        self.rubric = dict(self.embedder._cache)

    def timed(self, call: Callable[[], object], keep_rubric: bool = True) -> float:
        if keep_rubric:  # keep only the rubric texts: an answer is never seen twice
            self.embedder._cache.clear()
            self.embedder._cache.update(self.rubric)
        s = time.perf_counter()
        call()
        return time.perf_counter() - s


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
    os.environ[ENV_CACHE] = tempfile.mkdtemp(prefix="rubric-vectors-")  # start with nothing on disk
    now = Setup(questions, EmbedderOptions(), ContentOptions())
    cold = [now.timed(lambda: now.grader.grade_sync(q, [t]), keep_rubric=False) for q, t in answers]
    restarted = Setup(questions, EmbedderOptions(), ContentOptions())  # a new process: vectors on disk
    stored = [restarted.timed(lambda: restarted.grader.grade_sync(q, [t]), keep_rubric=False) for q, t in answers]
    shutil.rmtree(os.environ.pop(ENV_CACHE), ignore_errors=True)
    now.warm_up()
    warm_cov = [now.timed(lambda: now.grader.coverage(q, [t])) for q, t in answers]
    print(f"default ({now.embedder.backend} backend): model load {now.load_s:.2f} s, "
          f"{now.tokens_per_answer(answers):.0f} word pieces embedded per answer")
    print(f"  grade, cold (rubric uncached): {_rate(n, cold)}")
    print(f"  grade, new process, rubric vectors on disk: {_rate(n, stored)}")
    print(f"  coverage, warm:                {_rate(n, warm_cov)}")
    # The product's speed: measured alone, because the numpy baseline's BLAS threads and 90 MB of
    # float32 weights slow whatever runs next on two cores (by a third here).
    warm = [now.timed(lambda: now.grader.grade_sync(q, [t])) for q, t in answers]
    print(f"  grade, warm:                   {_rate(n, warm)}")
    if args.no_baseline:
        return
    base = Setup(questions, EmbedderOptions(backend="numpy", batch_size=32), BASELINE_CONTENT)
    base.warm_up()
    warm_now, warm_base = [], []
    for q, t in answers:  # alternate, so a change in machine load hits both alike
        warm_base.append(base.timed(lambda: base.grader.grade_sync(q, [t])))
        warm_now.append(now.timed(lambda: now.grader.grade_sync(q, [t])))
    print(f"  grade, warm, alternated with the baseline: {_rate(n, warm_now)}")
    print(f"baseline (numpy backend, denser units): model load {base.load_s:.2f} s, "
          f"{base.tokens_per_answer(answers):.0f} word pieces embedded per answer")
    print(f"  grade, warm:                   {_rate(n, warm_base)}")
    print(f"speed-up, grade warm (same answers, alternated): {sum(warm_base) / sum(warm_now):.1f}x")


if __name__ == "__main__":
    main()
