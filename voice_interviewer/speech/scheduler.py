"""One queue for every session's speech decodes: sized to the machine, finals first, captions on a budget.

A class practising at once shares two cores. What a candidate waits through is the
decode of an answer that has just ended; what they merely watch is the live caption.
So every decode in the process goes through one :class:`DecodeScheduler`:

* ``FINAL`` (an ended answer's open tail) runs before ``COMMIT`` (a segment closed at
  a pause, needed soon for the final transcript), which runs before ``CAPTION``;
* captions may occupy at most ``caption_slots`` workers (all but one, when there are
  two or more), so a final always finds a worker without waiting for a caption;
* captions share a global budget: :meth:`DecodeScheduler.caption_interval_s` stretches
  every session's caption cadence as more sessions caption and as urgent work queues,
  instead of letting captions delay finals.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from .workers import PriorityWorkers

FINAL, COMMIT, CAPTION = 0, 1, 2
KINDS = {"final": FINAL, "commit": COMMIT, "caption": CAPTION}

CAPTION_SHARE = 0.75
"""Fraction of the caption workers' time the captions of all sessions may use together.

The rest stays free for the commits and finals that arrive at random moments, and the
cores also carry speech synthesis and grading."""

ACTIVE_CAPTIONER_S = 5.0
"""A session that asked for a caption this recently counts towards the caption budget."""

CAPTION_COST_HALF_LIFE_S = 10.0
"""How fast the measured caption cost is forgotten once no caption runs.

The cost is only measured when a caption runs, and a high cost makes captions rare: without
forgetting, one slow caption (a loaded moment, a decode that ran every fallback temperature)
would keep every session's captions far apart for as long as the server runs."""

MAX_WORKERS = 4
"""More concurrent decodes than this only splits the cores finer without finishing any sooner."""


def usable_cores() -> int:
    """Cores this process may run on (respects CPU affinity and container limits where the OS says)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def size_for_cores(cores: int) -> tuple[int, int]:
    """``(workers, threads per decode)`` for a machine with ``cores`` cores.

    One decode per core, each on its own core's worth of threads: with several sessions
    the cores stay busy with independent decodes (throughput), and with two or more
    workers one can be kept free for finals. Above :data:`MAX_WORKERS` the remaining
    cores speed up each decode instead.
    """
    cores = max(1, cores)
    workers = min(cores, MAX_WORKERS)
    return workers, max(1, cores // workers)


class DecodeScheduler:
    """Runs decode calls on ``workers`` threads by kind (final, commit, caption) with a caption budget."""

    def __init__(self, workers: int, *, name: str = "speech-decode",
                 clock: Callable[[], float] = time.monotonic):
        self.workers = max(1, workers)
        self.caption_slots = max(1, self.workers - 1)
        self._pool = PriorityWorkers(self.workers, name, limits={CAPTION: self.caption_slots})
        self._clock = clock
        self._lock = threading.Lock()
        self._captioners: dict[Hashable, float] = {}
        self._cost_s = 0.0  # smoothed run time of one caption decode (not its wait), as last measured
        self._cost_at = 0.0

    def submit(self, kind: int, fn: Callable[..., Any], *args: Any, owner: Hashable | None = None) -> cf.Future:
        """Queue ``fn(*args)`` as a ``FINAL``, ``COMMIT`` or ``CAPTION`` decode.

        ``owner`` (the session's listener) counts the session towards the caption budget.
        """
        if kind not in (FINAL, COMMIT, CAPTION):
            raise ValueError(f"decode kind {kind!r} is not one of FINAL (0), COMMIT (1), CAPTION (2)")
        if kind != CAPTION:
            return self._pool.submit(kind, fn, *args)
        with self._lock:
            self._captioners[owner] = self._clock()
        return self._pool.submit(kind, self._timed, fn, args)

    def _timed(self, fn: Callable[..., Any], args: tuple) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            took = time.perf_counter() - t0
            with self._lock:
                self._cost_s = took if not self._cost_s else 0.7 * self._cost_s + 0.3 * took
                self._cost_at = self._clock()

    @property
    def caption_cost_s(self) -> float:
        """Smoothed run time of one caption decode, halved every :data:`CAPTION_COST_HALF_LIFE_S`
        since it was last measured."""
        with self._lock:
            idle_s = max(0.0, self._clock() - self._cost_at)
            return self._cost_s * 0.5 ** (idle_s / CAPTION_COST_HALF_LIFE_S)

    def promote(self, future: cf.Future) -> None:
        """A queued decode's answer just ended: run it as a final (no effect once it runs)."""
        self._pool.promote(future, FINAL)

    def waiting(self, more_urgent_than: int | None = None) -> int:
        return self._pool.waiting(more_urgent_than)

    def active_captioners(self) -> int:
        """Sessions that asked for a caption within :data:`ACTIVE_CAPTIONER_S`."""
        now = self._clock()
        with self._lock:
            for key in [k for k, t in self._captioners.items() if now - t > ACTIVE_CAPTIONER_S]:
                del self._captioners[key]
            return len(self._captioners)

    def caption_interval_s(self, base_s: float) -> float:
        """Least time between one session's caption decodes under the current load.

        All captioning sessions together may use :data:`CAPTION_SHARE` of the caption
        workers: with ``n`` sessions and a caption costing ``c`` seconds, each waits at
        least ``n·c / (slots·share)``. Every final or commit still waiting multiplies the
        interval again, so captions give way while urgent work drains.
        """
        sessions = max(1, self.active_captioners())
        budget_s = sessions * self.caption_cost_s / (self.caption_slots * CAPTION_SHARE)
        return max(base_s, budget_s) * (1 + self._pool.waiting(more_urgent_than=CAPTION))

    def shutdown(self) -> None:
        """Stop after the running decodes; queued ones are cancelled (idempotent)."""
        self._pool.shutdown()
