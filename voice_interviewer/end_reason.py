"""Why an answer ended, and so why a session that stopped early stopped: one name and one wording each.

Every channel (typed, websocket, desktop) ends an answer with one of these; the flow
keeps the one that stopped the session, the store writes its value, and the report,
exports and playback page word it from here. The values are the strings on the wire
and in the store, so stored sessions read the same as before.
"""

from __future__ import annotations

import enum


class EndReason(str, enum.Enum):
    """What ended an answer (and ``ERROR``/``INTERRUPTED``: what ended a session without an answer ending)."""

    DONE = "done"                    # the candidate said they were done (button, Enter)
    SILENCE = "silence"              # a long pause after speech
    TIMER = "timer"                  # the answer's time ran out
    TYPED = "typed"                  # a typed answer ended with an empty line
    SKIP = "skip"                    # the candidate skipped the question
    REVEAL = "reveal"                # the candidate asked what a strong answer covers
    STOP = "stop"                    # the candidate ended the interview
    DISCONNECTED = "disconnected"    # the connection dropped and did not come back in time
    SESSION_LIMIT = "session_limit"  # the server's limit on a session's length was reached
    ERROR = "error"                  # an error stopped the session
    INTERRUPTED = "interrupted"      # the process recording the session died (set by recovery)

    def __str__(self) -> str:  # the value, as on the wire and in the store (also under Python 3.10)
        return self.value

    @classmethod
    def parse(cls, value: str | None) -> "EndReason | None":
        """The reason a stored or wire string names; None for no reason or one this version does not know.

        ``"quit"`` was written by older typed sessions for what is now ``STOP``.
        """
        if not value:
            return None
        if value == "quit":
            return cls.STOP
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def of_status(cls, status: str) -> "EndReason | None":
        """The reason implied by a session's stored status when its report names none."""
        return {"interrupted": cls.INTERRUPTED, "failed": cls.ERROR}.get(status)

    @property
    def ends_session(self) -> bool:
        """Whether an answer ending this way ends the whole session, not only the answer."""
        return self in _ENDS_SESSION

    @property
    def ended_because(self) -> str | None:
        """Why the session ended early, as the report says it; None for reasons that end only an answer."""
        return _ENDED_BECAUSE.get(self)

    @property
    def cut_short(self) -> str | None:
        """How playback labels an answer ended this way; None when the answer ended normally."""
        return _CUT_SHORT.get(self)


_ENDS_SESSION = frozenset({EndReason.STOP, EndReason.DISCONNECTED, EndReason.SESSION_LIMIT,
                           EndReason.ERROR, EndReason.INTERRUPTED})

_ENDED_BECAUSE = {
    EndReason.STOP: "you ended the interview",
    EndReason.DISCONNECTED: "the connection was lost and not resumed in time",
    EndReason.SESSION_LIMIT: "the session reached its time limit",
    EndReason.ERROR: "an error stopped the session",
    EndReason.INTERRUPTED: "the program recording it stopped (a crash or a shutdown)",
}

_CUT_SHORT = {
    EndReason.STOP: "cut short: you ended the interview",
    EndReason.DISCONNECTED: "cut short: the connection was lost",
    EndReason.SESSION_LIMIT: "cut short: the session reached its time limit",
    EndReason.INTERRUPTED: "cut short: the recording stopped",
    EndReason.TIMER: "time ran out",
}
