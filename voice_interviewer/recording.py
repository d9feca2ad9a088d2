"""What the interview records as it happens: the seam between the flow/channels and the store.

The flow reports turns, answers and feedback; voice channels report audio frames as
they arrive, so that recordings reach disk while the candidate is still speaking.
:class:`NullRecorder` records nothing (scripting, unit tests); :class:`QueuedRecorder`
hands another recorder's work to a thread of its own, so a server's event loop never
waits for a disk or a database.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

log = logging.getLogger(__name__)

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

    def feedback(self, question: "Question", feedback: "Feedback", attempt: int = 1, turn_id: str = "") -> None:
        """A graded attempt (``turn_id`` is its main answer's turn); a later attempt becomes the question's grade."""

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
    def feedback(self, question, feedback, attempt=1, turn_id=""): pass
    def session_finished(self, report, status): pass


class QueuedRecorder:
    """Runs every call of ``inner`` on one worker thread, in the order the calls were made.

    A store writes to files and to a database, possibly over the network; the server's
    event loop carries every live session's audio and must not wait for that. Calls
    return at once, except :meth:`session_finished`, which waits until everything
    queued before it is stored: the flow calls it off the loop, and the session's
    report is sent only once the session is on record. An error in a queued call is
    logged, not raised: the interview goes on even when recording fails.
    """

    def __init__(self, inner: Recorder, name: str = "recorder"):
        self.inner = inner
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._stopping = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            method, args = item
            try:
                method(*args)
            except Exception:  # noqa: BLE001 - recording must never end an interview
                log.exception("recording %s failed", getattr(method, "__name__", method))

    def _put(self, method: Callable[..., Any], *args: Any) -> None:
        if not self._stopped:
            self._queue.put((method, args))

    def session_started(self, session: "SessionInfo") -> None:
        self._put(self.inner.session_started, session)

    def utterance(self, utterance: "Utterance") -> None:
        self._put(self.inner.utterance, utterance)

    def interviewer_audio(self, turn_id: str, pcm16: bytes, sample_rate: int) -> None:
        self._put(self.inner.interviewer_audio, turn_id, pcm16, sample_rate)

    def candidate_audio(self, turn_id: str, pcm16: bytes, sample_rate: int) -> None:
        self._put(self.inner.candidate_audio, turn_id, pcm16, sample_rate)

    def segment_committed(self, turn_id: str, segment: "Segment") -> None:
        self._put(self.inner.segment_committed, turn_id, segment)

    def answer(self, question: "Question", turn_id: str, reply: "Reply") -> None:
        self._put(self.inner.answer, question, turn_id, reply)

    def feedback(self, question: "Question", feedback: "Feedback", attempt: int = 1, turn_id: str = "") -> None:
        self._put(self.inner.feedback, question, feedback, attempt, turn_id)

    def session_finished(self, report: "SessionReport | None", status: str) -> None:
        """Queue the end of the session, then wait until it and everything before it is stored."""
        self._put(self.inner.session_finished, report, status)
        self.stop()
        self._thread.join()

    def stop(self) -> None:
        """Let the worker end once the calls already queued are done (later calls are dropped)."""
        with self._stopping:
            if not self._stopped:
                self._stopped = True
                self._queue.put(None)

