"""The one result type every grader returns, and its plain-data form for wire and store.

Offline and LLM graders both produce :class:`Feedback`, so channels, the store and
reports never care which one graded an answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..transcript import Transcript, word_char_ranges


@dataclass(frozen=True)
class Evidence:
    """The transcript span that shows a key point was covered.

    ``start_char``/``end_char`` index into the graded transcript text; times are set
    when the answer was spoken (word timings), so playback can jump to the quote.
    """

    quote: str
    start_char: int
    end_char: int
    start_s: float | None = None
    end_s: float | None = None

    @classmethod
    def of_span(cls, transcript: Transcript, start: int, end: int,
                ranges: list[tuple[int, int] | None] | None = None) -> "Evidence":
        """The quote ``transcript.text[start:end]`` with the seconds its words were spoken (when timed).

        ``ranges`` (from :func:`~voice_interviewer.transcript.word_char_ranges`) can be
        passed in when several spans of the same transcript are quoted.
        """
        start_s = end_s = None
        if transcript.words:
            ranges = ranges if ranges is not None else word_char_ranges(transcript.text, transcript.words)
            hits = [w for w, r in zip(transcript.words, ranges) if r is not None and r[1] > start and r[0] < end]
            if hits:
                start_s, end_s = round(hits[0].start_s, 3), round(hits[-1].end_s, 3)
        return cls(transcript.text[start:end], start, end, start_s, end_s)


VERDICTS = ("covered", "partial", "missed", "incorrect")
VERDICT_LABELS = {"covered": "Covered", "partial": "Partly covered", "missed": "Missed", "incorrect": "Incorrect"}
PARTIAL_MIN_STRENGTH = 0.3  # below this a point that was not named counts as missed


def derive_verdict(covered: bool, partial: bool, strength: float) -> str:
    """The verdict of a result stored before verdicts existed (no misconception check ran then)."""
    if covered:
        return "covered"
    return "partial" if partial or strength >= PARTIAL_MIN_STRENGTH else "missed"


@dataclass(frozen=True)
class KeyPointResult:
    """One key point of one answer.

    ``verdict`` is what the candidate is told: ``covered`` (said and explained),
    ``partial`` (named but not explained, or only half made), ``missed`` (not said) or
    ``incorrect`` (a known misconception was stated: ``evidence`` quotes it and
    ``correction`` gives the right version). ``strength`` (0..1) is the matcher's
    confidence that the point was made; ``covered``/``partial`` mirror the verdict for
    older readers.
    """

    key_point_id: str
    statement: str
    weight: float
    covered: bool
    strength: float
    evidence: Evidence | None = None
    partial: bool = False
    verdict: str = ""
    correction: str = ""
    misconception: str = ""  # the wrong claim recognised, when incorrect

    def __post_init__(self) -> None:
        if not self.verdict:
            object.__setattr__(self, "verdict", derive_verdict(self.covered, self.partial, self.strength))
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {', '.join(VERDICTS)}")


@dataclass(frozen=True)
class Pause:
    start_s: float
    duration_s: float


@dataclass(frozen=True)
class Delivery:
    """How the answer was delivered.

    Rates are None for typed answers (no timings). ``length_ratio`` is answer duration
    (or word count against a speaking-rate estimate for typed answers) divided by the
    question's suggested time. ``star`` maps each STAR part to whether it was present,
    for behavioural questions only.
    """

    word_count: int
    duration_s: float | None = None
    words_per_minute: float | None = None
    filler_count: int = 0
    fillers_per_minute: float | None = None
    fillers: dict[str, int] = field(default_factory=dict)
    long_pauses: tuple[Pause, ...] = ()
    length_ratio: float | None = None
    star: dict[str, bool] | None = None
    score: float = 1.0  # 0..1


@dataclass(frozen=True)
class Feedback:
    """The grade of one question's answer (main answer plus any follow-up answers).

    Attributes:
        content_score: Weighted key-point coverage, 0..1.
        overall: 0..100, content-weighted blend with delivery.
        tips: 2-4 specific, actionable tips, most important first.
        grader: "offline" or "llm".
        offline_overall: The offline scorer's overall, always kept beside an LLM grade.
        explanation: Free-text reasoning (LLM grader), empty offline.
    """

    question_id: str
    content_score: float
    overall: float
    key_points: tuple[KeyPointResult, ...]
    delivery: Delivery
    tips: tuple[str, ...]
    grader: str = "offline"
    offline_overall: float | None = None
    explanation: str = ""

    @property
    def score(self) -> float:
        """Overall on 0..1 (the grading entry point's ``score``)."""
        return round(self.overall / 100.0, 4)

    @property
    def covered(self) -> list[KeyPointResult]:
        return [k for k in self.key_points if k.covered]

    @property
    def missed(self) -> list[KeyPointResult]:
        return [k for k in self.key_points if not k.covered]

    @property
    def incorrect(self) -> list[KeyPointResult]:
        return [k for k in self.key_points if k.verdict == "incorrect"]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = self.score
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Feedback":
        dv = dict(d["delivery"])
        dv["long_pauses"] = tuple(Pause(**p) for p in dv.get("long_pauses", ()))
        kps = tuple(
            KeyPointResult(**{**k, "evidence": Evidence(**k["evidence"]) if k.get("evidence") else None})
            for k in d["key_points"]
        )
        return cls(
            question_id=d["question_id"], content_score=d["content_score"], overall=d["overall"],
            key_points=kps, delivery=Delivery(**dv), tips=tuple(d["tips"]), grader=d.get("grader", "offline"),
            offline_overall=d.get("offline_overall"), explanation=d.get("explanation", ""),
        )
