"""Delivery measures: pace, fillers, long pauses, length against the suggested time, STAR.

Each answer (main or follow-up) is measured on its own — a pause is a gap
*inside* one answer, never the time between an answer and the next question —
and the per-answer figures are then combined for the question's feedback.
Typed answers have no timings, so only what can be measured (length, fillers
by word, STAR) counts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ..bank import Question
from ..transcript import Transcript
from .feedback import Delivery, Pause
from .text import find_fillers, tokenize

STAR_CUES: dict[str, tuple[str, ...]] = {
    "situation": (
        r"\bat my (?:last|previous|current|old|first) (?:company|job|role|team|employer|place)",
        r"\b(?:when|while) i was (?:at|working|on)\b", r"\bin my (?:last|previous|current) (?:role|job|team)",
        r"\bwe had (?:a|an|this)\b", r"\bthere was (?:a|an|this)\b", r"\bback (?:in|when)\b",
        r"\bone time\b", r"\ba few (?:years|months) ago\b", r"\bat the time\b", r"\bthe situation\b",
        r"\bwe were (?:running|using|seeing|building)\b", r"\bour (?:team|company|model|system) (?:was|had)\b",
    ),
    "task": (
        r"\bi was (?:responsible|in charge|asked|tasked|the one|on call|leading|the owner)\b",
        r"\bmy (?:job|task|role|goal|responsibility) was\b", r"\bi (?:had|needed) to\b", r"\bwe (?:had|needed) to\b",
        r"\bthe (?:goal|task|challenge|problem) was\b", r"\bi owned\b", r"\bmy team owned\b",
    ),
    "action": (
        r"\bi (?:decided|built|wrote|added|set up|created|implemented|designed|ran|introduced|rolled|changed|"
        r"moved|investigated|traced|found|fixed|proposed|automated|led|migrated|retrained|started|put)\b",
        r"\bso i\b", r"\bwhat i did\b", r"\bmy approach\b", r"\bthe first thing i did\b",
        r"\bwe (?:decided|built|added|set up|created|implemented|rolled back|retrained|introduced|fixed)\b",
    ),
    "result": (
        r"\bas a result\b", r"\bin the end\b", r"\bresult(?:ed)? (?:was|in)\b", r"\bwhich (?:meant|led to|cut|"
        r"reduced|saved|improved|brought)\b",
        r"\b(?:reduced|cut|improved|increased|dropped|saved|brought|lowered|raised|recovered)\b[^.]{0,60}?"
        r"(?:\d+(?:\.\d+)?\s*(?:%|percent|x|times|hours?|minutes?|days?|weeks?|ms|points?)|by half|in half)",
        r"\b\d+(?:\.\d+)?\s*(?:%|percent)\b", r"\bafter that,? (?:we|the|it)\b.{0,40}\b(?:never|no longer|stopped)\b",
        r"\bi learned\b", r"\bthe outcome\b", r"\bsince then\b",
    ),
}
_STAR_RE = {part: [re.compile(c, re.IGNORECASE) for c in cues] for part, cues in STAR_CUES.items()}
MEASURABLE_RESULT = re.compile(r"\d|\bhalf\b|\bdoubled?\b|\btripled?\b", re.IGNORECASE)


@dataclass(frozen=True)
class DeliveryOptions:
    """Delivery targets.

    Attributes:
        long_pause_s: A gap between two words longer than this is a long pause.
        pace_low_wpm: Lower end of a comfortable interview pace.
        pace_high_wpm: Upper end of a comfortable interview pace.
        typed_wpm: Speaking rate used to turn a typed answer's word count into a duration.
        fillers_ok_per_min: Filler rate that costs nothing.
        fillers_bad_per_min: Filler rate at which the filler part of the score reaches 0.
        length_low_ratio: Answer length (vs suggested time) below which it is too short.
        length_high_ratio: Answer length (vs suggested time) above which it is too long.
    """

    long_pause_s: float = 2.5
    pace_low_wpm: float = 110.0
    pace_high_wpm: float = 170.0
    typed_wpm: float = 150.0
    fillers_ok_per_min: float = 2.0
    fillers_bad_per_min: float = 12.0
    length_low_ratio: float = 0.33
    length_high_ratio: float = 1.6


def star_parts(text: str) -> dict[str, bool]:
    """Which STAR parts a behavioural answer contains, from cue phrases."""
    return {part: any(r.search(text) for r in regs) for part, regs in _STAR_RE.items()}


def speech_span_s(t: Transcript) -> float | None:
    """Seconds from the first word's start to the last word's end (None for typed answers)."""
    if not t.words:
        return None
    return max(0.0, t.words[-1].end_s - t.words[0].start_s)


def long_pauses(t: Transcript, threshold_s: float, offset_s: float = 0.0) -> list[Pause]:
    """Gaps longer than ``threshold_s`` between consecutive words of one answer."""
    out = []
    for a, b in zip(t.words, t.words[1:]):
        gap = b.start_s - a.end_s
        if gap > threshold_s:
            out.append(Pause(round(a.end_s + offset_s, 3), round(gap, 3)))
    return out


def _band(value: float, low: float, high: float, zero_low: float, zero_high: float) -> float:
    """1 inside [low, high], falling linearly to 0 at zero_low / zero_high."""
    if value < low:
        return max(0.0, (value - zero_low) / (low - zero_low))
    if value > high:
        return max(0.0, (zero_high - value) / (zero_high - high))
    return 1.0


def measure(question: Question, answers: Sequence[Transcript],
            options: DeliveryOptions = DeliveryOptions()) -> Delivery:
    """Delivery of a question's answers: each answer measured alone, then combined."""
    o = options
    answers = [a for a in answers if a.text.strip()]
    word_count = 0
    fillers: Counter[str] = Counter()
    pauses: list[Pause] = []
    speech_s = 0.0
    timed_words = 0
    spoken = bool(answers) and all(a.words for a in answers)
    offset = 0.0
    for a in answers:
        toks = tokenize(a.text)
        word_count += len(toks)
        fillers.update(f for f, _, _ in find_fillers(a.text, toks))
        if a.words:
            pauses += long_pauses(a, o.long_pause_s, offset)
            speech_s += speech_span_s(a) or 0.0
            timed_words += len(a.words)
        offset += a.duration_s or (a.words[-1].end_s if a.words else 0.0)
    filler_count = sum(fillers.values())
    main = answers[0] if answers else None
    if main is None:
        length_ratio = 0.0
    elif main.words:
        length_ratio = (speech_span_s(main) or 0.0) / question.answer_time_s
    else:
        length_ratio = len(tokenize(main.text)) / o.typed_wpm * 60.0 / question.answer_time_s
    wpm = fpm = None
    duration = None
    if spoken and speech_s > 0:
        duration = round(speech_s, 2)
        wpm = round(timed_words / (speech_s / 60.0), 1)
        fpm = round(filler_count / (speech_s / 60.0), 2)
    star = star_parts(" ".join(a.text for a in answers)) if question.is_behavioural else None

    parts: list[tuple[float, float]] = [
        (_band(length_ratio, o.length_low_ratio, o.length_high_ratio, 0.0, o.length_high_ratio * 2.5), 1.0)]
    if wpm is not None:
        parts.append((_band(wpm, o.pace_low_wpm, o.pace_high_wpm, o.pace_low_wpm / 2, o.pace_high_wpm * 1.5), 1.0))
    if fpm is not None:
        parts.append((_band(fpm, 0.0, o.fillers_ok_per_min, -1.0, o.fillers_bad_per_min), 1.0))
        parts.append((max(0.0, 1.0 - 0.15 * len(pauses)), 0.5))
    elif word_count:
        per_100 = 100.0 * filler_count / word_count  # typed: fillers by word (about 1.5 per 100 ~ 2/min)
        parts.append((_band(per_100, 0.0, 1.5, -1.0, 8.0), 0.5))
    if star is not None:
        parts.append((sum(star.values()) / 4.0, 1.0))
    score = sum(s * w for s, w in parts) / sum(w for _, w in parts) if word_count else 0.0
    return Delivery(
        word_count=word_count, duration_s=duration, words_per_minute=wpm, filler_count=filler_count,
        fillers_per_minute=fpm, fillers=dict(fillers.most_common()), long_pauses=tuple(pauses),
        length_ratio=round(length_ratio, 3), star=star, score=round(score, 4),
    )
