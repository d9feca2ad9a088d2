"""A token bucket: how much may arrive now, given how much arrived before.

The websocket channel uses it to refuse microphone audio that arrives much faster
than real time (a script replaying a file, a runaway client), which would otherwise
queue unbounded decode work. Pure: time comes from the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable


class TokenBucket:
    """Allow ``rate`` units a second on average, and bursts of up to ``burst`` units.

    The bucket starts full, so a client may send a burst at once (the audio buffered
    while the connection opened). A refused amount takes nothing from the bucket:
    the next, smaller or later, request may still pass.
    """

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]):
        if rate <= 0 or burst <= 0:
            raise ValueError(f"a token bucket needs a positive rate and burst, got rate={rate!r}, burst={burst!r}")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens = burst
        self._at: float | None = None

    def available(self) -> float:
        """Units that may be taken now."""
        if self._at is None:
            return self._tokens
        return min(self.burst, self._tokens + (self.clock() - self._at) * self.rate)

    def take(self, n: float) -> bool:
        """Take ``n`` units if that many are available; False (taking nothing) if not."""
        now = self.clock()
        tokens = self.available()
        self._at = now
        if n > tokens:
            self._tokens = tokens
            return False
        self._tokens = tokens - n
        return True
