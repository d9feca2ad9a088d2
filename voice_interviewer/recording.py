"""What the interview records as it happens: the seam between the flow/channels and the store.

The flow reports turns, answers and feedback; voice channels report audio frames as
they arrive, so that recordings reach disk while the candidate is still speaking.
:class:`NullRecorder` records nothing (scripting, unit tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .bank import Question
    from .channels.base import Reply, SessionInfo, Utterance
    from .report import SessionReport
    from .scoring.feedback import Feedback
    from .transcript import Segment


class Recorder(Protocol):
    def session_started(self, session: "SessionInfo") -> None: ...

    def utterance(self, utterance: "Utterance") -> None:
        """The interviewer said something (text; audio comes through :meth:`interviewer_audio`)."""

    def interviewer_audio(self, turn_id: str, pcm16: bytes, sample_rate: int) -> None: ...

    def candidate_audio(self, turn_id: str, pcm16: bytes, sample_rate: int) -> None:
        """Frames of the candidate's answer, appended as they arrive (already at 16 kHz mono)."""

    def segment_committed(self, turn_id: str, segment: "Segment") -> None:
        """A transcript segment is final: store it now, not at end of answer."""

    def answer(self, question: "Question", turn_id: str, reply: "Reply") -> None: ...

    def feedback(self, question: "Question", feedback: "Feedback") -> None: ...

    def session_finished(self, report: "SessionReport | None", status: str) -> None:
        """``status`` is "completed", "stopped" or "failed"."""


class NullRecorder:
    """Records nothing."""

    def session_started(self, session): pass
    def utterance(self, utterance): pass
    def interviewer_audio(self, turn_id, pcm16, sample_rate): pass
    def candidate_audio(self, turn_id, pcm16, sample_rate): pass
    def segment_committed(self, turn_id, segment): pass
    def answer(self, question, turn_id, reply): pass
    def feedback(self, question, feedback): pass
    def session_finished(self, report, status): pass
