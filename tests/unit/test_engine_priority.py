"""The speech engine's worker queue: an ended answer's decode jumps queued live captions."""

from __future__ import annotations

import threading

from voice_interviewer.speech.engine import ROUTINE, URGENT, _PriorityWorkers


def test_urgent_calls_run_before_queued_routine_ones_and_order_holds_within_a_priority():
    workers = _PriorityWorkers(1, "test")
    gate = threading.Event()
    ran: list[str] = []
    try:
        blocker = workers.submit(ROUTINE, gate.wait, 5)  # occupies the only worker
        futures = [workers.submit(ROUTINE, ran.append, "caption-1"),
                   workers.submit(ROUTINE, ran.append, "caption-2"),
                   workers.submit(URGENT, ran.append, "final-1"),
                   workers.submit(URGENT, ran.append, "final-2")]
        gate.set()
        blocker.result(timeout=5)
        for f in futures:
            f.result(timeout=5)
    finally:
        workers.shutdown()
    assert ran == ["final-1", "final-2", "caption-1", "caption-2"]


def test_errors_reach_the_caller_and_the_worker_survives():
    workers = _PriorityWorkers(1, "test")
    try:
        failing = workers.submit(URGENT, int, "not a number")
        ok = workers.submit(ROUTINE, int, "7")
        try:
            failing.result(timeout=5)
            raise AssertionError("the error was swallowed")
        except ValueError:
            pass
        assert ok.result(timeout=5) == 7
    finally:
        workers.shutdown()


def test_a_promoted_call_jumps_the_queue_and_runs_once():
    workers = _PriorityWorkers(1, "test")
    gate = threading.Event()
    ran: list[str] = []
    try:
        blocker = workers.submit(ROUTINE, gate.wait, 5)
        others = [workers.submit(ROUTINE, ran.append, f"other-{i}") for i in range(3)]
        mine = workers.submit(ROUTINE, ran.append, "mine")
        workers.promote(mine, URGENT)  # the answer behind it just ended
        gate.set()
        blocker.result(timeout=5)
        for f in [*others, mine]:
            f.result(timeout=5)
        workers.promote(mine, URGENT)  # already done: nothing is queued again
        workers.submit(ROUTINE, ran.append, "last").result(timeout=5)
    finally:
        workers.shutdown()
    assert ran == ["mine", "other-0", "other-1", "other-2", "last"]
