"""The decode scheduler and the priority workers it shares with speech synthesis, on real threads.

An ended answer's decode jumps queued commits and live captions; captions never hold
every worker; the caption cadence stretches with the number of captioning sessions and
with urgent work still waiting.
"""

from __future__ import annotations

import threading
import time

import pytest

from voice_interviewer.speech.scheduler import (
    CAPTION,
    CAPTION_COST_HALF_LIFE_S,
    CAPTION_SHARE,
    COMMIT,
    FINAL,
    DecodeScheduler,
    size_for_cores,
)
from voice_interviewer.speech.workers import PriorityWorkers

URGENT, ROUTINE = 0, 1


def test_urgent_calls_run_before_queued_routine_ones_and_order_holds_within_a_priority():
    workers = PriorityWorkers(1, "test")
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
    workers = PriorityWorkers(1, "test")
    try:
        failing = workers.submit(URGENT, int, "not a number")
        ok = workers.submit(ROUTINE, int, "7")
        with pytest.raises(ValueError):
            failing.result(timeout=5)
        assert ok.result(timeout=5) == 7
    finally:
        workers.shutdown()


def test_a_promoted_call_jumps_the_queue_and_runs_once():
    workers = PriorityWorkers(1, "test")
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


def test_a_limited_priority_never_takes_the_last_free_worker():
    workers = PriorityWorkers(2, "test", limits={ROUTINE: 1})
    gate = threading.Event()
    try:
        first = workers.submit(ROUTINE, gate.wait, 5)
        second = workers.submit(ROUTINE, gate.wait, 5)
        time.sleep(0.1)  # the idle worker had every chance to take the second routine call
        assert workers.running(ROUTINE) == 1 and workers.waiting() == 1
        urgent = workers.submit(URGENT, lambda: "done")
        assert urgent.result(timeout=5) == "done"  # served while both routine calls still wait on the gate
        assert not first.done() and not second.done()
        gate.set()
        assert first.result(timeout=5) and second.result(timeout=5)
    finally:
        gate.set()
        workers.shutdown()


def test_shutdown_fails_queued_calls_with_the_given_error_and_refuses_new_ones():
    workers = PriorityWorkers(1, "test")
    gate, started = threading.Event(), threading.Event()

    def hold() -> bool:
        started.set()
        return gate.wait(5)

    running = workers.submit(URGENT, hold)
    assert started.wait(5)  # on a busy machine the worker may not have taken it before shutdown
    queued = workers.submit(ROUTINE, lambda: "never")
    threading.Timer(0.1, gate.set).start()
    workers.shutdown(RuntimeError("closed before it ran"))
    assert running.result(timeout=5) is True  # the running call finished
    with pytest.raises(RuntimeError, match="closed before it ran"):
        queued.result(timeout=5)
    with pytest.raises(RuntimeError, match="shut down"):
        workers.submit(URGENT, lambda: None)


def test_scheduler_runs_finals_then_commits_then_captions():
    scheduler = DecodeScheduler(1, name="test")
    gate = threading.Event()
    ran: list[str] = []
    try:
        blocker = scheduler.submit(COMMIT, gate.wait, 5)
        calls = [scheduler.submit(CAPTION, ran.append, "caption", owner="a"),
                 scheduler.submit(COMMIT, ran.append, "commit"),
                 scheduler.submit(FINAL, ran.append, "final")]
        promoted = scheduler.submit(CAPTION, ran.append, "caption promoted", owner="b")
        scheduler.promote(promoted)  # b's answer ended while its caption waited
        gate.set()
        blocker.result(timeout=5)
        for f in [*calls, promoted]:
            f.result(timeout=5)
    finally:
        scheduler.shutdown()
    assert ran == ["final", "caption promoted", "commit", "caption"]


def test_scheduler_keeps_a_worker_free_of_captions_for_finals():
    scheduler = DecodeScheduler(2, name="test")
    gate = threading.Event()
    try:
        captions = [scheduler.submit(CAPTION, gate.wait, 5, owner=i) for i in range(4)]
        final = scheduler.submit(FINAL, lambda: "transcript")
        assert final.result(timeout=5) == "transcript"
        time.sleep(0.1)  # the free worker had every chance to take a second caption
        assert sum(c.running() for c in captions) == 1
    finally:
        gate.set()
        scheduler.shutdown()


def test_caption_interval_stretches_with_captioning_sessions_and_waiting_finals():
    now = [100.0]
    scheduler = DecodeScheduler(2, name="test", clock=lambda: now[0])
    base = 0.01
    try:
        scheduler.submit(CAPTION, time.sleep, 0.05, owner="s0").result(timeout=5)
        cost = scheduler.caption_cost_s
        assert cost >= 0.04
        one = scheduler.caption_interval_s(base)
        assert one == pytest.approx(cost / CAPTION_SHARE)  # one session, one caption worker

        for i in range(1, 8):
            scheduler.submit(CAPTION, lambda: None, owner=f"s{i}").result(timeout=5)
        cost = scheduler.caption_cost_s
        eight = scheduler.caption_interval_s(base)
        assert eight == pytest.approx(8 * cost / CAPTION_SHARE)
        assert scheduler.caption_interval_s(10.0) == 10.0  # the configured cadence is a floor

        gate = threading.Event()
        busy = [scheduler.submit(FINAL, gate.wait, 5) for _ in range(2)]  # both workers
        waiting = [scheduler.submit(FINAL, lambda: None) for _ in range(3)]
        time.sleep(0.05)
        assert scheduler.caption_interval_s(base) == pytest.approx(eight * 4)  # three finals wait
        gate.set()
        for f in [*busy, *waiting]:
            f.result(timeout=5)
        assert scheduler.caption_interval_s(base) == pytest.approx(eight)

        now[0] += 60  # everyone stopped talking: the budget is one session's again, and the cost is forgotten
        alone = scheduler.caption_interval_s(base)
        forgotten = cost * 0.5 ** (60 / CAPTION_COST_HALF_LIFE_S)
        assert scheduler.caption_cost_s == pytest.approx(forgotten)
        assert alone == pytest.approx(max(base, forgotten / CAPTION_SHARE)) and alone < eight
    finally:
        scheduler.shutdown()


def test_one_slow_caption_does_not_keep_captions_rare_once_it_is_over():
    now = [100.0]
    scheduler = DecodeScheduler(2, name="test", clock=lambda: now[0])
    try:
        scheduler.submit(CAPTION, time.sleep, 0.3, owner="s0").result(timeout=5)  # a runaway caption
        slow = scheduler.caption_interval_s(0.01)
        assert slow >= 0.3 / CAPTION_SHARE
        now[0] += 4 * CAPTION_COST_HALF_LIFE_S  # no caption has run since: nothing new was measured
        assert scheduler.caption_interval_s(0.01) == pytest.approx(slow / 16)
    finally:
        scheduler.shutdown()


def test_workers_are_sized_to_the_cores():
    assert size_for_cores(1) == (1, 1)
    assert size_for_cores(2) == (2, 1)
    assert size_for_cores(4) == (4, 1)
    assert size_for_cores(16) == (4, 4)
