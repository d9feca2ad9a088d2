"""The session report: per question, per round, per key point, delivery and top tips.

Pure aggregation over graded results; rendering to HTML/Markdown/JSON lives in
:mod:`voice_interviewer.export` so this stays testable without templates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from statistics import mean
from typing import Any

from .bank import Bank, Question
from .scoring.feedback import Feedback
from .transcript import Transcript


@dataclass(frozen=True)
class QuestionResult:
    """One question of a session: what was asked, answered and graded.

    ``feedback`` is None when the question was skipped or the session stopped first.
    ``follow_ups`` are the follow-up texts actually asked, in order. When the candidate
    answered the question more than once (review sessions), the fields describe the
    attempt that counts (the last graded one) and ``attempt_scores`` holds every
    attempt's score in order (None for an attempt that was not graded).
    """

    question: Question
    answers: tuple[Transcript, ...]
    follow_ups: tuple[str, ...]
    feedback: Feedback | None
    skipped: bool = False
    revealed: bool = False
    attempt_scores: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class RoundSummary:
    round_id: str
    title: str
    questions: int
    answered: int
    average_score: float | None  # 0..100 over answered questions


@dataclass(frozen=True)
class KeyPointStat:
    question_id: str
    key_point_id: str
    statement: str
    covered: bool
    strength: float
    verdict: str = ""  # covered, partial, missed or incorrect


@dataclass(frozen=True)
class SessionReport:
    session_id: str
    role: str
    role_title: str
    overall: float | None
    rounds: tuple[RoundSummary, ...]
    questions: tuple[dict[str, Any], ...]
    key_points: tuple[KeyPointStat, ...]
    delivery: dict[str, Any]
    top_tips: tuple[str, ...]
    interviewer: str = "rubric"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _avg(values: list[float]) -> float | None:
    return round(mean(values), 1) if values else None


def build_report(session_id: str, bank: Bank, results: list[QuestionResult],
                 interviewer: str = "rubric") -> SessionReport:
    """Aggregate graded questions into the end-of-session report."""
    graded = [r.feedback for r in results if r.feedback is not None]
    rounds = []
    for rnd in bank.rounds:
        in_round = [r for r in results if r.question.round == rnd.id]
        if not in_round:
            continue
        scores = [r.feedback.overall for r in in_round if r.feedback]
        rounds.append(RoundSummary(rnd.id, rnd.title, len(in_round), len(scores), _avg(scores)))

    questions = []
    key_points = []
    for r in results:
        fb = r.feedback
        questions.append({
            "id": r.question.id, "round": r.question.round, "text": r.question.text,
            "skipped": r.skipped, "revealed": r.revealed, "follow_ups": list(r.follow_ups),
            "answers": [a.text for a in r.answers],
            "score": fb.overall if fb else None,
            "content_score": fb.content_score if fb else None,
            "feedback": fb.to_dict() if fb else None,
            "strong_answer": r.question.strong_answer,
            **({"attempts": list(r.attempt_scores)} if len(r.attempt_scores) > 1 else {}),
        })
        if fb:
            key_points += [KeyPointStat(r.question.id, k.key_point_id, k.statement, k.covered, round(k.strength, 3),
                                        k.verdict)
                           for k in fb.key_points]

    wpms = [f.delivery.words_per_minute for f in graded if f.delivery.words_per_minute]
    fpms = [f.delivery.fillers_per_minute for f in graded
            if f.delivery.fillers_per_minute is not None]
    fillers: Counter[str] = Counter()
    for f in graded:
        fillers.update(f.delivery.fillers)
    delivery = {
        "words_per_minute": _avg(wpms),
        "fillers_per_minute": _avg(fpms),
        "filler_words": dict(fillers.most_common(5)),
        "long_pauses": sum(len(f.delivery.long_pauses) for f in graded),
    }

    # Top tips: the tips of the weakest answers first, without repeats.
    tips: list[str] = []
    for f in sorted(graded, key=lambda f: f.overall):
        for t in f.tips[:2]:
            if t not in tips:
                tips.append(t)
    return SessionReport(
        session_id=session_id, role=bank.role, role_title=bank.title,
        overall=_avg([f.overall for f in graded]), rounds=tuple(rounds),
        questions=tuple(questions), key_points=tuple(key_points), delivery=delivery,
        top_tips=tuple(tips[:5]), interviewer=interviewer,
    )
