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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..bank import KeyPoint, Question, per_question
from ..transcript import Transcript, word_char_ranges
from .embed import Embedder, get_embedder
from .feedback import PARTIAL_MIN_STRENGTH, Evidence, KeyPointResult
from .misconceptions import MisconceptionHit, MisconceptionOptions, claim_texts, find_misconceptions
from .reference import is_reference_question
from .terms import GENERIC_BUZZWORDS, TermSet, is_short_phrase, is_term_phrase, masked, term_mask, term_set
from .text import Span, Token, clauses, clean_text, filler_mask, is_content, sentences, tokenize, windows
from .vector_cache import load_or_embed


@dataclass(frozen=True)
class ContentOptions:
    """Coverage tuning.

    Attributes:
        covered_threshold: Strength (0..1) at which a key point counts as covered.
        sem_floor: Question-adjusted cosine at or below which a unit is no evidence at all.
        sem_full: Question-adjusted cosine at which a unit fully makes the point.
        question_echo: How much of the question's own similarity to a key point is removed (0..1).
        window_words: Words per window over a clause too long to embed whole.
        window_stride: Words between window starts (``window_words``: windows do not overlap).
        max_unit_words: Longest sentence or clause embedded whole; a longer one is cut into windows.
        lexical_slack_words: Extra words allowed between the words of a phrasing.
        echo_word_weight: Weight of a phrasing word that the question already contains.
        explained_sem: Semantic strength (names masked) at which a point counts as explained.
        named_cap: Highest strength of a point that is not explained, however fully it is named.
        named_credit: Strength per unit of naming for a point that is not explained.
        named_lexical: Lexical score at which a one- or two-word term counts as named.
        named_boost: How much naming adds to an explained point's strength.
        short_answer_words: Content words below which the content score is scaled down.
        min_unit_words: Content words (names masked) a unit needs before its similarity counts in full.
        exclusivity: How much a unit's lead for its best key point lowers its similarity to the others.
        evidence_min_strength: Below this strength no evidence span is reported (it would mislead).
        quote_tolerance: Similarity a shorter unit may give up and still be the quote.
        max_quote_words: Longest clause quoted around a lexical match.
        statement_slack_words: Extra words allowed between the statement's words in a lexical match.
        statement_recall_floor: Share of the statement's words found below which it counts nothing.
        statement_recall_span: Share above the floor at which the statement counts in full.
        statement_lexical_weight: Weight of the statement's words against a phrasing's.
        names_free_share: Share of a unit's content words that may be names at no cost.
        names_full_share: Share of names at which a unit's similarity is cut by ``names_penalty``.
        names_penalty: Largest cut of a unit's similarity for being mostly names.
        full_credit_strength: Strength that earns a point's full credit.
        incorrect_penalty: Credit (negative) of a point whose misconception was stated.
        incorrect_min_share: Least share of the whole content score a stated misconception costs,
            however light its point: an interviewer who hears a confident wrong idea doubts the rest.
        vocabulary_free_share: Share of an answer's content words that may be names and buzzwords
            at no cost (strong answers in people's own words stay under about 0.3).
        vocabulary_full_share: Share at which the content score is cut by ``vocabulary_cut``.
        vocabulary_cut: Largest cut of the content score for an answer made of vocabulary.
    """

    covered_threshold: float = 0.5
    sem_floor: float = 0.3
    sem_full: float = 0.65
    question_echo: float = 1.0
    window_words: int = 12
    window_stride: int = 12
    max_unit_words: int = 24
    lexical_slack_words: int = 3
    echo_word_weight: float = 0.3
    explained_sem: float = 0.35
    named_cap: float = 0.25
    named_credit: float = 0.25
    named_lexical: float = 0.6
    named_boost: float = 0.5
    short_answer_words: int = 8
    min_unit_words: int = 5
    exclusivity: float = 0.3
    evidence_min_strength: float = 0.25
    quote_tolerance: float = 0.03
    max_quote_words: int = 25
    statement_slack_words: int = 4
    statement_recall_floor: float = 0.25
    statement_recall_span: float = 0.5
    statement_lexical_weight: float = 0.8
    names_free_share: float = 0.25
    names_full_share: float = 0.6
    names_penalty: float = 0.7
    full_credit_strength: float = 0.85
    incorrect_penalty: float = 1.0
    incorrect_min_share: float = 0.25
    vocabulary_free_share: float = 0.3
    vocabulary_full_share: float = 0.6
    vocabulary_cut: float = 0.5


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
    masked_texts: list[str] = field(default_factory=list)  # unit texts without names (terms.py)
    masked_words: list[int] = field(default_factory=list)  # content words per unit, names not counted
    unit_words: list[int] = field(default_factory=list)  # content words per unit, names counted
    kinds: list[str] = field(default_factory=list)  # "sentence", "clause" or "window", per unit
    plain_words: list[int] = field(default_factory=list)  # content words per unit that are not jargon
    vocabulary_words: int = 0  # content words of the whole answer that are names or buzzwords

    @property
    def content_words(self) -> int:
        return len(self.content_idx)

    @property
    def vocabulary_share(self) -> float:
        """Share of the answer's content words that are names and buzzwords rather than explanation."""
        return self.vocabulary_words / self.content_words if self.content_words else 0.0


