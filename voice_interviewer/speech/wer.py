"""Word error rate, for benchmarks and accuracy tests of the speech layer.

Text is normalised the simple, documented way (lower case, punctuation removed,
hyphens split words) so that the figure measures recognition, not formatting.
"""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"[^\w'\s]+|(?<!\w)'|'(?!\w)")


def normalize(text: str) -> list[str]:
    """Lower-cased words without punctuation ("Cold-hearted." → ["cold", "hearted"])."""
    return _NON_WORD.sub(" ", text.lower()).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Substitutions + deletions + insertions turning ``ref`` into ``hyp``."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one hypothesis (0 is perfect; can exceed 1 with insertions)."""
    ref = normalize(reference)
    return edit_distance(ref, normalize(hypothesis)) / max(1, len(ref))


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    """Total errors over total reference words, for ``(reference, hypothesis)`` pairs."""
    errors = sum(edit_distance(normalize(r), normalize(h)) for r, h in pairs)
    return errors / max(1, sum(len(normalize(r)) for r, _ in pairs))


def inserted_words(reference: str, hypothesis: str) -> list[str]:
    """Hypothesis words with nothing under them in the reference, on one minimal alignment.

    Invented text (Whisper's "Thank you." over a pause) shows up here, while a misheard word is
    a substitution and does not: the measure of phantom words, not of accuracy.
    """
    ref, hyp = normalize(reference), normalize(hypothesis)
    # cost[i][j]: edits turning ref[:i] into hyp[:j]
    cost = [[i + j if i == 0 or j == 0 else 0 for j in range(len(hyp) + 1)] for i in range(len(ref) + 1)]
    for i in range(1, len(ref) + 1):
        for j in range(1, len(hyp) + 1):
            cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1,
                             cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    inserted, i, j = [], len(ref), len(hyp)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            i, j = i - 1, j - 1
        elif j > 0 and cost[i][j] == cost[i][j - 1] + 1:
            inserted.append(hyp[j - 1])
            j -= 1
        else:
            i -= 1
    return inserted[::-1]
