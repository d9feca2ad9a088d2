"""The grader protocol: fast offline coverage for the policy, full grade for feedback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..bank import Question
from ..transcript import Transcript
from .feedback import Feedback, KeyPointResult


class Grader(Protocol):
    name: str

    def coverage(self, question: Question, answers: Sequence[Transcript]) -> tuple[KeyPointResult, ...]:
        """Key-point coverage of the answers so far (fast: called after every answer)."""

    async def grade(self, question: Question, answers: Sequence[Transcript]) -> Feedback:
        """The full grade of a question's main answer plus follow-up answers."""