def analyse(text: str, options: ContentOptions = ContentOptions(), terms: TermSet | None = None,
            jargon: TermSet | None = None) -> Analysis:
    """Tokens, filler mask and the matching units (sentences, clauses, windows) of ``text``.

    With ``terms``, each unit also gets its text with the names masked (``terms.py``);
    without, the masked text is the plain text. ``jargon`` (names plus the rubric's short
    phrasings) decides how much of each unit is vocabulary rather than explanation.
    """
    tokens = tokenize(text)
    fillers = filler_mask(text, tokens)
    names = term_mask(text, tokens, terms) if terms is not None else [False] * len(tokens)
    lingo = term_mask(text, tokens, jargon) if jargon is not None else names
    index = {t.start: i for i, t in enumerate(tokens)}
    seen: set[tuple[int, int]] = set()
    units: list[Span] = []
    unit_texts: list[str] = []
    masked_texts: list[str] = []
    masked_words: list[int] = []
    unit_words: list[int] = []
    plain_words: list[int] = []
    kinds: list[str] = []

    def add(span: Span, kind: str) -> None:
        words = [t for t in span.tokens if not fillers[index[t.start]]]
        if not words or (span.start, span.end) in seen:
            return
        kinds.append(kind)
        seen.add((span.start, span.end))
        trimmed = Span(words[0].start, words[-1].end, span.tokens)
        units.append(trimmed)
        skip = [fillers[index[t.start]] for t in span.tokens]
        unit_texts.append(clean_text(text, span.tokens, skip))
        hidden = [s or names[index[t.start]] for s, t in zip(skip, span.tokens)]
        masked_texts.append(clean_text(text, span.tokens, hidden))
        masked_words.append(sum(1 for t, h in zip(span.tokens, hidden) if not h and is_content(t)))
        unit_words.append(sum(1 for t, f in zip(span.tokens, skip) if not f and is_content(t)))
        plain_words.append(sum(1 for t, f in zip(span.tokens, skip)
                               if not f and not lingo[index[t.start]] and is_content(t)))

    def spoken(span: Span) -> list[Token]:
        return [t for t in span.tokens if not fillers[index[t.start]]]

    # Embedding cost grows with the words embedded, so each word sits in few units: a
    # sentence short enough to embed whole, plus its clauses; a clause (or a sentence
    # without commas) too long to embed whole, as windows that do not overlap. Windows
    # over every sentence, overlapping, cost 1.7 embedded words per spoken word and
    # found no evidence the clauses miss (bench/adversarial.py, bench/asag.py).
    for sent in sentences(text, tokens):
        said = spoken(sent)
        if len(said) <= options.max_unit_words:
            add(sent, "sentence")
        parts = clauses(text, sent)
        if len(parts) == 1 and len(said) <= options.max_unit_words:
            continue  # the sentence is its only clause, already a unit
        for part in parts:
            words = spoken(part)
            if len(words) <= options.max_unit_words:
                add(part, "clause")
                continue
            for w in windows(words, options.window_words, options.window_stride):
                add(w, "window")
    content_idx = [i for i, t in enumerate(tokens) if not fillers[i] and is_content(t)]
    sentence_of = [0] * len(tokens)
    for n, sent in enumerate(sentences(text, tokens)):
        for t in sent.tokens:
            sentence_of[index[t.start]] = n
    vocabulary_words = sum(1 for i in content_idx if lingo[i])
    return Analysis(text, tokens, fillers, units, unit_texts, content_idx, sentence_of, masked_texts, masked_words,
                    unit_words, kinds, plain_words, vocabulary_words)


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


