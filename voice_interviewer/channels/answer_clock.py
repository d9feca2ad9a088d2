"""The time left for one answer, a clock that can be paused and resumed.

A paused answer (the candidate pressed pause, or the connection dropped) keeps its
time: only running time is counted. Pure: time comes from the injected clock, and
the channel schedules its own timer from :meth:`AnswerClock.remaining`.
"""

from __future__ import annotations

from collections.abc import Callable


class AnswerClock:
    """Counts down ``seconds`` of running time; created stopped.

    ``running`` is whether time is being counted now (it is not while paused, and
    not before :meth:`start`). :meth:`start` and :meth:`stop` are idempotent, so a
    pause during a disconnect, or a re-attach of a running answer, counts nothing twice.
    """

    def __init__(self, seconds: float, clock: Callable[[], float]):
        if seconds < 0:
            raise ValueError(f"an answer clock needs a time of 0 s or more, got {seconds!r}")
        self.clock = clock
        self._left = float(seconds)
        self._deadline: float | None = None

    @property
    def running(self) -> bool:
        return self._deadline is not None

    def remaining(self) -> float:
        """Seconds left (never below zero)."""
        if self._deadline is None:
            return max(0.0, self._left)
        return max(0.0, self._deadline - self.clock())

    def start(self) -> float:
        """Count time from now; returns the seconds left, for the caller's timer."""
        if self._deadline is None:
            self._deadline = self.clock() + self._left
        return self.remaining()

    def stop(self) -> None:
        """Stop counting; the time left is kept for the next :meth:`start`."""
        if self._deadline is not None:
            self._left = max(0.0, self._deadline - self.clock())
            self._deadline = None
