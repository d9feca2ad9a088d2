"""Which words of an answer are *names* (tools, jargon) rather than explanation.

"Covered means explained": an answer earns a key point by saying what something does,
how or why, not by naming it. The semantic matcher therefore compares meaning with
the names masked on both sides (rubric and answer), so that similarity has to come
from the words around them. A bare list of the right tools then embeds as almost
nothing, while "each training row gets the feature values as they were at the label's
timestamp" keeps all of its meaning. Naming still counts, lexically, as a *partial*
point (see ``content.py``).

A name is any of:

* a term the bank lists: its ``vocabulary`` and every key-point phrasing of one to
  three words with no little words inside ("model registry", "KS test", "PSI");
* a word written like a name in the answer: an acronym ("GPU", "PSI"), a word with
  inner capitals ("MLflow", "DynamoDB") or a capitalised word that does not start a
  sentence ("Feast", "Redis") — so tools the bank never heard of are masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .text import STOPWORDS, Token, tokenize

MAX_TERM_WORDS = 3
_SENTENCE_START = re.compile(r"(?:^|[.!?;:]\s+|\n)\s*[\"'(]*$")
_NAME_LIKE = re.compile(r"^(?:[A-Z]{2,}[a-z]?s?|[A-Za-z]+[A-Z][A-Za-z0-9]*|[A-Z][a-z0-9]+)$")


def _written_like_a_name(word: str) -> bool:
    """An acronym, inner capitals, a digit or a hyphenated compound: "PSI", "MLflow", "p99", "point-in-time"."""
    core = word.strip(".,;:()\"'")
    return bool(core) and (bool(_NAME_LIKE.match(core)) and not (core[0].isupper() and core[1:].islower())
                           or "-" in core.strip("-") or any(c.isdigit() for c in core))


GENERIC_BUZZWORDS: tuple[str, ...] = (
    "ecosystem", "end to end", "end-to-end", "holistic", "robust", "robustness", "seamless", "seamlessly",
    "scalable", "scalability", "best practice", "best practices", "leverage", "leveraging", "governance",
    "observability", "paradigm", "mature", "maturity", "modern", "enterprise", "enterprise-grade",
    "production-grade", "fundamental", "key", "strategy", "strategies", "framework", "frameworks",
    "stack", "solution", "solutions", "unified", "streamlined", "cutting-edge", "state-of-the-art",
    "world-class", "synergy", "alignment", "journey", "pillar", "pillars", "capability", "capabilities",
    "comprehensive", "reliability", "efficiency", "agility", "innovation", "transformation", "visibility",
    "operationalise", "operationalize", "operationalising", "operationalizing", "convergence", "lifecycle",
    "workflow", "workflows", "tooling", "platform", "platforms", "architecture", "architectural",
    "industry standard", "out of the box", "single pane of glass", "first-class", "at scale", "trustworthy",
    "responsible", "democratise", "democratize", "accelerate", "empower", "optimise", "optimize", "optimised",
    "optimized", "orchestration", "automation", "automated", "consistency", "parity", "lineage",
    "reproducibility", "traceability", "compliance", "resilience", "resilient", "performant",
)
"""Words that sound like expertise in any answer and explain nothing by themselves. They count
as vocabulary, not explanation, when the scorer weighs how much of a stretch is names
(``content.py``); unlike a question's names they are never masked, so an explanation that
uses one keeps its meaning."""


def is_short_phrase(phrase: str) -> bool:
    """One to three words with no little word among them: how rubric jargon is written."""
    words = phrase.split()
    return 0 < len(words) <= MAX_TERM_WORDS and not any(w.lower() in STOPWORDS for w in words)


def is_term_phrase(phrase: str) -> bool:
    """A phrasing that only names something: one to three words, none of them little, at least
    one written like a name ("PSI", "KS test", "point-in-time join", "MLflow registry").

    Ordinary words ("monitoring", "latest values", "online store") are not names, even in a
    short phrasing: masking them would also remove them from every explanation that uses
    them. Names the bank spells in plain words belong in its ``vocabulary``.
    """
    words = phrase.split()
    if not 0 < len(words) <= MAX_TERM_WORDS or any(w.lower() in STOPWORDS for w in words):
        return False
    return any(_written_like_a_name(w) for w in words)


@dataclass(frozen=True)
class TermSet:
    """The stemmed term sequences of one question, indexed by first stem, longest first
    (so "KS test" beats "test")."""

    by_first: dict[str, tuple[tuple[str, ...], ...]]

    @classmethod
    def build(cls, terms: Iterable[str]) -> "TermSet":
        seqs = {tuple(t.stem for t in tokenize(term)) for term in terms}
        index: dict[str, list[tuple[str, ...]]] = {}
        for seq in sorted((s for s in seqs if s), key=len, reverse=True):
            index.setdefault(seq[0], []).append(seq)
        return cls({k: tuple(v) for k, v in index.items()})


@lru_cache(maxsize=256)
def term_set(terms: tuple[str, ...]) -> TermSet:
    """Cached :class:`TermSet` (a question's terms are the same on every grade)."""
    return TermSet.build(terms)


def _name_like(text: str, token: Token) -> bool:
    """Written like a name: acronym, inner capitals, or capitalised mid-sentence (never "I")."""
    word = text[token.start:token.end]
    if word in ("I", "I'm", "I'd", "I've", "I'll") or not _NAME_LIKE.match(word):
        return False
    if word[0].isupper() and word[1:].islower():
        return not _SENTENCE_START.search(text[max(0, token.start - 6):token.start])
    return True


def term_mask(text: str, tokens: Sequence[Token], terms: TermSet, spot_names: bool = True) -> list[bool]:
    """Per token: True when it is part of a name (a bank term, or written like one)."""
    mask = [False] * len(tokens)
    stems = [t.stem for t in tokens]
    i = 0
    while i < len(tokens):
        for seq in terms.by_first.get(stems[i], ()):
            n = len(seq)
            if tuple(stems[i:i + n]) == seq:
                for j in range(i, i + n):
                    mask[j] = True
                i += n - 1
                break
        i += 1
    if spot_names:
        for i, t in enumerate(tokens):
            if not mask[i] and _name_like(text, t):
                mask[i] = True
    return mask


def masked(text: str, terms: TermSet, spot_names: bool = True) -> str:
    """``text`` without its names, lower case, for embedding what is said *about* them."""
    tokens = tokenize(text)
    mask = term_mask(text, tokens, terms, spot_names)
    return " ".join(t.text for t, m in zip(tokens, mask) if not m)