class ContentScorer:
    """Matches a question's key points against an answer transcript."""

    def __init__(self, options: ContentOptions = ContentOptions(), embedder: Embedder | None = None,
                 misconceptions: MisconceptionOptions = MisconceptionOptions()):
        self.options = options
        self.misconception_options = misconceptions
        self._embedder = embedder
        self._loaded: dict[int, Question] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    def key_points(self, question: Question, transcript: Transcript) -> tuple[KeyPointResult, ...]:
        """The verdict on every key point, in rubric order."""
        return self.assess(question, transcript)[0]

    def assess(self, question: Question, transcript: Transcript) -> tuple[tuple[KeyPointResult, ...], Analysis]:
        """The verdicts and the analysis they came from (its word count and vocabulary share scale
        the content score), so a grade analyses the answer once."""
        o = self.options
        self._load_rubric(question)
        terms = question_terms(question)
        a = analyse(transcript.text, o, terms, question_jargon(question))
        if not a.units:
            return tuple(KeyPointResult(kp.id, kp.statement, kp.weight, False, 0.0) for kp in question.key_points), a
        question_stems = set(_stems(question.text))
        targets, owner = _rubric_targets(question)
        # The echo is measured against the question as asked: its names are what an echo repeats.
        vecs = self.embedder.embed([question.text.lower(), *targets, *a.masked_texts])
        qv, tv, uv = vecs[0], vecs[1:1 + len(targets)], vecs[1 + len(targets):]
        raw = uv @ tv.T                                   # units x targets
        echo = np.outer(uv @ qv, tv @ qv) * o.question_echo
        said = np.array(a.masked_words, dtype=np.float32)
        adjusted = (raw - echo) * (np.minimum(1.0, said / o.min_unit_words) ** 0.5
                                   * self._explaining_share(a))[:, None]
        ranges = word_char_ranges(transcript.text, transcript.words) if transcript.words else None
        owners = np.array(owner)
        per_kp = np.stack([adjusted[:, owners == k].max(axis=1) for k in range(len(question.key_points))], axis=1)
        # A unit that plainly makes one point is weaker evidence for its neighbours
        # ("data drift is ..." should not half-cover concept drift).
        per_kp = per_kp - o.exclusivity * (per_kp.max(axis=1, keepdims=True) - per_kp)
        scan = find_misconceptions(question, a.text, a.units, a.unit_texts, self.embedder,
                                   self.misconception_options)
        hits = {h.key_point_id: h for h in scan.hits}
        # A wrong statement is evidence for nothing: neither the point it gets wrong nor its neighbours
        # ("shadow is free, it costs no extra compute" must not count as discussing cost); nor is one
        # that sounds like a known mistake without saying it clearly enough to be called wrong.
        for unit in (*(h.unit for h in hits.values()), *scan.suspect_units):
            wrong = a.units[unit]
            inside = [u for u, span in enumerate(a.units) if span.start >= wrong.start and span.end <= wrong.end]
            per_kp[[unit, *inside], :] = min(0.0, float(per_kp.min()))
        results = []
        for k, kp in enumerate(question.key_points):
            if kp.id in hits:
                results.append(self._incorrect(kp, a, transcript, hits[kp.id], ranges))
                continue
            per_unit = per_kp[:, k]
            best_u = int(per_unit.argmax())
            # Prefer the shortest unit that is nearly as good: a tight quote beats a paragraph.
            near = [u for u in range(len(a.units)) if per_unit[u] >= per_unit[best_u] - o.quote_tolerance]
            best_u = min(near, key=lambda u: (a.units[u].end - a.units[u].start, -per_unit[u]))
            sem = float(np.clip((per_unit[best_u] - o.sem_floor) / (o.sem_full - o.sem_floor), 0.0, 1.0))
            results.append(self._combine(kp, a, transcript, sem, best_u, question_stems, ranges))
        return tuple(results), a

    def _load_rubric(self, question: Question) -> None:
        """The question's rubric vectors, from disk when an earlier process stored them: once per
        question and scorer (``vector_cache.py``)."""
        if id(question) in self._loaded:
            return
        targets, _ = _rubric_targets(question)
        load_or_embed(self.embedder, [question.text.lower(), *targets, *claim_texts(question)])
        self._loaded[id(question)] = question  # held, so its id is never reused by another question

    def _explaining_share(self, a: Analysis) -> np.ndarray:
        """Per unit, how much of its similarity to keep given how much of it is names.

        A stretch that is mostly names ("Feast with Redis online, S3 offline, point-in-time
        joins") embeds close to a key point through the few words left between the names,
        but explains nothing: its similarity is scaled down as its share of names rises
        from ``names_free_share`` to ``names_full_share``, by up to ``names_penalty``.
        """
        o = self.options
        names = 1.0 - np.array(a.plain_words, dtype=np.float32) / np.maximum(1.0, np.array(a.unit_words, np.float32))
        over = np.clip((names - o.names_free_share) / (o.names_full_share - o.names_free_share), 0.0, 1.0)
        return 1.0 - o.names_penalty * over

    def _incorrect(self, kp: KeyPoint, a: Analysis, transcript: Transcript, hit: MisconceptionHit,
                   ranges: list[tuple[int, int] | None] | None) -> KeyPointResult:
        """A stated misconception: the quote is the unit that states it, the correction the bank's."""
        start, end = _trim(a, a.units[hit.unit].start, a.units[hit.unit].end)
        return KeyPointResult(kp.id, kp.statement, kp.weight, False, 0.0,
                              Evidence.of_span(transcript, start, end, ranges), verdict="incorrect",
                              correction=hit.misconception.correction, misconception=hit.misconception.claim)

    def _lexical_naming(self, kp: KeyPoint, a: Analysis, question_stems: set[str]) -> tuple[float, int, int, int]:
        """How fully the point's terms (or its statement's words) are named: score, token range, term size."""
        o = self.options
        lex, lex_a, lex_b, lex_len = 0.0, -1, -1, 0
        for phrase in kp.phrasings:
            stems = _stems(phrase)
            score, i, j = _lexical(stems, a, question_stems, o.lexical_slack_words, o.echo_word_weight)
            if score > lex or (score == lex and score > 0 and len(stems) > lex_len):
                lex, lex_a, lex_b, lex_len = score, i, j, len(stems)
        st_stems = [s for s in _stems(kp.statement) if s not in question_stems]
        st_score, si, sj = _lexical(st_stems, a, question_stems, len(st_stems) + o.statement_slack_words,
                                    o.echo_word_weight)
        st_lex = float(np.clip((st_score - o.statement_recall_floor) / o.statement_recall_span, 0.0, 1.0)) \
            * o.statement_lexical_weight
        if st_lex > lex:
            lex, lex_a, lex_b, lex_len = st_lex, si, sj, len(st_stems)
        return lex, lex_a, lex_b, lex_len

    def _combine(self, kp: KeyPoint, a: Analysis, transcript: Transcript, sem: float, best_u: int,
                 question_stems: set[str], ranges: list[tuple[int, int] | None] | None) -> KeyPointResult:
        """Verdict from the two signals: meaning with names masked (explained?) and naming (said?).

        Naming alone never covers a point: a list of the right terms is ``partial`` at
        most, capped at ``named_cap``. Once the point is explained, naming it as well
        adds a little (``named_boost``).
        """
        o = self.options
        lex, lex_a, lex_b, lex_len = self._lexical_naming(kp, a, question_stems)
        named = lex >= 0.99 or (lex >= o.named_lexical and lex_len <= 2)
        explained = sem >= o.explained_sem
        if explained:
            strength = 1.0 - (1.0 - o.named_boost * lex) * (1.0 - sem)
        else:
            strength = min(max(sem, o.named_credit * lex), o.named_cap)
        strength = round(float(np.clip(strength, 0.0, 1.0)), 4)
        covered = strength >= o.covered_threshold
        partial = not covered and (named or strength >= PARTIAL_MIN_STRENGTH)
        verdict = "covered" if covered else "partial" if partial else "missed"
        if verdict == "missed" and strength < o.evidence_min_strength:
            return KeyPointResult(kp.id, kp.statement, kp.weight, False, strength, None, False, verdict)
        if named and not explained and lex_a >= 0:
            start, end = self._lexical_quote(a, lex_a, lex_b)
        else:
            start, end = a.units[best_u].start, a.units[best_u].end
        start, end = _trim(a, start, end)
        return KeyPointResult(kp.id, kp.statement, kp.weight, covered, strength,
                              Evidence.of_span(transcript, start, end, ranges), partial, verdict)

    def _lexical_quote(self, a: Analysis, i: int, j: int) -> tuple[int, int]:
        """The clause around a lexical match, or the match itself when no clause is short enough."""
        start, end = a.tokens[i].start, a.tokens[j].end
        around = [u for u in a.units if u.start <= start and u.end >= end]
        if around:
            unit = min(around, key=lambda u: u.end - u.start)
            if len(unit.tokens) <= self.options.max_quote_words:
                return unit.start, unit.end
        return start, end


