"""The websocket channel's decisions, without a socket: the audio rate limit, the answer clock
with pause and resume, and the turn latency stages."""

from __future__ import annotations

import pytest

from voice_interviewer.channels.answer_clock import AnswerClock
from voice_interviewer.channels.latency import TurnLatency
from voice_interviewer.channels.rate_limit import TokenBucket


class FakeClock:
    """Time that moves only when a test moves it."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- token bucket -------------------------------------------------------------------------------

def test_bucket_starts_full_then_refuses_beyond_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1000, burst=2000, clock=clock)
    assert bucket.take(1500)
    assert bucket.take(500)
    assert not bucket.take(1)


def test_bucket_refills_at_its_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1000, burst=2000, clock=clock)
    assert bucket.take(2000)
    clock.advance(0.5)
    assert bucket.available() == pytest.approx(500)
    assert not bucket.take(600)
    assert bucket.take(500)
    clock.advance(60)  # a long quiet spell refills only to the burst
    assert bucket.available() == pytest.approx(2000)
    assert not bucket.take(2001)


def test_a_refused_take_costs_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1000, burst=1000, clock=clock)
    assert bucket.take(900)
    assert not bucket.take(200)
    assert not bucket.take(200)
    assert bucket.take(100)


def test_bucket_holds_a_stream_at_its_rate() -> None:
    """Frames at exactly the rate pass forever; at twice the rate they fail once the burst is spent."""
    clock = FakeClock()
    live = TokenBucket(rate=32_000, burst=64_000, clock=clock)
    for _ in range(1000):
        clock.advance(0.1)
        assert live.take(3200)
    fast = TokenBucket(rate=32_000, burst=64_000, clock=clock)
    taken = 0
    for _ in range(100):
        clock.advance(0.05)
        if not fast.take(3200):
            break
        taken += 1
    assert 35 <= taken <= 45  # 64 000 bytes of burst, then 1 600 bytes short each frame


def test_bucket_rejects_a_nonsense_rate() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate=0, burst=10, clock=FakeClock())


# -- answer clock --------------------------------------------------------------------------------

def test_clock_counts_only_while_running() -> None:
    clock = FakeClock()
    answer = AnswerClock(90, clock)
    assert not answer.running
    clock.advance(30)  # before it starts (the question is still playing): nothing counted
    assert answer.remaining() == 90
    assert answer.start() == 90
    clock.advance(20)
    assert answer.remaining() == pytest.approx(70)


def test_paused_time_is_not_counted() -> None:
    clock = FakeClock()
    answer = AnswerClock(90, clock)
    answer.start()
    clock.advance(10)
    answer.stop()
    clock.advance(500)
    assert answer.remaining() == pytest.approx(80)
    assert answer.start() == pytest.approx(80)
    clock.advance(30)
    assert answer.remaining() == pytest.approx(50)


def test_start_and_stop_twice_count_nothing_twice() -> None:
    clock = FakeClock()
    answer = AnswerClock(60, clock)
    answer.start()
    clock.advance(5)
    assert answer.start() == pytest.approx(55)  # a re-attach while running keeps the deadline
    answer.stop()
    answer.stop()
    clock.advance(5)
    assert answer.remaining() == pytest.approx(55)


def test_clock_never_goes_below_zero() -> None:
    clock = FakeClock()
    answer = AnswerClock(5, clock)
    answer.start()
    clock.advance(9)
    assert answer.remaining() == 0.0
    answer.stop()
    assert answer.start() == 0.0


def test_clock_rejects_a_negative_time() -> None:
    with pytest.raises(ValueError, match="0 s or more"):
        AnswerClock(-1, FakeClock())


# -- turn latency --------------------------------------------------------------------------------

def test_latency_stages_from_answer_end_to_first_audio() -> None:
    clock = FakeClock()
    latency = TurnLatency(clock)
    latency.answer_ended("silence")
    clock.advance(0.25)
    latency.transcribed()
    clock.advance(0.1)
    latency.thinking()
    clock.advance(0.4)
    latency.speaking()
    clock.advance(0.15)
    assert latency.first_audio() == {"finish": 250.0, "decide": 500.0, "synth": 150.0, "total": 900.0}
    assert latency.reason == "silence"
    assert latency.first_audio() is None  # reported once: later sentences of the same turn carry nothing


def test_latency_keeps_the_first_speak_of_a_turn() -> None:
    clock = FakeClock()
    latency = TurnLatency(clock)
    latency.answer_ended("done")
    latency.transcribed()
    clock.advance(0.2)
    latency.speaking()
    clock.advance(0.3)
    latency.speaking()  # a second utterance before any audio went out
    clock.advance(0.1)
    assert latency.first_audio() == {"finish": 0.0, "decide": 200.0, "synth": 400.0, "total": 600.0}


def test_latency_without_marks_counts_the_wait_as_deciding() -> None:
    clock = FakeClock()
    latency = TurnLatency(clock)
    latency.speaking()  # the greeting: no answer before it
    assert latency.first_audio() is None
    latency.answer_ended("timer")
    clock.advance(1.0)
    assert latency.first_audio() == {"finish": 0.0, "decide": 1000.0, "synth": 0.0, "total": 1000.0}
