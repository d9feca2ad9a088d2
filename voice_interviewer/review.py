"""Review between questions: what the candidate may choose, and when a choice is valid.

With review on, the flow stops after each question's feedback and waits for the
candidate: continue to the next question, answer the same question again, or end.
The rules live here, apart from any socket or terminal, so every channel applies
the same ones and they are testable with plain values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import ProtocolError
from .protocol import NOTHING_TO_REVIEW, REVIEW_OFF
from .scoring.attempts import AttemptComparison


class ReviewChoice(str, enum.Enum):
    NEXT = "next"    # go on to the next question (or the report after the last one)
    RETRY = "retry"  # answer the same question again
    STOP = "stop"    # end the interview now


@dataclass(frozen=True)
class ReviewRequest:
    """One pause for review, after a question's feedback.

    Attributes:
        question_id: The question just graded.
        attempt: Which attempt that was (1 for the first answer).
        last: Whether it was the session's last question: continuing then shows the report.
    """

    question_id: str
    attempt: int
    last: bool


def attempt_turn_id(question_number: int, attempt: int) -> str:
    """The turn id of an attempt's main answer: ``q1`` for the first, ``q1r2`` for the second.

    Follow-ups append ``f1``, ``f2`` (``q1r2f1``), so every attempt's answers are stored
    under turns of their own and none overwrites another.
    """
    if question_number < 1 or attempt < 1:
        raise ValueError(f"question number and attempt start at 1, got {question_number} and {attempt}")
    return f"q{question_number}" if attempt == 1 else f"q{question_number}r{attempt}"


class ReviewGate:
    """Whether a ``next`` or ``retry`` from the candidate may be taken now.

    A channel opens the gate when the flow asks for a review and closes it with the
    candidate's choice; a choice that arrives while the gate is shut is a protocol
    error that names what is wrong, and changes nothing.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.pending: ReviewRequest | None = None

    def open(self, request: ReviewRequest) -> None:
        self.pending = request

    def choose(self, command: str) -> ReviewChoice:
        """Take ``next`` or ``retry`` for the open review; raise :class:`ProtocolError` if none is open."""
        choice = ReviewChoice(command)
        if not self.enabled:
            raise ProtocolError(REVIEW_OFF, f"{command!r} arrived but this session was started without review; "
                                            f"send 'start' with \"review\": true to pause after each question")
        if self.pending is None:
            raise ProtocolError(NOTHING_TO_REVIEW, f"{command!r} arrived with nothing to review; send it after "
                                                   f"a 'reviewing' message (after a question's feedback)")
        self.pending = None
        return choice

    def close(self) -> ReviewRequest | None:
        """Shut the gate without a choice from the candidate (the session is stopping)."""
        pending, self.pending = self.pending, None
        return pending


@dataclass(frozen=True)
class AttemptNote:
    """What a review session shows beside an attempt's feedback: which attempt, and what changed."""

    number: int
    comparison: AttemptComparison | None = None
