"""A rubric from a reference answer, for questions that are not in any bank.

Any subject works: the reference is cut into its ideas (sentences, then
clauses), each idea becomes a key point weighted by how much it says, and its
distinctive terms (content words the question does not already contain) become
the phrasings. A one-sentence reference still yields three key points — the
whole idea plus its two halves — so a partly right answer earns partial credit.

Key points cut from a short reference are few and arbitrary, so coverage alone
is a noisy grade. :func:`whole_answer_signals` adds the two signals that are
robust in short-answer grading: the cosine between the whole answer and the
whole reference, and the recall of the reference's content-word stems; the
grader averages them with coverage, in equal parts.
"""

from __future__ import annotations

import re

from ..bank import FollowUp, KeyPoint, Question
from ..errors import ConfigError
from .embed import Embedder
from .text import STOPWORDS, clauses, clean_text, filler_mask, is_content, sentences, tokenize

REFERENCE_ROUND = "adhoc"
MIN_POINTS, MAX_POINTS = 3, 7
SHORT_REFERENCE_WORDS = 40
_SPLIT_WORDS = re.compile(r"\s+(?=(?:and|but|so|because|which|while|whereas|then|thus|therefore|by|to|so that|"
                          r"in order to|where|when|if)\b)", re.IGNORECASE)


def _ideas(reference: str) -> list[str]:
    """Sentences, then clauses, then conjunction splits until there are enough ideas."""
    toks = tokenize(reference)
    ideas: list[str] = []
    for sent in sentences(reference, toks):
        parts = clauses(reference, sent) or [sent]
        ideas += [_tidy(p.quote(reference)) for p in parts]
    ideas = [i for i in ideas if sum(1 for t in tokenize(i) if is_content(t)) >= 1]
    while len(ideas) < MIN_POINTS:
        longest = max(range(len(ideas)), key=lambda i: len(tokenize(ideas[i])), default=None)
        if longest is None:
            break
        halves = _halve(ideas[longest])
        if halves is None:
            break
        ideas[longest:longest + 1] = halves
    if len(ideas) > MAX_POINTS:
        ideas = _merge_smallest(ideas, MAX_POINTS)
    return ideas


