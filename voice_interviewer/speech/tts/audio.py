"""Small PCM helpers the engines share: trim silence, make a pause, measure a level.

Kept free of engine imports so the decisions (how much silence to cut) are
testable on plain arrays. Resampling and WAV files are not here on purpose: the
voices use :mod:`..pcm`'s resampler and :mod:`voice_interviewer.wav` like
every other part of the project.
"""

from __future__ import annotations

import numpy as np

TRIM_THRESHOLD_RATIO = 0.01   # a sample counts as sound above 1% of the peak (-40 dB)
TRIM_FLOOR = 64               # ... and never below this absolute level (of 32767)
LEAD_MARGIN_S = 0.03          # silence kept before the first sound, so onsets are not clipped
TAIL_MARGIN_S = 0.08          # silence kept after the last sound: soft word endings fade slowly


def trim_silence(pcm16: bytes, sample_rate: int) -> bytes:
    """Cut leading/trailing silence, keeping a short margin so nothing audible is lost.

    Every second of silence at the start of a reply is a second the candidate waits,
    so engines' built-in padding is removed before audio is cached or sent.
    """
    x = np.frombuffer(pcm16, dtype="<i2")
    if x.size == 0:
        return pcm16
    mag = np.abs(x.astype(np.int32))
    threshold = max(TRIM_FLOOR, int(mag.max() * TRIM_THRESHOLD_RATIO))
    loud = np.flatnonzero(mag > threshold)
    if loud.size == 0:
        return b""
    start = max(0, int(loud[0]) - int(LEAD_MARGIN_S * sample_rate))
    end = min(x.size, int(loud[-1]) + 1 + int(TAIL_MARGIN_S * sample_rate))
    return x[start:end].tobytes()


def silence(seconds: float, sample_rate: int) -> bytes:
    """PCM16 zeros lasting ``seconds``."""
    return b"\x00\x00" * int(round(seconds * sample_rate))


def rms(pcm16: bytes) -> float:
    """Root mean square level of PCM16 (0 for silence, 32767 for full-scale square)."""
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0
