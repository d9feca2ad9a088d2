"""Worker threads that take the most urgent call first: one mechanism for decoding and for synthesis.

The Whisper model and the TTS engine are blocking calls shared by every session on
the server. Whoever waits at the end of an answer must not wait behind background
work (live captions, pre-synthesised questions), so both run their calls here:

* a lower number is more urgent; within one priority, calls run in arrival order;
* :meth:`PriorityWorkers.promote` makes a queued call more urgent (the answer behind
  a queued caption just ended; a question prepared in the background is now needed);
* ``limits`` caps how many calls of one priority run at once, so background work can
  never occupy every worker and an urgent call finds one free.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import heapq
import itertools
import threading
from collections.abc import Callable, Mapping
from typing import Any


class _Call:
    __slots__ = ("future", "fn", "args", "priority")

    def __init__(self, future: cf.Future, fn: Callable[..., Any], args: tuple, priority: int):
        self.future, self.fn, self.args, self.priority = future, fn, args, priority


class PriorityWorkers:
    """``workers`` threads running submitted calls, most urgent (lowest priority number) first.

    Args:
        workers: Threads, i.e. calls that may run at once.
        name: Thread name prefix (shows in stack dumps and profilers).
        limits: Most calls of a priority that may run at once; a call over its limit waits
            while more urgent or unlimited calls run past it.
    """

    def __init__(self, workers: int, name: str, *, limits: Mapping[int, int] | None = None):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._limits = dict(limits or {})
        for priority, limit in self._limits.items():
            if limit < 1:
                raise ValueError(f"the limit for priority {priority} must be at least 1, got {limit}")
        self._heap: list[tuple[int, int, _Call]] = []
        self._calls: dict[cf.Future, _Call] = {}  # queued, not yet running
        self._running: dict[int, int] = {}
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()
        # A call still inside native code (CTranslate2, onnxruntime) when the interpreter tears
        # down aborts the process: at exit, let running calls finish and join the threads.
        atexit.register(self.shutdown)

    def submit(self, priority: int, fn: Callable[..., Any], *args: Any) -> cf.Future:
        """Queue ``fn(*args)``; the future carries its result or exception."""
        future: cf.Future = cf.Future()
        with self._cond:
            if self._stopping:
                raise RuntimeError("these workers are shut down; no new calls are accepted")
            call = _Call(future, fn, args, priority)
            self._calls[future] = call
            heapq.heappush(self._heap, (priority, next(self._order), call))
            self._cond.notify()
        return future

    def promote(self, future: cf.Future, priority: int) -> None:
        """Make a queued call at least this urgent; no effect once it runs or if it already is."""
        with self._cond:
            call = self._calls.get(future)
            if call is None or call.priority <= priority:
                return
            call.priority = priority  # the older heap entry is now stale and skipped
            heapq.heappush(self._heap, (priority, next(self._order), call))
            self._cond.notify()

    def waiting(self, more_urgent_than: int | None = None) -> int:
        """Calls queued and not yet running (only those more urgent than a priority, if given)."""
        with self._cond:
            if more_urgent_than is None:
                return len(self._calls)
            return sum(1 for c in self._calls.values() if c.priority < more_urgent_than)

    def running(self, priority: int) -> int:
        """Calls of this priority running now."""
        with self._cond:
            return self._running.get(priority, 0)

    def _take(self) -> _Call | None:
        """The most urgent queued call whose priority has room; called with the lock held."""
        skipped: list[tuple[int, int, _Call]] = []
        found: _Call | None = None
        while self._heap:
            entry = heapq.heappop(self._heap)
            priority, _, call = entry
            if priority != call.priority or self._calls.get(call.future) is not call:
                continue  # stale copy of a promoted call, or already taken
            limit = self._limits.get(priority)
            if limit is not None and self._running.get(priority, 0) >= limit:
                skipped.append(entry)
                continue
            del self._calls[call.future]
            if not call.future.set_running_or_notify_cancel():
                continue  # the caller gave up while it waited
            found = call
            break
        for entry in skipped:
            heapq.heappush(self._heap, entry)
        return found

    def _loop(self) -> None:
        while True:
            with self._cond:
                call = None
                while not self._stopping and (call := self._take()) is None:
                    self._cond.wait()
                if call is None:
                    return
                self._running[call.priority] = self._running.get(call.priority, 0) + 1
            try:
                call.future.set_result(call.fn(*call.args))
            except BaseException as exc:  # delivered to the awaiting caller
                call.future.set_exception(exc)
            finally:
                with self._cond:
                    self._running[call.priority] -= 1
                    self._cond.notify_all()  # a call held back by its limit may run now

    def shutdown(self, error: BaseException | None = None, timeout_s: float | None = None) -> None:
        """Stop after the running calls; queued ones are cancelled, or fail with ``error`` (idempotent).

        ``timeout_s`` bounds the wait for each running call (a hung engine must not hang shutdown).
        """
        with self._cond:
            self._stopping = True
            for future in self._calls:
                if error is None:
                    future.cancel()
                elif future.set_running_or_notify_cancel():
                    future.set_exception(error)
            self._calls.clear()
            self._heap.clear()
            self._cond.notify_all()
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(timeout_s)
