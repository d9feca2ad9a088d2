"""The interviewer-policy protocol and the context it decides on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from ..bank import Question
from ..scoring.feedback import KeyPointResult
from ..transcript import Transcript


@dataclass(frozen=True)
class TurnContext:
    """Everything a policy may look at after an answer.

    Attributes:
        answers: The main answer then each follow-up answer so far.
        coverage: Offline key-point coverage of all answers so far (the policy's
            ground truth for "what was covered", whatever generates the wording).
        probed: Key point ids already asked about in follow-ups of this question.
        follow_ups_left: Remaining follow-up budget for this question.
        next_question: The question after this one (for transitions), if any.
    """

    question: Question
    answers: tuple[Transcript, ...]
    coverage: tuple[KeyPointResult, ...]
    probed: tuple[str, ...]
    follow_ups_left: int
    next_question: Question | None = None


@dataclass(frozen=True)
class FollowUpDecision:
    """Ask this follow-up, probing ``key_point_id``.

    ``sentences`` streams the wording when an LLM produces it; ``text`` is then the
    validated full text once known (channels use what the stream yields).
    """

    text: str
    key_point_id: str
    source: str = "rubric"
    sentences: AsyncIterator[str] | None = None


class InterviewerPolicy(Protocol):
    name: str

    async def follow_up(self, ctx: TurnContext) -> FollowUpDecision | None:
        """A follow-up to ask now, or None to move on."""

    async def transition(self, ctx: TurnContext) -> str | None:
        """A short bridge before the next question ("Thanks. Let's talk about serving."), or None."""
