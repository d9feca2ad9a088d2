"""How many interviews one server can run at once, measured on this machine at start-up.

One session more than the machine can decode in time makes every running interview
wait longer after each answer, so the server refuses the next candidate instead
(``server_full``). The figure is derived from what a candidate waits for: the final
decode of an answer that has just ended. In the worst ordinary case a whole class
ends answers at the same moment; with ``w`` decode workers and a final costing ``c``
seconds, the ``k``-th of them is transcribed after about ``ceil(k / w) · c``, so the
median candidate of ``n`` waits ``n · c / (2 · w)``. The capacity is the largest ``n``
for which that median fits :data:`TRANSCRIBE_BUDGET_S`.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

TURN_TARGET_S = 1.0
"""End of answer → first interviewer audio that a conversation tolerates (the median turn)."""

TRANSCRIBE_BUDGET_S = 0.7
"""The part of :data:`TURN_TARGET_S` left for transcription; grading and the first spoken
sentence take the rest."""

MIN_SESSIONS, MAX_SESSIONS = 2, 64
"""A start-up measurement on a momentarily busy machine never shuts out a second candidate;
past 64 the figure says more about the model than about the machine (set it with a flag)."""

PROBE_TEXT = ("I would version the model and its training data together, deploy it behind a canary, "
              "and watch the latency and the prediction drift before I route all the traffic to it.")
"""About six seconds of speech: the open tail an answer usually ends with."""


@dataclass(frozen=True)
class Capacity:
    """Sessions at once, and the measurement behind the figure (for the start-up message)."""

    sessions: int
    decode_s: float
    workers: int
    audio_s: float

    def median_wait_s(self, sessions: int) -> float:
        """:func:`median_wait_s` for this machine's measured decode."""
        return median_wait_s(sessions, self.decode_s, self.workers)

    def describe(self) -> str:
        return (f"{self.sessions} sessions at once (a {self.audio_s:.0f} s answer tail decodes in "
                f"{self.decode_s * 1000:.0f} ms on each of {self.workers} decode workers; "
                f"--max-sessions overrides)")


def median_wait_s(sessions: int, decode_s: float, workers: int) -> float:
    """What the median of ``sessions`` candidates ending answers together waits for transcription."""
    return sessions * decode_s / (2 * workers)


def sessions_for(decode_s: float, workers: int, budget_s: float = TRANSCRIBE_BUDGET_S) -> int:
    """The largest class whose median final decode, all ending at once, fits ``budget_s``."""
    if decode_s <= 0 or workers < 1:
        raise ValueError(f"need a positive decode time and at least one worker, got {decode_s} s and {workers}")
    # the largest n with median_wait_s(n, decode_s, workers) <= budget_s, solved for n
    return max(MIN_SESSIONS, min(MAX_SESSIONS, int(2 * workers * budget_s / decode_s)))


async def measure(engine: Any, synthesizer: Any, repeats: int = 3) -> Capacity:
    """Speak :data:`PROBE_TEXT` with the server's own voice and time its decode as a final.

    Real speech, not noise: Whisper's cost depends on the words it writes. The median of
    ``repeats`` decodes, one at a time, is the cost of one final on one worker.
    """
    from .speech.pcm import pcm16_to_float, resample
    from .speech.scheduler import FINAL
    from .speech.streaming import SAMPLE_RATE

    spoken = await synthesizer.synthesize(PROBE_TEXT)
    audio = resample(pcm16_to_float(spoken.pcm16), spoken.sample_rate, SAMPLE_RATE)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        await engine.decode_async(audio, kind=FINAL)
        times.append(time.perf_counter() - t0)
    decode_s = statistics.median(times)
    workers = getattr(engine, "workers", 1)
    return Capacity(sessions_for(decode_s, workers), decode_s, workers, len(audio) / SAMPLE_RATE)


__all__ = ["Capacity", "measure", "sessions_for", "TURN_TARGET_S", "TRANSCRIBE_BUDGET_S"]
