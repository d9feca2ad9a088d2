"""Up to four specific tips, most valuable first: what to fix, add or cut in *this* answer.

Candidates act on the first tip and skim the rest, so tips are ranked by how much
they would move the grade: a stated misconception first (quoted, with the
correction), then the heaviest missed key point, then points that were named but not
explained, then delivery and STAR. Every tip is built from a verdict or a measure of
this answer, so none asks for something the answer already covers; a point that is
covered gets no tip at all, and an answer with nothing to fix gets no tips rather
than filler advice.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..bank import Question
from .content import ContentOptions, vocabulary_factor
from .delivery import DeliveryOptions, has_measurable_result
from .feedback import Delivery, KeyPointResult
from .text import tokenize

MAX_TIPS = 4


def _quote(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _sentence(text: str) -> str:
    """Rubric text to follow a colon, case untouched: lowering a first letter breaks names
    ("MLOps" became "mLOps"), and a full sentence after a colon may start with a capital."""
    return text.strip().rstrip(".")


def _incorrect_tip(r: KeyPointResult) -> str:
    said = f'You said "{_quote(r.evidence.quote)}". ' if r.evidence else ""
    return f"{said}That is not right: {r.correction.strip()}"


def _missed_tip(question: Question, r: KeyPointResult) -> str:
    kp = question.key_point(r.key_point_id)
    return kp.tip or f"Add this point: {_sentence(kp.statement)}."


def _named_term(phrasings: Sequence[str], quote: str) -> str:
    """The phrasing the candidate actually used (so the tip says "you named PSI", not a rubric term)."""
    said = {t.stem for t in tokenize(quote)}
    best, best_n = "", 0
    for p in phrasings:
        stems = {t.stem for t in tokenize(p)}
        if stems and stems <= said and len(stems) > best_n:
            best, best_n = p, len(stems)
    return best


def _partial_tip(question: Question, r: KeyPointResult) -> str:
    kp = question.key_point(r.key_point_id)
    quote = r.evidence.quote if r.evidence else ""
    term = _named_term(kp.phrasings, quote)
    said = f' ("{_quote(quote)}")' if quote else ""
    if term:
        return (f"You named {term}{said} but did not say what it does, how or why. Explain it: "
                f"{_sentence(kp.statement)}.")
    return f"You touched on this{said} but did not make the point. Say it outright: {_sentence(kp.statement)}."


def _vocabulary_tip(question: Question, results: Sequence[KeyPointResult], share: float) -> str:
    """For an answer marked down for being mostly names: which names it used, and what to do instead."""
    named = [_named_term(question.key_point(r.key_point_id).phrasings, r.evidence.quote)
             for r in results if r.verdict == "partial" and r.evidence]
    named = list(dict.fromkeys(n for n in named if n))
    lead = f"You named {', '.join(named[:4])}, but about" if named else "About"
    return (f"{lead} {round(share * 100)}% of what you said is tool names and buzzwords: name fewer things "
            "and, for each, say what it does in your system and why you chose it.")


def _delivery_tips(d: Delivery, question: Question, o: DeliveryOptions) -> list[tuple[float, str]]:
    tips: list[tuple[float, str]] = []
    if d.words_per_minute is not None:
        if d.words_per_minute > o.pace_high_wpm:
            tips.append((0.5, f"You spoke at about {d.words_per_minute:.0f} words per minute; slow down to "
                              f"{o.pace_low_wpm:.0f}-{o.pace_high_wpm:.0f} so each point lands, and pause "
                              "briefly between ideas."))
        elif d.words_per_minute < o.pace_low_wpm:
            tips.append((0.4, f"You spoke at about {d.words_per_minute:.0f} words per minute; aim for "
                              f"{o.pace_low_wpm:.0f}-{o.pace_high_wpm:.0f} by planning your two or three main "
                              "points before you start."))
    if d.fillers_per_minute is not None and d.fillers_per_minute > o.fillers_high_per_minute and d.fillers:
        worst, count = max(d.fillers.items(), key=lambda kv: kv[1])
        tips.append((0.45, f'You used about {d.fillers_per_minute:.0f} filler words a minute, mostly "{worst}" '
                           f"({count} times); replace them with a short silent pause."))
    if d.length_ratio is not None and d.word_count:
        suggested = question.answer_time_s
        if d.length_ratio < o.length_low_ratio:
            said = (f"about {d.length_ratio * suggested:.0f} s" if d.duration_s is not None
                    else f"{d.word_count} words, about {d.length_ratio * suggested:.0f} s spoken")
            tips.append((0.6, f"Your answer was short for this question ({said} of a suggested {suggested} s); "
                              "develop each point with a concrete example."))
        elif d.length_ratio > o.length_high_ratio:
            tips.append((0.35, f"Your answer ran long (about {d.length_ratio * suggested:.0f} s against a "
                               f"suggested {suggested} s); lead with the key points and cut the detail."))
    if len(d.long_pauses) >= 2:
        longest = max(p.duration_s for p in d.long_pauses)
        tips.append((0.3, f"You paused for more than {o.long_pause_s:g} s {len(d.long_pauses)} times (longest "
                          f"{longest:.0f} s); if you need time, say so (\"let me think about that\") and outline "
                          "your answer first."))
    return tips


def _star_tips(question: Question, d: Delivery, text: str) -> list[tuple[float, str]]:
    if d.star is None:
        return []
    star = question.star or {}
    missing = [p for p in ("result", "action", "situation", "task") if not d.star.get(p)]
    tips: list[tuple[float, str]] = []
    for rank, part in enumerate(missing):
        hint = star.get(part, "")
        if part == "result":
            msg = "End with a measurable Result: what changed, with a number (for example \"cut incidents by 40%\")"
        else:
            msg = f"Make the {part.capitalize()} explicit"
        tips.append((0.9 - 0.1 * rank, msg + (f": {_sentence(hint)}." if hint else ".")))
    if d.star.get("result") and not has_measurable_result(text):
        tips.append((0.55, "Your Result has no number; quantify it (time saved, error rate, cost, incidents)."))
    return tips


def build_tips(question: Question, results: Sequence[KeyPointResult], delivery: Delivery, text: str,
               options: DeliveryOptions = DeliveryOptions(), vocabulary_share: float = 0.0,
               content: ContentOptions = ContentOptions()) -> tuple[str, ...]:
    """Up to four tips ranked by value; none for a point the answer already covers.

    An answer marked down for being mostly names and buzzwords (``vocabulary_share``, see
    ``content.vocabulary_factor``) is told so first, after a wrong claim.
    """
    max_w = max((r.weight for r in results), default=1.0) or 1.0
    ranked: list[tuple[float, str]] = []
    for r in results:
        gap = (r.weight / max_w) * (1.0 - r.strength)
        if r.verdict == "incorrect":
            ranked.append((1.5 + r.weight / max_w, _incorrect_tip(r)))
        elif r.verdict == "partial":
            ranked.append((0.5 + gap, _partial_tip(question, r)))
        elif r.verdict == "missed":
            ranked.append((0.4 + gap, _missed_tip(question, r)))
    if vocabulary_factor(vocabulary_share, content) < 1.0:
        ranked.append((1.45, _vocabulary_tip(question, results, vocabulary_share)))
    ranked += _delivery_tips(delivery, question, options)
    ranked += _star_tips(question, delivery, text)
    ranked.sort(key=lambda x: -x[0])
    return tuple(list(dict.fromkeys(t for _, t in ranked))[:MAX_TIPS])
