"""How long the candidate waited: stage times from the end of an answer to the interviewer's next audio.

The websocket channel marks each stage as it happens and attaches the times to the
first ``say`` after an answer (``latency_ms``), so a slow turn can be told apart:
transcription, grading and deciding, or synthesis. Pure: time comes from the
injected clock, so tests drive it without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable


class TurnLatency:
    """Stage times (milliseconds) of the turn after one answer.

    Stages: ``finish`` (end detected → transcript final), ``decide`` (→ the flow asks
    to speak: grading and policy), ``synth`` (→ first audio frame sent), and ``total``.
    Marks before :meth:`answer_ended` are ignored (the greeting has no answer before
    it); ``thinking`` and ``speaking`` keep their first mark, since a turn may think
    and speak several times before its audio goes out.
    """

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.reason = ""
        self._marks: dict[str, float] = {}

    def answer_ended(self, reason: str) -> None:
        self.reason = reason
        self._marks = {"end": self.clock()}

    def transcribed(self) -> None:
        if "end" in self._marks:
            self._marks["final"] = self.clock()

    def thinking(self) -> None:
        if "end" in self._marks:
            self._marks.setdefault("thinking", self.clock())

    def speaking(self) -> None:
        if "end" in self._marks:
            self._marks.setdefault("say", self.clock())

    def first_audio(self) -> dict[str, float] | None:
        """The stage times of the turn that just ended (once), or None if none is pending.

        A stage that was never marked takes no time: without a final transcript
        ``finish`` is 0, and without a ``speaking`` mark all the wait counts as ``decide``.
        """
        if "end" not in self._marks:
            return None
        m = self._marks
        now = self.clock()
        final = m.get("final", m["end"])
        say = m.get("say", now)
        self._marks = {}
        return {"finish": round((final - m["end"]) * 1000, 1), "decide": round((say - final) * 1000, 1),
                "synth": round((now - say) * 1000, 1), "total": round((now - m["end"]) * 1000, 1)}
