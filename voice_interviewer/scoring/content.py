"""Key-point coverage: did the answer say each thing a strong answer says, and where?

Two signals per key point, combined:

* **lexical**: the key point's phrasings (and, more weakly, its statement) found
  in the answer after stemming, in any order, with a few words inserted. Words
  the question itself contains count for little: echoing "drift" back to a
  question about drift shows nothing.
* **semantic**: MiniLM cosine between answer units (sentences, clauses, and
  sliding windows of a few words, because spoken answers run on without full
  stops) and the key point's statement and phrasings. The part of the
  similarity that the question alone already explains is subtracted, so an
  answer that restates the question scores below one that says something.

A key point whose term is named but whose surrounding words say nothing about it
is ``partial`` and capped below the coverage threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..bank import KeyPoint, Question
from ..transcript import Transcript, Word
from .embed import Embedder, get_embedder
from .feedback import Evidence, KeyPointResult
from .text import Span, Token, clauses, clean_text, filler_mask, is_content, sentences, tokenize, windows


@dataclass(frozen=True)
class ContentOptions:
    """Coverage tuning.

    Attributes:
        covered_threshold: Strength (0..1) at which a key point counts as covered.
        sem_floor: Question-adjusted cosine at or below which a unit is no evidence at all.
        sem_full: Question-adjusted cosine at which a unit fully makes the point.
        question_echo: How much of the question's own similarity to a key point is removed (0..1).
        window_words: Words per sliding window over long sentences.
        window_stride: Words between window starts.
        max_unit_words: Longest sentence or clause embedded whole once it also has windows.
        long_window_stride: Words between window starts in a sentence longer than max_unit_words
            (its short clauses already give units across window edges).
        lexical_slack_words: Extra words allowed between the words of a phrasing.
        echo_word_weight: Weight of a phrasing word that the question already contains.
        partial_cap: Highest strength of a point that is named but not explained.
        explained_sem: Semantic strength above which a named point counts as explained.
        short_answer_words: Content words below which the content score is scaled down.
        min_unit_words: Content words a unit needs before its similarity counts in full.
        exclusivity: How much a unit's lead for its best key point lowers its similarity to the others.
        explaining_words: Other content words in the sentence of a named term that count as explaining it.
        evidence_min_strength: Below this strength no evidence span is reported (it would mislead).
    """

    covered_threshold: float = 0.5
    sem_floor: float = 0.22
    sem_full: float = 0.55
    question_echo: float = 1.0
    window_words: int = 12
    window_stride: int = 8
    max_unit_words: int = 24
    long_window_stride: int = 12
    lexical_slack_words: int = 3
    echo_word_weight: float = 0.3
    partial_cap: float = 0.4
    explained_sem: float = 0.35
    short_answer_words: int = 8
    min_unit_words: int = 5
    exclusivity: float = 0.3
    evidence_min_strength: float = 0.25
    explaining_words: int = 4


@dataclass
class Analysis:
    """One answer text cut into tokens and units, ready to match any number of key points."""

    text: str
    tokens: list[Token]
    fillers: list[bool]
    units: list[Span]
    unit_texts: list[str]
    content_idx: list[int] = field(default_factory=list)  # token indices of content words
    sentence_of: list[int] = field(default_factory=list)  # sentence number of each token

    @property
    def content_words(self) -> int:
        return len(self.content_idx)


def analyse(text: str, options: ContentOptions = ContentOptions()) -> Analysis:
    """Tokens, filler mask and the matching units (sentences, clauses, windows) of ``text``."""
    tokens = tokenize(text)
    fillers = filler_mask(text, tokens)
    index = {t.start: i for i, t in enumerate(tokens)}
    seen: set[tuple[int, int]] = set()
    units: list[Span] = []
    unit_texts: list[str] = []

    def add(span: Span) -> None:
        words = [t for t in span.tokens if not fillers[index[t.start]]]
        if not words or (span.start, span.end) in seen:
            return
        seen.add((span.start, span.end))
        trimmed = Span(words[0].start, words[-1].end, span.tokens)
        units.append(trimmed)
        unit_texts.append(clean_text(text, span.tokens, [fillers[index[t.start]] for t in span.tokens]))

    def spoken(span: Span) -> list[Token]:
        return [t for t in span.tokens if not fillers[index[t.start]]]

    # Embedding cost grows with the words embedded, so each word should sit in few
    # units: a run-on sentence is represented by its short clauses and windows, not
    # also by itself (a long unit's vector is diluted anyway).
    for sent in sentences(text, tokens):
        said = spoken(sent)
        windowed = len(said) > options.window_words + 4
        if not windowed or len(said) <= options.max_unit_words:
            add(sent)
        parts = clauses(text, sent)
        if len(parts) > 1:
            for part in parts:
                if not windowed or len(spoken(part)) <= options.max_unit_words:
                    add(part)
        if windowed:
            stride = options.window_stride if len(said) <= options.max_unit_words else options.long_window_stride
            for w in windows(said, options.window_words, stride):
                add(w)
    content_idx = [i for i, t in enumerate(tokens) if not fillers[i] and is_content(t)]
    sentence_of = [0] * len(tokens)
    for n, sent in enumerate(sentences(text, tokens)):
        for t in sent.tokens:
            sentence_of[index[t.start]] = n
    return Analysis(text, tokens, fillers, units, unit_texts, content_idx, sentence_of)


def _stems(text: str) -> list[str]:
    toks = tokenize(text)
    content = [t.stem for t in toks if is_content(t)]
    return list(dict.fromkeys(content or [t.stem for t in toks]))


def _explains(phrase: str, question_stems: set[str]) -> bool:
    """Whether a phrasing says something by itself (not a bare term, not the question's own words).

    A bare term ("PSI") embeds close to any clause that merely names it, and a
    phrasing made of the question's words matches any echo of the question, so
    neither is used as semantic evidence; both still count lexically.
    """
    stems = _stems(phrase)
    return len(stems) >= 3 and not set(stems) <= question_stems


def _lexical(phrase: list[str], a: Analysis, question_stems: set[str], slack: int,
             echo_weight: float) -> tuple[float, int, int]:
    """Best weighted fraction of ``phrase`` stems found close together; and the token range found."""
    if not phrase or not a.content_idx:
        return 0.0, -1, -1
    weights = {s: (echo_weight if s in question_stems else 1.0) for s in phrase}
    total = float(len(phrase))
    wanted = set(phrase)
    span_len = len(phrase) + slack
    stems = [a.tokens[i].stem for i in a.content_idx]
    sent = [a.sentence_of[i] for i in a.content_idx]
    best = (0.0, -1, -1)
    for p, s in enumerate(stems):
        if s not in wanted:
            continue
        found: set[str] = set()
        last = p
        for q in range(p, min(len(stems), p + span_len)):
            if sent[q] != sent[p]:
                break
            if stems[q] in wanted and stems[q] not in found:
                found.add(stems[q])
                last = q
        score = sum(weights[x] for x in found) / total
        if len(found) == 1 and len(phrase) > 1:
            score *= 0.5  # one word of a phrase ("new" of "new customer segment") is weak evidence
        if score > best[0]:
            best = (score, a.content_idx[p], a.content_idx[last])
    return best


_EDGE_WORDS = frozenset({"and", "so", "or", "but", "if", "then", "because", "the", "a", "an", "to", "of", "you",
                         "we", "i", "it", "is", "was", "when", "that", "with"})


def _trim(a: Analysis, start: int, end: int) -> tuple[int, int]:
    """Shrink a character range so it neither starts nor ends on a filler or a dangling little word."""
    inside = [i for i, t in enumerate(a.tokens) if t.start >= start and t.end <= end and not a.fillers[i]]
    while len(inside) > 3 and a.tokens[inside[0]].text in _EDGE_WORDS:
        inside.pop(0)
    while len(inside) > 3 and a.tokens[inside[-1]].text in _EDGE_WORDS:
        inside.pop()
    if not inside:
        return start, end
    return a.tokens[inside[0]].start, a.tokens[inside[-1]].end


def word_char_ranges(text: str, words: Sequence[Word]) -> list[tuple[int, int]]:
    """Character range of each timed word in ``text`` (words found in order; -1 when not found)."""
    out: list[tuple[int, int]] = []
    cursor = 0
    lowered = text.lower()
    for w in words:
        needle = w.text.strip().lower().strip(".,!?;:\"'()")
        pos = lowered.find(needle, cursor) if needle else -1
        if pos < 0 or pos - cursor > 40 + len(needle) * 4:
            out.append((-1, -1))
            continue
        out.append((pos, pos + len(needle)))
        cursor = pos + len(needle)
    return out


def evidence_for(transcript: Transcript, start: int, end: int,
                 ranges: list[tuple[int, int]] | None = None) -> Evidence:
    """Quote, offsets and (when spoken) the start/end seconds of the words in ``[start, end)``."""
    start_s = end_s = None
    if transcript.words:
        ranges = ranges if ranges is not None else word_char_ranges(transcript.text, transcript.words)
        hits = [w for w, (a, b) in zip(transcript.words, ranges) if a >= 0 and b > start and a < end]
        if hits:
            start_s, end_s = round(hits[0].start_s, 3), round(hits[-1].end_s, 3)
    return Evidence(transcript.text[start:end], start, end, start_s, end_s)


class ContentScorer:
    """Matches a question's key points against an answer transcript."""

    def __init__(self, options: ContentOptions = ContentOptions(), embedder: Embedder | None = None):
        self.options = options
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    def key_points(self, question: Question, transcript: Transcript) -> tuple[KeyPointResult, ...]:
        """Coverage of every key point, in rubric order."""
        o = self.options
        a = analyse(transcript.text, o)
        if not a.units:
            return tuple(KeyPointResult(kp.id, kp.statement, kp.weight, False, 0.0) for kp in question.key_points)
        question_stems = set(_stems(question.text))
        targets: list[str] = []
        owner: list[int] = []
        for k, kp in enumerate(question.key_points):
            for t in (kp.statement, *kp.phrasings):
                if t is kp.statement or _explains(t, question_stems):
                    targets.append(t)
                    owner.append(k)
        vecs = self.embedder.embed([question.text, *targets, *a.unit_texts])
        qv, tv, uv = vecs[0], vecs[1:1 + len(targets)], vecs[1 + len(targets):]
        raw = uv @ tv.T                                   # units x targets
        echo = np.outer(uv @ qv, tv @ qv) * o.question_echo
        unit_words = np.array([sum(1 for t in u.tokens if is_content(t)) for u in a.units], dtype=np.float32)
        adjusted = (raw - echo) * np.minimum(1.0, unit_words / o.min_unit_words)[:, None] ** 0.5
        ranges = word_char_ranges(transcript.text, transcript.words) if transcript.words else None
        owners = np.array(owner)
        per_kp = np.stack([adjusted[:, owners == k].max(axis=1) for k in range(len(question.key_points))], axis=1)
        # A unit that plainly makes one point is weaker evidence for its neighbours
        # ("data drift is ..." should not half-cover concept drift).
        per_kp = per_kp - o.exclusivity * (per_kp.max(axis=1, keepdims=True) - per_kp)
        results = []
        for k, kp in enumerate(question.key_points):
            per_unit = per_kp[:, k]
            best_u = int(per_unit.argmax())
            # Prefer the shortest unit that is nearly as good: a tight quote beats a paragraph.
            near = [u for u in range(len(a.units)) if per_unit[u] >= per_unit[best_u] - 0.03]
            best_u = min(near, key=lambda u: (a.units[u].end - a.units[u].start, -per_unit[u]))
            sem = float(np.clip((per_unit[best_u] - o.sem_floor) / (o.sem_full - o.sem_floor), 0.0, 1.0))
            results.append(self._combine(kp, a, transcript, sem, best_u, question_stems, ranges))
        return tuple(results)

    def _combine(self, kp: KeyPoint, a: Analysis, transcript: Transcript, sem: float, best_u: int,
                 question_stems: set[str], ranges: list[tuple[int, int]] | None) -> KeyPointResult:
        o = self.options
        lex, lex_a, lex_b, lex_terms = 0.0, -1, -1, set()
        for phrase in kp.phrasings:
            stems = _stems(phrase)
            score, i, j = _lexical(stems, a, question_stems, o.lexical_slack_words, o.echo_word_weight)
            if score > lex or (score == lex and score > 0 and len(stems) > len(lex_terms)):
                lex, lex_a, lex_b, lex_terms = score, i, j, set(stems)
        st_stems = [s for s in _stems(kp.statement) if s not in question_stems]
        st_score, si, sj = _lexical(st_stems, a, question_stems, len(st_stems) + 4, o.echo_word_weight)
        st_lex = float(np.clip((st_score - 0.25) / 0.5, 0.0, 1.0)) * 0.8
        if st_lex > lex:
            lex, lex_a, lex_b, lex_terms = st_lex, si, sj, set(st_stems)
        lex_len = len(lex_terms)
        strength = 1.0 - (1.0 - 0.85 * lex) * (1.0 - sem)
        named = lex >= 0.99 or (lex >= 0.6 and lex_len <= 2)
        explained = sem >= o.explained_sem or (lex >= 0.8 and lex_len >= 3) or (
            lex_a >= 0 and self._context_words(a, lex_a, lex_terms, question_stems) >= o.explaining_words)
        partial = named and not explained
        if partial:
            strength = min(strength, o.partial_cap)
        strength = round(float(np.clip(strength, 0.0, 1.0)), 4)
        if strength < o.evidence_min_strength and not partial:
            return KeyPointResult(kp.id, kp.statement, kp.weight, False, strength, None, False)
        if lex * 0.85 > sem and lex_a >= 0:
            start, end = self._lexical_quote(a, lex_a, lex_b)
        else:
            start, end = a.units[best_u].start, a.units[best_u].end
        start, end = _trim(a, start, end)
        covered = strength >= o.covered_threshold
        return KeyPointResult(kp.id, kp.statement, kp.weight, covered, strength,
                              evidence_for(transcript, start, end, ranges), partial)

    @staticmethod
    def _context_words(a: Analysis, i: int, term: set[str], question_stems: set[str]) -> int:
        """Content words said with a named term: same sentence, not the term, not the question's words."""
        n = a.sentence_of[i]
        return len({a.tokens[k].stem for k in a.content_idx
                    if a.sentence_of[k] == n and a.tokens[k].stem not in term | question_stems})

    def _lexical_quote(self, a: Analysis, i: int, j: int) -> tuple[int, int]:
        """The clause around a lexical match, or the match itself when no clause is short enough."""
        start, end = a.tokens[i].start, a.tokens[j].end
        around = [u for u in a.units if u.start <= start and u.end >= end]
        if around:
            unit = min(around, key=lambda u: u.end - u.start)
            if len(unit.tokens) <= 25:
                return unit.start, unit.end
        return start, end


def content_score(results: Sequence[KeyPointResult], analysis_words: int,
                  options: ContentOptions = ContentOptions()) -> float:
    """Weighted mean strength, scaled down for answers too short to have explained anything."""
    total = sum(k.weight for k in results)
    if total <= 0:
        return 0.0
    raw = sum(k.weight * min(1.0, k.strength / 0.85) for k in results) / total
    length = min(1.0, (analysis_words / options.short_answer_words) ** 0.5) if analysis_words else 0.0
    return round(raw * length, 4)
