"""Text handling for scoring: tokens with character offsets, stems, fillers, clauses, windows.

Everything keeps offsets into the original transcript text, because feedback
quotes the candidate and playback jumps to the quoted words. Fillers stay in the
transcript (delivery counts them); the content matcher skips them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?%?")
_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n+")
_CLAUSE_BREAK = re.compile(r",\s+(?=(?:and|but|so|because|which|then|where|while|whereas|or)\b)|[:—–]\s*|\s-\s")

STOPWORDS = frozenset("""
a an the and or but so if then than that this these those there their them they it its it's is are was were be
been being am do does did doing have has had having i me my we our us you your he she his her of to in on at by
for with from as into about over under up down out off just very really quite also too can could would should
will shall may might must not no yes what which who whom whose when where why how all any some each every both
one ones thing things stuff lot lots get got make made go going gonna want wanna like um uh er ah erm hmm mm
basically actually kind sort mean know yeah okay ok well maybe probably pretty much more most other such own
same only even still already again here now first second let's let use used using way ways something
i'd i'll i'm i've we'd we'll we're we've you'd you'll you're you've they'd they'll they're they've he's she's
that's there's what's it'll
""".split())

ALWAYS_FILLERS = frozenset({"um", "uh", "er", "ah", "erm", "uhm", "umm", "hmm", "mm", "uh-huh"})
_LIKE_NOT_FILLER_BEFORE = frozenset("""
i you we they he she it who to would 'd do does did don't didn't doesn't would've looks look looked seems seem
seemed sounds sound feel feels felt something things anything nothing everything stuff more much just exactly
really also not i'd you'd we'd they'd
""".split())
_DISCOURSE_BEFORE = frozenset({"and", "so", "but", "or", "um", "uh", "er", "ah", "was", "were", "it's", "is"})
_YOU_KNOW_NOT_BEFORE = frozenset({"do", "did", "don't", "didn't", "if", "as", "would", "you'd", "let", "to"})
_YOU_KNOW_NOT_AFTER = frozenset({"what", "how", "that", "why", "when", "where", "if", "whether", "which", "who",
                                 "the", "it", "about", "them", "him", "her"})
_I_MEAN_NOT_AFTER = frozenset({"that", "it", "to", "what", "when", "by", "this"})
_KIND_NOT_BEFORE = frozenset({"a", "the", "this", "that", "what", "which", "any", "some", "every", "one", "same",
                              "different", "each", "no", "another", "these", "those", "all", "certain", "its",
                              "our", "their", "my", "your", "new", "whatever", "right", "wrong"})


@dataclass(frozen=True)
class Token:
    """One word of the text: lower-case form, stem, and ``[start, end)`` character offsets."""

    text: str
    stem: str
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """A stretch of the text (sentence, clause or window) with its offsets and tokens."""

    start: int
    end: int
    tokens: tuple[Token, ...]

    def quote(self, source: str) -> str:
        return source[self.start:self.end]


_SUFFIXES = (
    ("ational", "ate"), ("ization", "ize"), ("isation", "ize"), ("fulness", "ful"), ("iveness", "ive"),
    ("ousness", "ous"), ("ations", "ate"), ("ation", "ate"), ("ments", ""), ("ment", ""), ("ities", ""),
    ("ity", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"), ("ers", ""), ("er", ""), ("edly", ""),
    ("ed", ""), ("ly", ""), ("es", ""), ("s", ""),
)


_ACRONYM_PLURAL = re.compile(r"^[A-Z]{2,}s$")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A small suffix-stripping stemmer: consistent, not linguistically perfect.

    Both the rubric and the answer go through the same function, so "monitoring",
    "monitored" and "monitors" meet at "monitor"; that is all matching needs.
    Cached: a grade stems the same rubric and answer words many times.
    """
    if _ACRONYM_PLURAL.match(word):  # "IDs", "GPUs", "LLMs" meet "ID", "GPU", "LLM"
        return word[:-1].lower()
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3 or w.isdigit():
        return w
    for suffix, repl in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: len(w) - len(suffix)] + repl
            if suffix in ("ing", "ed", "er", "ers", "ings") and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def tokenize(text: str) -> list[Token]:
    """Words with offsets (numbers and percentages kept: "reduced by 30%" is evidence)."""
    return list(_tokens(text))


@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[Token, ...]:
    """Cached: a grade tokenizes the same rubric texts (statements, phrasings, wordings of
    misconceptions) for every answer, and the same answer text in several places."""
    return tuple(Token(m.group(0).lower().replace("’", "'"), stem(m.group(0)), m.start(), m.end())
                 for m in _TOKEN.finditer(text))


def is_content(token: Token) -> bool:
    return token.text not in STOPWORDS and len(token.text) > 1 or token.text.isdigit()


def _boundary_between(text: str, a: Token | None, b: Token | None) -> bool:
    """True when punctuation (or the start/end of text) separates two tokens."""
    if a is None or b is None:
        return True
    return bool(re.search(r"[,.;:!?—–]", text[a.end:b.start]))