def _halve(idea: str) -> list[str] | None:
    """Split one idea near its middle, at a conjunction or preposition if there is one."""
    toks = tokenize(idea)
    content = [t for t in toks if is_content(t)]
    if len(content) < 4:
        return None
    cuts = [m.start() for m in _SPLIT_WORDS.finditer(idea) if 0.2 * len(idea) < m.start() < 0.8 * len(idea)]
    mid = len(idea) / 2
    if cuts:
        cut = min(cuts, key=lambda c: abs(c - mid))
    else:
        cut = content[len(content) // 2].start
    left, right = _tidy(idea[:cut]), _tidy(idea[cut:])
    if not any(is_content(t) for t in tokenize(left)) or not any(is_content(t) for t in tokenize(right)):
        return None
    return [left, right]


def _tidy(part: str) -> str:
    """Drop dangling little words and punctuation at the ends of a half ("... portions of the")."""
    words = part.strip(" ,;:()").split()
    while len(words) > 1 and words[0].lower() in ("and", "but", "so", "or", "then", "thus", "therefore"):
        words.pop(0)
    while len(words) > 1 and words[-1].lower().strip(",;:()") in STOPWORDS:
        words.pop()
    return " ".join(words).strip(" ,;:()")


def _merge_smallest(ideas: list[str], limit: int) -> list[str]:
    ideas = list(ideas)
    while len(ideas) > limit:
        i = min(range(len(ideas) - 1), key=lambda j: len(ideas[j]) + len(ideas[j + 1]))
        ideas[i:i + 2] = [ideas[i] + "; " + ideas[i + 1]]
    return ideas


def _terms(idea: str, question_stems: set[str], limit: int = 4) -> tuple[str, ...]:
    """Runs of content words not given away by the question (e.g. "desired software product")."""
    runs: list[list[str]] = []
    current: list[str] = []
    for t in tokenize(idea):
        if is_content(t) and t.text not in STOPWORDS:
            current.append(t.text)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    terms: list[str] = []
    for run in runs:
        novel = [w for w in run if tokenize(w)[0].stem not in question_stems]
        if not novel:
            continue
        terms.append(" ".join(run[:4]))
        if len(run) > 1:
            terms += [w for w in novel if len(w) > 3]
    unique = list(dict.fromkeys(terms))
    unique.sort(key=lambda x: -len(x.split()))
    return tuple(unique[:limit]) or (idea,)


def question_from_reference(question_text: str, reference: str, question_id: str = "adhoc") -> Question:
    """A :class:`Question` whose key points come from ``reference``.

    Raises:
        ConfigError: when the question or the reference has no words to grade against.
    """
    if not question_text.strip():
        raise ConfigError("the question text is empty; give the question being answered")
    if not any(is_content(t) for t in tokenize(reference)):
        raise ConfigError(f"the reference answer {reference!r} has no content words; give a reference answer "
                          "of at least one sentence")
    question_stems = {t.stem for t in tokenize(question_text)}
    ideas = _ideas(reference.strip())
    points: list[KeyPoint] = []
    whole = " ".join(reference.split())
    # A short reference is one idea: grading the whole of it beside its parts rewards an answer
    # that says it all in other words, which the parts alone (split mid-idea) can miss.
    whole_point = (len(ideas) < MIN_POINTS or len(tokenize(whole)) <= SHORT_REFERENCE_WORDS) and whole not in ideas
    if whole_point:
        ideas = [whole] + ideas[:MAX_POINTS - 1]
    for i, idea in enumerate(ideas):
        words = sum(1 for t in tokenize(idea) if is_content(t) and t.stem not in question_stems)
        weight = round(min(10.0, max(0.5, 1.0 + words / 4.0)), 2)
        if whole_point and i == 0:
            weight = min(10.0, weight * 2)
        points.append(KeyPoint(f"point-{i + 1}", weight, idea, _terms(idea, question_stems),
                               tip=f"Cover this idea from the model answer: {idea.rstrip('.')}."))
    by_weight = sorted(points, key=lambda k: -k.weight)[:2]
    # Probe with the point's key term, not its statement: the statement would give the answer away.
    follow_ups = tuple(FollowUp(k.id, f"Could you say more about how {k.phrasings[0]} fits into your answer?")
                       for k in by_weight)
    return Question(id=question_id, round=REFERENCE_ROUND, text=question_text.strip(), difficulty="medium",
                    answer_time_s=max(30, min(300, 30 + 4 * len(tokenize(reference)))), kind="technical",
                    key_points=tuple(points), follow_ups=follow_ups, strong_answer=reference.strip())



def is_reference_question(question: Question) -> bool:
    """Whether ``question`` was built by :func:`question_from_reference` (its rubric is derived, not written)."""
    return question.round == REFERENCE_ROUND and bool(question.strong_answer.strip())


def stem_recall(reference: str, answer: str, question_text: str, echo_weight: float) -> float:
    """Weighted share of the reference's content-word stems that the answer uses (0..1).

    Stems the question already contains weigh ``echo_weight``: repeating the
    question's words shows little.
    """
    question_stems = {t.stem for t in tokenize(question_text)}
    ref = {t.stem for t in tokenize(reference) if is_content(t)}
    if not ref:
        return 0.0
    said = {t.stem for t in tokenize(answer) if is_content(t)}
    weight = {s: (echo_weight if s in question_stems else 1.0) for s in ref}
    return sum(w for s, w in weight.items() if s in said) / sum(weight.values())


def whole_answer_signals(question: Question, answer: str, embedder: Embedder,
                         echo_weight: float) -> tuple[float, float]:
    """(cosine of whole answer and whole reference clipped to 0..1, stem recall) for a reference question."""
    tokens = tokenize(answer)
    if not any(is_content(t) for t in tokens):
        return 0.0, 0.0
    spoken = clean_text(answer, tokens, filler_mask(answer, tokens))
    ref_vec, ans_vec = embedder.embed([question.strong_answer, spoken])
    cosine = float(min(1.0, max(0.0, float(ref_vec @ ans_vec))))
    return cosine, stem_recall(question.strong_answer, answer, question.text, echo_weight)