@per_question
def _rubric_targets(question: Question) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The texts each answer unit is compared with (names masked) and the key point each belongs
    to: every statement, every phrasing that explains something once its names are masked, and
    every explanation. Rubric text: the same on every grade, so built once per question."""
    terms = question_terms(question)
    question_stems = set(_stems(question.text))
    mask = (lambda t: masked(t, terms)) if terms is not None else (lambda t: t.lower())
    targets: list[str] = []
    owner: list[int] = []
    for k, kp in enumerate(question.key_points):
        for t in (kp.statement, *kp.phrasings):
            said = mask(t)
            # A phrasing that was all names says nothing once they are masked.
            if t is kp.statement or (_explains(t, question_stems) and len(said.split()) >= 3):
                targets.append(said)
                owner.append(k)
        for t in kp.explanations:
            targets.append(mask(t))
            owner.append(k)
    return tuple(targets), tuple(owner)


def question_terms(question: Question) -> TermSet | None:
    """The names to mask for ``question``; None for a reference question (its terms are its content)."""
    if is_reference_question(question):
        return None
    phrasings = (p for kp in question.key_points for p in kp.phrasings if is_term_phrase(p))
    return term_set(tuple(dict.fromkeys((*question.vocabulary, *phrasings))))


def question_jargon(question: Question) -> TermSet | None:
    """Names plus every short phrasing of the rubric: the vocabulary a list of buzzwords is made of."""
    if is_reference_question(question):
        return None
    short = (p for kp in question.key_points for p in kp.phrasings if is_short_phrase(p))
    return term_set(tuple(dict.fromkeys((*question.vocabulary, *short, *GENERIC_BUZZWORDS))))


def key_point_credit(result: KeyPointResult, options: ContentOptions = ContentOptions()) -> float:
    """What one key point adds to the content score: its strength, or a penalty when incorrect.

    A stated misconception scores *below* a point never mentioned: an interviewer
    marks a confident wrong answer down, and a candidate must not learn that saying
    something wrong beats saying nothing.
    """
    if result.verdict == "incorrect":
        return -options.incorrect_penalty
    return min(1.0, result.strength / options.full_credit_strength)


def answer_size(question: Question, text: str, options: ContentOptions = ContentOptions()) -> tuple[int, float]:
    """Content words of an answer and the share of them that are names and buzzwords: what
    :func:`content_score` scales by, measured the same way for every grader."""
    a = analyse(text, options, question_terms(question), question_jargon(question))
    return a.content_words, a.vocabulary_share


def vocabulary_factor(share: float, options: ContentOptions = ContentOptions()) -> float:
    """What is kept of the content score of an answer whose content words are ``share`` names and buzzwords.

    Each point is judged on the stretch that makes it best, so an answer that strings the right
    names together with a few generic words between them ("parity between offline and online
    improves reliability") can still come close to several points. Taken whole, such an answer
    is mostly vocabulary: answers in people's own words stay well under a third.
    """
    o = options
    over = (share - o.vocabulary_free_share) / max(1e-9, o.vocabulary_full_share - o.vocabulary_free_share)
    return 1.0 - o.vocabulary_cut * float(np.clip(over, 0.0, 1.0))


def content_score(results: Sequence[KeyPointResult], analysis_words: int,
                  options: ContentOptions = ContentOptions(), vocabulary_share: float = 0.0) -> float:
    """Weighted mean credit, scaled down for answers too short to have explained anything and for
    answers made of names and buzzwords (:func:`vocabulary_factor`)."""
    total = sum(k.weight for k in results)
    if total <= 0:
        return 0.0
    # A stated misconception costs its point's weight, and at least ``incorrect_min_share`` of the whole
    # score however light its point: a confident wrong idea colours the interviewer's view of the rest.
    floor = options.incorrect_min_share * total

    def earned(k: KeyPointResult) -> float:
        credit = k.weight * key_point_credit(k, options)
        return min(credit, -floor) if k.verdict == "incorrect" else credit

    raw = max(0.0, sum(map(earned, results)) / total)
    length = min(1.0, (analysis_words / options.short_answer_words) ** 0.5) if analysis_words else 0.0
    return round(raw * length * vocabulary_factor(vocabulary_share, options), 4)