def find_fillers(text: str, tokens: Sequence[Token] | None = None) -> list[tuple[str, int, int]]:
    """Filler words and phrases as ``(filler, first_token_index, last_token_index)``.

    "um"/"uh" are always fillers; "like", "you know", "I mean", "sort of", "kind of"
    only where they carry no meaning ("I like Python", "what kind of model", "do you
    know how" are content), judged from neighbouring words and punctuation.
    """
    toks = list(tokens) if tokens is not None else tokenize(text)
    out: list[tuple[str, int, int]] = []
    n = len(toks)
    i = 0
    while i < n:
        w = toks[i].text
        prev = toks[i - 1] if i > 0 else None
        nxt = toks[i + 1] if i + 1 < n else None
        after = toks[i + 2] if i + 2 < n else None
        if w in ALWAYS_FILLERS:
            out.append((w, i, i))
        elif w == "like":
            cut_before = _boundary_between(text, prev, toks[i])
            cut_after = _boundary_between(text, toks[i], nxt)
            prev_w = prev.text if prev else ""
            if prev_w in _LIKE_NOT_FILLER_BEFORE and not cut_before:
                pass
            elif cut_before and cut_after:
                out.append(("like", i, i))
            elif cut_after and prev_w in _DISCOURSE_BEFORE | ALWAYS_FILLERS:
                out.append(("like", i, i))
            elif (cut_before or prev_w in _DISCOURSE_BEFORE | ALWAYS_FILLERS) and nxt is not None and (
                    nxt.text in ALWAYS_FILLERS or nxt.text == "like" or cut_after):
                out.append(("like", i, i))
            elif prev_w in ("and", "so", "but", "um", "uh") and nxt is not None and nxt.text in (
                    "we", "i", "you", "they", "it", "the", "a", "if", "when"):
                out.append(("like", i, i))
        elif w == "you" and nxt is not None and nxt.text == "know" and not _boundary_between(text, toks[i], nxt):
            before_ok = prev is None or prev.text not in _YOU_KNOW_NOT_BEFORE or _boundary_between(text, prev, toks[i])
            after_ok = after is None or after.text not in _YOU_KNOW_NOT_AFTER or _boundary_between(text, nxt, after)
            if before_ok and after_ok:
                out.append(("you know", i, i + 1))
                i += 2
                continue
        elif w == "i" and nxt is not None and nxt.text == "mean" and not _boundary_between(text, toks[i], nxt):
            if after is None or after.text not in _I_MEAN_NOT_AFTER or _boundary_between(text, nxt, after):
                out.append(("I mean", i, i + 1))
                i += 2
                continue
        elif w in ("sort", "kind") and nxt is not None and nxt.text == "of":
            if prev is None or prev.text not in _KIND_NOT_BEFORE or _boundary_between(text, prev, toks[i]):
                out.append((f"{w} of", i, i + 1))
                i += 2
                continue
        i += 1
    return out


def filler_mask(text: str, tokens: Sequence[Token]) -> list[bool]:
    """Per token: True when it belongs to a filler (the content matcher skips these)."""
    mask = [False] * len(tokens)
    for _, a, b in find_fillers(text, tokens):
        for j in range(a, b + 1):
            mask[j] = True
    return mask


def _spans_by(pattern: re.Pattern[str], text: str, start: int, end: int, tokens: Sequence[Token]) -> list[Span]:
    spans: list[Span] = []
    cursor = start
    for m in list(pattern.finditer(text, start, end)) + [None]:
        stop = m.start() if m is not None else end
        inner = [t for t in tokens if t.start >= cursor and t.end <= stop]
        if inner:
            spans.append(Span(inner[0].start, inner[-1].end, tuple(inner)))
        if m is not None:
            cursor = m.end()
    return spans


def sentences(text: str, tokens: Sequence[Token]) -> list[Span]:
    return _spans_by(_SENTENCE_END, text, 0, len(text), tokens)


def clauses(text: str, sentence: Span) -> list[Span]:
    return _spans_by(_CLAUSE_BREAK, text, sentence.start, sentence.end, sentence.tokens)


def windows(tokens: Sequence[Token], size: int, stride: int) -> list[Span]:
    """Sliding windows of ``size`` tokens: long run-on spoken sentences still get local units."""
    if len(tokens) <= size:
        return [Span(tokens[0].start, tokens[-1].end, tuple(tokens))] if tokens else []
    out: list[Span] = []
    for s in range(0, len(tokens) - size + stride, stride):
        chunk = tokens[s:s + size]
        if len(chunk) < size // 2 and out:
            break
        out.append(Span(chunk[0].start, chunk[-1].end, tuple(chunk)))
    return out


def clean_text(text: str, tokens: Sequence[Token], skip: Sequence[bool]) -> str:
    """The words of a span without fillers, for embedding (fillers only add noise to a vector)."""
    return " ".join(t.text for t, s in zip(tokens, skip) if not s)
