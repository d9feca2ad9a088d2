"""How a later attempt at a question compares with the one before it.

The candidate who tries again wants to know what changed: which key points are now
made that were not, which were lost, and how the score moved. Verdicts are ranked
(incorrect < missed < partial < covered) so a point stated wrongly and then left
out counts as a gain, and one made in full and then only named counts as a loss.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .feedback import Feedback

VERDICT_RANK = {"incorrect": 0, "missed": 1, "partial": 2, "covered": 3}


@dataclass(frozen=True)
class PointChange:
    """One key point whose verdict changed between two attempts."""

    key_point_id: str
    statement: str
    before: str
    after: str


@dataclass(frozen=True)
class AttemptComparison:
    """An attempt against the previous graded attempt of the same question.

    ``score_change`` is ``score - previous_score`` on 0..100, rounded to one decimal.
    ``gained`` and ``lost`` hold the key points whose verdict went up or down, in the
    question's order; points whose verdict stayed are in neither.
    """

    attempt: int
    previous_attempt: int
    previous_score: float
    score: float
    score_change: float
    gained: tuple[PointChange, ...]
    lost: tuple[PointChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_attempts(previous: Feedback, current: Feedback, *, previous_attempt: int,
                     attempt: int) -> AttemptComparison:
    """Compare ``current`` with ``previous``; both must grade the same question."""
    if previous.question_id != current.question_id:
        raise ValueError(f"cannot compare attempts at different questions: {previous.question_id!r} "
                         f"and {current.question_id!r}")
    before = {k.key_point_id: k.verdict for k in previous.key_points}
    gained: list[PointChange] = []
    lost: list[PointChange] = []
    for k in current.key_points:
        was = before.get(k.key_point_id)
        if was is None or was == k.verdict:
            continue  # a point the previous grade did not judge cannot have changed
        change = PointChange(k.key_point_id, k.statement, was, k.verdict)
        (gained if VERDICT_RANK[k.verdict] > VERDICT_RANK[was] else lost).append(change)
    return AttemptComparison(attempt=attempt, previous_attempt=previous_attempt,
                             previous_score=round(previous.overall, 1), score=round(current.overall, 1),
                             score_change=round(current.overall - previous.overall, 1),
                             gained=tuple(gained), lost=tuple(lost))
