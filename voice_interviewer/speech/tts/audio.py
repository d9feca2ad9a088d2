"""Small PCM helpers the engines share: read a WAV, trim silence, make a pause, resample.

Kept free of engine imports so the decisions (how much silence to cut) are
testable on plain arrays.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ...errors import AudioError

TRIM_THRESHOLD_RATIO = 0.01   # a sample counts as sound above 1% of the peak (-40 dB)
TRIM_FLOOR = 64               # ... and never below this absolute level (of 32767)
LEAD_MARGIN_S = 0.03          # silence kept before the first sound, so onsets are not clipped
TAIL_MARGIN_S = 0.08          # silence kept after the last sound: soft word endings fade slowly


def read_wav(path: str | Path) -> tuple[bytes, int]:
    """Mono PCM16 bytes and the sample rate (Hz) of a WAV file; stereo is averaged down."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"cannot read synthesised WAV {path}: {exc}") from exc
    if width != 2:
        raise AudioError(f"synthesised WAV {path} has {8 * width}-bit samples; expected 16-bit PCM")
    if channels > 1:
        samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).mean(axis=1)
        frames = samples.astype("<i2").tobytes()
    return frames, rate


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


def resample(pcm16: bytes, from_rate: int, to_rate: int) -> bytes:
    """Linear-interpolation resampling; good enough for speech handed between engines."""
    if from_rate == to_rate or not pcm16:
        return pcm16
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float32)
    n_out = max(1, int(round(x.size * to_rate / from_rate)))
    t = np.linspace(0, x.size - 1, n_out)
    return np.interp(t, np.arange(x.size), x).round().clip(-32768, 32767).astype("<i2").tobytes()


def rms(pcm16: bytes) -> float:
    """Root mean square level of PCM16 (0 for silence, 32767 for full-scale square)."""
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0
