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
from .end_reason import EndReason
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
    """One round of the session; ``questions`` counts every question planned in it, reached or not."""

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
    grader: str = "offline"
    status: str = "completed"  # completed, stopped or failed
    end_reason: str | None = None  # why a stopped or failed session ended: an EndReason value
    not_reached: tuple[dict[str, Any], ...] = ()  # planned, ended before an answer: id, round, round_title, text
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The fields, plus the sentences every client shows the same way (who ran it, how it ended)."""
        return {**asdict(self), "ended_early": ended_early_text(self.status, self.end_reason, len(self.not_reached)),
                "ran": {"interviewer": INTERVIEWER_LABELS.get(self.interviewer, self.interviewer),
                        "grader": GRADER_LABELS.get(self.grader, self.grader)}}


INTERVIEWER_LABELS = {"rubric": "offline rubric", "llm": "language model"}
GRADER_LABELS = {"offline": "offline scorer", "llm": "language model"}

def ended_early_text(status: str, end_reason: str | None, not_reached: int) -> str | None:
    """The report's sentence for a session that did not run to its last question, or None if it did.

    ``end_reason`` is the stored end reason (see :class:`~voice_interviewer.end_reason.EndReason`,
    which words it)."""
    if status == "completed" and not not_reached:
        return None
    reason = EndReason.parse(end_reason)
    why = reason.ended_because if reason is not None else None
    rest = f"; {not_reached} question(s) not reached" if not_reached else ""
    return f"The session ended early{f': {why}' if why else ''}{rest}."


def _avg(values: list[float]) -> float | None:
    return round(mean(values), 1) if values else None


def build_report(session_id: str, bank: Bank, results: list[QuestionResult],
                 interviewer: str = "rubric", *, grader: str = "offline", planned: list[Question] | None = None,
                 status: str = "completed", end_reason: EndReason | None = None) -> SessionReport:
    """Aggregate graded questions into the end-of-session report.

    ``planned`` is every question the session meant to ask: those the session ended before
    answering (never asked, or asked and then stopped) are listed as not reached and count in
    their round, so a session that ended early says so.
    """
    graded = [r.feedback for r in results if r.feedback is not None]
    asked = {r.question.id for r in results}
    not_reached = [q for q in planned or () if q.id not in asked]
    titles = {r.id: r.title for r in bank.rounds}
    rounds = []
    for rnd in bank.rounds:
        in_round = [r for r in results if r.question.round == rnd.id]
        unreached = sum(q.round == rnd.id for q in not_reached)
        if not in_round and not unreached:
            continue
        scores = [r.feedback.overall for r in in_round if r.feedback]
        rounds.append(RoundSummary(rnd.id, rnd.title, len(in_round) + unreached, len(scores), _avg(scores)))

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
        top_tips=tuple(tips[:5]), interviewer=interviewer, grader=grader, status=status,
        end_reason=str(end_reason) if end_reason is not None and status != "completed" else None,
        not_reached=tuple({"id": q.id, "round": q.round, "round_title": titles.get(q.round, q.round),
                           "text": q.text} for q in not_reached),
    )
