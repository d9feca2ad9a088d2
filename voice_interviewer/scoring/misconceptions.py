"""Catching a confident wrong answer: which stretch of the answer states a known misconception.

A bank's key point may list the wrong versions of itself (``KeyPoint.misconceptions``),
each with ways candidates say it and the correction. A unit of the answer (sentence,
clause or window) states a misconception when all of these hold:

* **topic**: it contains the words the wrong claim is about (the stems that most of the
  claim's wordings share, e.g. "concept drift"), so an unrelated sentence never matches;
* **closer to the wrong claim than to the right one**: its cosine to the claim's wordings
  is high and beats, by a margin, its cosine to the right versions (the key point's
  statement and phrasings and the correction itself). Swapped definitions ("concept
  drift is when the inputs change") differ from the right one in a word or two, so it
  is this *contrast*, not a similarity threshold alone, that decides;
* **same polarity**: negation or contrast flips a claim ("a shadow deployment is *not*
  free", "CPU is *misleading* as a signal" are the correction, not the mistake), so only
  the claim's wordings said with the polarity of what the unit says about the topic count;
* **in so many words**: it repeats a good part of that wording's own words beyond the
  topic, because meaning alone confuses a claim with its neighbours.

The comparison uses the answer's own words, names included: in a swapped definition the
names are exactly what is wrong.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..bank import KeyPoint, Misconception, Question, per_question
from .embed import Embedder
from .terms import is_short_phrase
from .text import Span, Token, is_content, sentences, tokenize

_NEGATIONS = frozenset({"not", "no", "never", "nothing", "none", "neither", "nor", "without", "cannot", "nobody",
                        "nowhere",
                        "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "won't",
                        "wouldn't", "shouldn't", "can't", "couldn't", "mustn't", "hasn't", "haven't"})


@dataclass(frozen=True)
class MisconceptionOptions:
    """Detection tuning.

    Attributes:
        min_similarity: Cosine to the wrong claim's closest wording a unit needs at least.
        min_margin: How much closer to the wrong claim than to any right version it must be.
        min_wording: Share of a wording's content words the unit must also say:
            meaning alone confuses a claim with its neighbours, so some of the wrong part
            must be said in so many words.
        topic_share: A stem is a topic word when this share of the claim's wordings contain it.
        min_topic_words: Topic stems a unit must contain (fewer if the topic has fewer).
        min_unit_words: Content words a unit needs to state a claim at all ("target leakage" does not).
        context_words: Words just before a unit that count for its topic: speech names a thing once
            and goes on with "they" ("we hash the IDs ... once they're hashed the data is anonymous").
        suspect_similarity: Cosine to a wrong claim above which a unit that is also at least as
            close to it as to any right version (``suspect_margin``) and says some of its words
            (``suspect_wording``) is *suspect*: too unsure to tell the candidate they are wrong,
            too close to a known mistake to count as evidence that they are right.
        suspect_margin: See ``suspect_similarity``.
        suspect_wording: See ``suspect_similarity``.
        close_similarity: Cosine to a wording at or above which a unit that also says most of its words
            (``close_wording``) states the claim with any margin at all (``close_margin``): a swapped
            definition ("concept drift is when the input distribution changes") is as close to the
            right version as to the wrong one, since only the pairing differs; saying the wrong
            pairing nearly word for word is what gives it away.
        close_margin: See ``close_similarity``.
        close_wording: See ``close_similarity``.
        whole_drop: A clause or window is not a claim of its own when its whole sentence is this much
            less close to the claim, against the right versions, than it is: the rest of the sentence
            turns it round (an endpoint "up, fast and error-free" is the set-up of "and the model is
            quietly getting worse"; the first half alone sounds like the claim).
    """

    min_similarity: float = 0.65
    min_margin: float = 0.08
    topic_share: float = 0.6
    min_topic_words: int = 2
    min_unit_words: int = 5
    min_wording: float = 0.5
    context_words: int = 20
    suspect_similarity: float = 0.6
    suspect_margin: float = 0.0
    suspect_wording: float = 0.3
    close_similarity: float = 0.8
    close_margin: float = 0.0
    close_wording: float = 0.7
    whole_drop: float = 0.15

    def states(self, similarity: float, margin: float, wording: float) -> bool:
        """Whether a unit this close to a claim, by this margin over the right versions, repeating
        this share of its words, states it."""
        return (similarity >= self.min_similarity and margin >= self.min_margin and wording >= self.min_wording) \
            or (similarity >= self.close_similarity and margin >= self.close_margin
                and wording >= self.close_wording)


@dataclass(frozen=True)
class MisconceptionScan:
    """What an answer says wrong: the stated misconceptions (one per key point at most) and the
    units that sound like one without saying it clearly enough to be called wrong."""

    hits: list[MisconceptionHit]
    suspect_units: frozenset[int] = frozenset()


@dataclass(frozen=True)
class MisconceptionHit:
    """One unit of the answer that states a misconception of one key point."""

    key_point_id: str
    misconception: Misconception
    unit: int
    similarity: float
    margin: float
    wording: float = 0.0


# Words that turn a statement against itself: "CPU is *misleading* as a signal", "accuracy drops
# *even though* the inputs look normal". A claim said with one of these is usually its rebuttal.
_CONTRASTS = frozenset({"misleading", "useless", "wrong", "myth", "mistake", "although", "though", "rather",
                        "instead", "unlike", "whereas", "except", "only", "bad", "poor"})


def _negated(words: Sequence[str]) -> bool:
    """Whether a stretch of speech negates or contrasts what it says (see ``_CONTRASTS``)."""
    return any(w in _NEGATIONS or w.endswith("n't") or w in _CONTRASTS for w in words)


@lru_cache(maxsize=4096)
def _topic(misconception: Misconception, share: float) -> frozenset[str]:
    """Content stems shared by most wordings of the claim: what the claim is about."""
    wordings = (misconception.claim, *misconception.says)
    counts: Counter[str] = Counter()
    for w in wordings:
        counts.update({t.stem for t in tokenize(w) if is_content(t)})
    need = max(1, int(np.ceil(share * len(wordings))))
    return frozenset(s for s, c in counts.items() if c >= need)


@lru_cache(maxsize=16384)
def _wording_negated(wording: str) -> bool:
    return _negated([t.text for t in tokenize(wording)])


@lru_cache(maxsize=4096)
def _right_versions(kp: KeyPoint, misconception: Misconception, strong_answer: str) -> tuple[str, ...]:
    """What the right answer sounds like: the statement, explaining phrasings, each sentence of
    the correction and of the question's strong answer.

    The correction is split because a long correction ("That is data drift ... Concept
    drift is ...") embeds as a blur of both ideas; each of its sentences alone is a
    sharp counterpart to a wrong claim. The strong answer's sentences are how a right
    answer says the same things in the same words ("fit the scaler on the training
    split only"), so a correct candidate who sounds like it is not taken for a wrong one.
    """
    parts = [p.strip() for text in (misconception.correction, strong_answer)
             for p in _SENTENCE_SPLIT.split(text) if len(p.split()) >= 3]
    return (kp.statement, *parts, *(p for p in kp.phrasings if len(p.split()) >= 3))


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:])\s+")


_VERB = re.compile(r"\b(?:is|are|was|were|means?|should|can|could|will|would|has|have|does|do|makes?|needs?|"
                   r"only|always|never|must|gives?|lets?|removes?|prevents?|guarantees?|requires?|"
                   r"it's|that's|there's|they're|you're|we're)(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _claim_subject(misconception: Misconception, share: float) -> frozenset[str]:
    """The topic words that name what the claim is about: those before its first verb
    ("*Concept drift* is a change in the input distribution"). A unit must name them
    (:func:`_says_subject`), so a right definition of data drift is never read as the wrong
    definition of concept drift, and must say at least one word of a wording beyond them: the
    part the claim gets wrong.

    At most the first two: most verbs are not in the pattern ("A feature store completely
    *eliminates* skew", "Retraining on fresh data *fixes* a degraded model"), and without a cut
    the whole claim would become its subject, which no candidate says in the same words."""
    topic = _topic(misconception, share)
    head = _VERB.split(misconception.claim.replace("’", "'"), maxsplit=1)[0]
    named = [t.stem for t in tokenize(head) if is_content(t) and t.stem in topic]
    return frozenset(list(dict.fromkeys(named))[:2])


def _about_claim(misconception: Misconception, stems: set[str], own: set[str], subject: frozenset[str],
                 asked: frozenset[str], options: MisconceptionOptions) -> bool:
    """Whether a unit (``own`` content stems; ``stems`` with the words just before it) is about the
    claim: it names enough of the words most of its wordings share, or says two words of one
    wording beyond its subject that the question does not already say. The second is for a claim
    people put in different words ("shadow is *free*" / "shadow *costs nothing extra*"), whose
    wordings share little beyond the subject; the question's words ("training *data*") are said
    by any answer and mark nothing."""
    topic = _topic(misconception, options.topic_share)
    need = min(options.min_topic_words, len(topic))
    if need and len(stems & topic) >= need:
        return True
    return any(len((_content_stems(w) - subject - asked) & own) >= 2
               for w in (misconception.claim, *misconception.says))


def _says_subject(subject: frozenset[str], stems: set[str], said: Sequence[str],
                  rivals: tuple[tuple[str, ...], ...]) -> bool:
    """Whether a unit names what a claim is about: its whole subject, or all of it but one word
    when nothing else is named in its place. People say a subject in their own words ("CPU
    *usage*" for "CPU utilisation", "*machine learning* code" for "ML code"), but "*data* drift
    is when the inputs change" names the neighbouring term where the claim about "*concept*
    drift" has its own: a rubric term (``rivals``) that shares a subject word and has words the
    subject lacks is the other thing, said right."""
    found = subject & stems
    if found == subject:
        return True
    if len(found) < max(1, len(subject) - 1):
        return False
    return not any(found & set(term) and set(term) - subject and _contains(said, term) for term in rivals)


def _contains(stems: Sequence[str], term: tuple[str, ...]) -> bool:
    n = len(term)
    return any(tuple(stems[i:i + n]) == term for i in range(len(stems) - n + 1))


@per_question
def _rubric_terms(question: Question) -> tuple[tuple[str, ...], ...]:
    """Stems of the rubric's multi-word terms ("data drift", "online store"): what names one
    thing rather than its neighbour."""
    phrases = {p for kp in question.key_points for p in kp.phrasings if is_short_phrase(p)}
    stems = {tuple(t.stem for t in tokenize(p)) for p in phrases}
    return tuple(sorted(t for t in stems if len(t) >= 2))


@lru_cache(maxsize=4096)
def _right_stems(kp: KeyPoint, strong_answer: str, question: str, subject: frozenset[str]) -> frozenset[str]:
    """Content stems of what a right answer says about the claim's subject: the point's statement,
    phrasings and explanations, the strong answer's sentences that name the subject, and the
    question's own words (a story "about whether a model was ready to *ship*" says ship whatever it
    gets right or wrong).

    Only the strong answer's sentences about the subject: its other sentences say right things
    about *other* things in the words of a swapped definition ("data drift is when the input
    features change" makes "input" and "features" right for anything), and then "*concept* drift
    is when the input features change" would have no wrong part at all.
    The correction is left out on purpose: it names the wrong idea in order to refute it
    ("overfitting is a generalisation gap, not skew").
    """
    about = [p for p in _SENTENCE_SPLIT.split(strong_answer)
             if subject <= {t.stem for t in tokenize(p) if is_content(t)}]
    return frozenset(t.stem for text in (kp.statement, *kp.phrasings, *kp.explanations, *about, question)
                     for t in tokenize(text) if is_content(t))


@per_question
def claim_texts(question: Question) -> tuple[str, ...]:
    """Every text a misconception is judged against: each claim's wordings and right versions."""
    return tuple(dict.fromkeys(t for kp in question.key_points for mc in kp.misconceptions
                               for t in (mc.claim, *mc.says, *_right_versions(kp, mc, question.strong_answer))))


@lru_cache(maxsize=16384)
def _content_stems(text: str) -> frozenset[str]:
    return frozenset(t.stem for t in tokenize(text) if is_content(t))


def _wording(stems: set[str], wordings: Sequence[str], subject: frozenset[str],
             right: frozenset[str]) -> float:
    """Best share of a wording's content words that the unit also says, counting only wordings
    whose wrong part the unit says too: a word beyond the subject that no right answer uses
    ("harmless", "overfits", "free"). Without it a right answer that describes the mistake as a
    mistake ("leakage is when you fit the scaler on the whole dataset") would read as making it.

    A swapped definition has no wrong word, only a wrong pairing ("*concept* drift is when the
    input features change": every word is right about data drift), so a wording made only of
    right words counts when the unit says every one of them."""
    best = 0.0
    for w in wordings:
        said = _content_stems(w)
        wrong_part = said - subject - right
        if said and (wrong_part & stems or (not wrong_part and said <= stems)):
            best = max(best, len(said & stems) / len(said))
    return best


def _segments(text: str, span: Span) -> list[list[Token]]:
    """The span's tokens cut at punctuation: the pieces whose polarity can differ."""
    out: list[list[Token]] = [[]]
    for prev, tok in zip((None, *span.tokens), span.tokens):
        if prev is not None and _PUNCT.search(text[prev.end:tok.start]):
            out.append([])
        out[-1].append(tok)
    return [seg for seg in out if seg]


_PUNCT = re.compile(r"[,.;:!?—–()]")


def _negated_about(text: str, span: Span, topic: frozenset[str], wording: str) -> bool:
    """Polarity of what the span says where it says what ``wording`` says: the piece (between
    commas) sharing most of the wording's words beyond the topic decides, the one naming most of
    the topic on a tie.

    "A shadow deployment is free, it doesn't cost anything" is positive where it matches "shadow
    is free" and negative where it matches "shadow doesn't cost any extra compute" — both the
    claim; "I'd tag the image with the commit, never just latest" is negative where it matches
    "tagging latest is fine" — the rebuttal.
    """
    pieces = _segments(text, span)
    beyond = _content_stems(wording) - topic

    def about(seg: list[Token]) -> int:
        return len({t.stem for t in seg} & topic)

    piece = max(pieces, key=lambda seg: (len({t.stem for t in seg} & beyond), about(seg)))
    if _negated([t.text for t in piece]):
        return True
    # A piece that goes on without naming the topic ("..., like whether people click more") takes
    # the polarity of the piece that does ("shadow can't tell you about user-facing effects").
    subject_piece = max(pieces, key=about)
    return about(piece) == 0 and about(subject_piece) > 0 and _negated([t.text for t in subject_piece])


_TURNS = frozenset({"but", "yet", "meanwhile", "however", "nevertheless"})


def _after_turn(text: str, span: Span, sentence: Span | None, min_words: int = 3) -> str | None:
    """What the sentence asserts after a turn that follows the start of the span ("..., *but* the
    predictions are getting worse", "*and still* the model is wrong"), when at least ``min_words``
    content words follow it; else None. "Still" turns only after "and" or a pause: "the model is
    still accurate" goes on, it does not turn."""
    tokens = sentence.tokens if sentence is not None else span.tokens
    for i, tok in enumerate(tokens):
        if tok.start <= span.start:
            continue
        turn = tok.text in _TURNS or (tok.text == "still" and (
            tokens[i - 1].text == "and" or bool(_PUNCT.search(text[tokens[i - 1].end:tok.start]))))
        rest = tokens[i + 1:]
        if turn and sum(1 for t in rest if is_content(t)) >= min_words:
            return " ".join(t.text for t in rest)
    return None


def _sentence_spans(text: str, tokens: Sequence[Token], units: Sequence[Span]) -> list[Span | None]:
    """Per unit, the sentence it is part of, or None when the unit is that sentence."""
    spans = sentences(text, tokens)
    out: list[Span | None] = []
    for unit in units:
        around = next((s for s in spans if s.start <= unit.start and s.end >= unit.end), None)
        out.append(None if around is None or (around.start, around.end) == (unit.start, unit.end) else around)
    return out


def find_misconceptions(question: Question, text: str, units: Sequence[Span], unit_texts: Sequence[str],
                        embedder: Embedder, options: MisconceptionOptions = MisconceptionOptions(),
                        ) -> MisconceptionScan:
    """Every key point's strongest misconception hit in the answer (at most one per key point),
    and the suspect units (see ``MisconceptionOptions.suspect_similarity``)."""
    candidates: list[tuple[int, KeyPoint, Misconception]] = []
    rivals = _rubric_terms(question)
    asked = _content_stems(question.text)
    all_tokens = tokenize(text)
    ends = [t.end for t in all_tokens]
    for u, span in enumerate(units):
        if sum(1 for t in span.tokens if is_content(t)) < options.min_unit_words:
            continue
        first = bisect.bisect_right(ends, span.start)  # tokens ending before the unit starts
        before = all_tokens[max(0, first - options.context_words):first] if options.context_words else []
        stems = {t.stem for t in (*before, *span.tokens)}
        said = [t.stem for t in span.tokens]
        own = {t.stem for t in span.tokens if is_content(t)}
        for kp in question.key_points:
            for mc in kp.misconceptions:
                subject = _claim_subject(mc, options.topic_share)
                if _about_claim(mc, stems, own, subject, asked, options) \
                        and _says_subject(subject, stems, said, rivals):
                    candidates.append((u, kp, mc))
    if not candidates:
        return MisconceptionScan([])
    # Claim texts are rubric text: the scorer loads them once per question (``vector_cache.py``),
    # so here they come from the embedder's cache and only the answer's units are computed.
    unit_ids = sorted({u for u, _, _ in candidates})
    texts: list[str] = [unit_texts[u] for u in unit_ids]
    target_index = {t: len(texts) + i for i, t in enumerate(claim_texts(question))}
    vecs = embedder.embed(texts + list(target_index))
    unit_vec = {u: vecs[i] for i, u in enumerate(unit_ids)}

    def against(v: np.ndarray, wordings: Sequence[str], rights: Sequence[str]) -> tuple[float, float]:
        """Closeness to the claim's wordings, and by how much it beats closeness to the right versions."""
        wrong = max(float(v @ vecs[target_index[t]]) for t in wordings)
        return wrong, wrong - max(float(v @ vecs[target_index[t]]) for t in rights)
    best: dict[str, MisconceptionHit] = {}
    suspects: set[int] = set()
    sentence_of = _sentence_spans(text, all_tokens, units)
    for u, kp, mc in candidates:
        v = unit_vec[u]
        topic = _topic(mc, options.topic_share)
        # Only wordings said with the same polarity count: a claim can be said both ways
        # ("shadow is free" / "shadow doesn't cost anything"), its rebuttal only one way.
        wordings = [t for t in (mc.claim, *mc.says)
                    if _wording_negated(t) == _negated_about(text, units[u], topic, t)]
        if not wordings:
            continue
        rights = _right_versions(kp, mc, question.strong_answer)
        wrong, margin = against(v, wordings, rights)
        if wrong < min(options.min_similarity, options.suspect_similarity, options.close_similarity) \
                or margin < min(options.min_margin, options.suspect_margin, options.close_margin):
            continue
        subject = _claim_subject(mc, options.topic_share)
        wording = _wording({t.stem for t in units[u].tokens if is_content(t)}, wordings, subject,
                           _right_stems(kp, question.strong_answer, question.text, subject))
        suspect = wrong >= options.suspect_similarity and margin >= options.suspect_margin \
            and wording >= options.suspect_wording
        says_it = options.states(wrong, margin, wording)
        if not (suspect or says_it):
            continue
        # A stretch whose sentence, taken whole, sounds much less like the claim is the set-up of
        # a right statement, not a claim of its own (``whole_drop``).
        whole = sentence_of[u]
        if whole is not None:
            _, whole_margin = against(embedder.embed([" ".join(t.text for t in whole.tokens)])[0], wordings, rights)
            if whole_margin < margin - options.whole_drop:
                continue
        # "It can be up, latency fine, zero errors, *and still* the model is wrong": what follows the
        # turn is what the speaker asserts; when it sounds like a right version, the rest is a concession.
        after = _after_turn(text, units[u], sentence_of[u])
        if after and against(embedder.embed([after])[0], wordings, rights)[1] < 0:
            continue
        if suspect:
            suspects.add(u)
        if not says_it:
            continue
        hit = MisconceptionHit(kp.id, mc, u, round(wrong, 4), round(margin, 4), round(wording, 4))
        # The stretch that says most of the claim in its own words is the one to quote; meaning
        # decides between equals.
        if kp.id not in best or (wording, margin) > (best[kp.id].wording, best[kp.id].margin):
            best[kp.id] = hit
    stated = {h.unit for h in best.values()}
    return MisconceptionScan(list(best.values()), frozenset(suspects - stated))
