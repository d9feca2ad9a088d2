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
from collections.abc import Sequence
from dataclasses import dataclass

from ..bank import Question
from ..transcript import Transcript
from .feedback import Delivery, Pause
from .text import find_fillers, tokenize

# Numbers as people say them: "went from nine minutes to four" is as measurable as "9 to 4".
NUMBER = (r"(?:\d+(?:[.,]\d+)?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
          r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
          r"eighty|ninety|hundred|thousand|million|billion|half|a third|a quarter|a couple of|a dozen)")
UNIT = r"(?:%|percent|x\b|times|hours?|minutes?|seconds?|days?|weeks?|months?|ms|milliseconds?|points?|k\b)"

STAR_CUES: dict[str, tuple[str, ...]] = {
    "situation": (
        r"\bat my (?:last|previous|current|old|first) (?:company|job|role|team|employer|place)",
        r"\b(?:when|while) i was (?:at|working|on)\b", r"\bin my (?:last|previous|current) (?:role|job|team)",
        r"\bwe had (?:a|an|this)\b", r"\bthere was (?:a|an|this)\b", r"\bback (?:in|when)\b",
        r"\bone time\b", r"\ba few (?:years|months) ago\b", r"\bat the time\b", r"\bthe situation\b",
        r"\bwe were (?:running|using|seeing|building)\b", r"\bour (?:team|company|model|system) (?:was|had)\b",
        # A story opener: "So a data scientist on the search team had ...", "Last year our churn model ..."
        r"^\W*(?:(?:so|okay|um|uh|well|sure)\W+)*(?:a|an|one|last|at|in|on|when|while|back|two|three|a few|"
        r"during|early|this)\b[^.]{0,80}?\b(?:had|was|were|team|company|job|role|project|quarter|year)\b",
    ),
    "task": (
        r"\bi was (?:responsible|in charge|asked|tasked|the one|on call|leading|the owner)\b",
        r"\bmy (?:job|task|role|goal|responsibility) was\b", r"\bi (?:had|needed) to\b", r"\bwe (?:had|needed) to\b",
        r"\bthe (?:goal|task|challenge|problem) was\b", r"\bi owned\b", r"\bmy team owned\b",
        r"\bi had (?:two|three|a few|some|a couple of|one|real|serious) (?:concerns|worries|problems|issues|"
        r"objections|questions)\b", r"\b(?:my|our) (?:concern|worry|objection) was\b", r"\bit was (?:my|on me)\b",
    ),
    "action": (
        r"\bi (?:decided|built|wrote|added|set up|created|implemented|designed|ran|introduced|rolled|changed|"
        r"moved|investigated|traced|found|fixed|proposed|automated|led|migrated|retrained|started|put)\b",
        r"\bso i\b", r"\bwhat i did\b", r"\bmy approach\b", r"\bthe first thing i did\b",
        r"\bwe (?:decided|built|added|set up|created|implemented|rolled back|retrained|introduced|fixed)\b",
        # Any first-person past action in speech: "I sat down with them", "we agreed on a plan".
        r"\b(?:i|we) (?:\w+ed|sat|ran|took|made|wrote|built|set|led|went|got|put|brought|drove|began|chose|"
        r"sent|held|kept|met|told|spoke|found|did|dug|pulled|split|cut|shut|paused|rolled)\b",
    ),
    "result": (
        r"\bas a result\b", r"\bin the end\b", r"\bresult(?:ed)? (?:was|in)\b", r"\bwhich (?:meant|led to|cut|"
        r"reduced|saved|improved|brought)\b",
        r"\b(?:reduced|cut|improved|increased|dropped|saved|brought|lowered|raised|recovered|fell|rose|went|"
        r"came|halved|doubled|tripled)\b[^.]{0,60}?" + rf"(?:\b{NUMBER}\s*{UNIT}|by half|in half)",
        rf"\bfrom\s+(?:about\s+|around\s+)?{NUMBER}\b[^.]{{0,40}}?\bto\s+(?:about\s+|around\s+|under\s+)?{NUMBER}\b",
        rf"\b{NUMBER}\s*(?:%|percent)", r"\b(?:halved|doubled|tripled)\b",
        r"\bafter that,? (?:we|the|it)\b.{0,40}\b(?:never|no longer|stopped)\b",
        r"\bi learned\b", r"\bthe outcome\b", r"\bsince then\b", r"\b(?:it|we|this|that) ended up\b",
        r"\bthe (?:lesson|takeaway|upshot|net effect)\b", r"\bin the end\b", r"\bafterwards\b",
    ),
}
_STAR_RE = {part: [re.compile(c, re.IGNORECASE) for c in cues] for part, cues in STAR_CUES.items()}
_MEASURABLE = re.compile(rf"\d|\b{NUMBER}\s*{UNIT}|\bfrom\s+{NUMBER}\b[^.]{{0,40}}?\bto\s+{NUMBER}\b|"
                         r"\b(?:halved|doubled?|tripled?|by half|in half)\b", re.IGNORECASE)


def has_measurable_result(text: str) -> bool:
    """Whether an answer quantifies anything, in digits or in words ("nine minutes to four")."""
    return bool(_MEASURABLE.search(text))


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
        fillers_high_per_minute: Filler rate above which a tip names the commonest filler.
        length_low_ratio: Answer length (vs suggested time) below which it is too short.
        length_high_ratio: Answer length (vs suggested time) above which it is too long.
    """

    long_pause_s: float = 2.5
    pace_low_wpm: float = 110.0
    pace_high_wpm: float = 170.0
    typed_wpm: float = 150.0
    fillers_ok_per_min: float = 2.0
    fillers_bad_per_min: float = 12.0
    fillers_high_per_minute: float = 4.0
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


@dataclass(frozen=True)
class AnswerPace:
    """Pace and fillers of one answer, by the scorer's definitions (exports reuse them)."""

    word_count: int
    fillers: dict[str, int]
    speech_s: float | None
    words_per_minute: float | None

    @property
    def filler_count(self) -> int:
        return sum(self.fillers.values())


def answer_pace(t: Transcript) -> AnswerPace:
    """Words, fillers (context-aware, ``text.find_fillers``) and words per minute of speech.

    Pace is timed words over the span from the first word to the last; typed answers
    (no word timings) have no pace.
    """
    toks = tokenize(t.text)
    fillers = Counter(f for f, _, _ in find_fillers(t.text, toks))
    span = speech_span_s(t)
    wpm = round(len(t.words) / (span / 60.0), 1) if span else None
    return AnswerPace(len(toks), dict(fillers.most_common()), span, wpm)


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
        pace = answer_pace(a)
        word_count += pace.word_count
        fillers.update(pace.fillers)
        if a.words:
            pauses += long_pauses(a, o.long_pause_s, offset)
            speech_s += pace.speech_s or 0.0
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
