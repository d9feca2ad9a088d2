"""Audio files that survive a crash: raw PCM16 appended as frames arrive, WAV made afterwards.

A WAV header states the data length, so a WAV written while recording is wrong
after a crash; a headerless ``.pcm`` file is always right up to its last flushed
byte. The sample rate lives in the database, and :func:`pcm_to_wav` wraps the raw
bytes in a header when the session ends or when someone asks to listen.
"""

from __future__ import annotations

import os
import threading
import time
import wave
from pathlib import Path

from ..errors import AudioError

SAMPLE_WIDTH_BYTES = 2


def resample_pcm16(pcm16: bytes, rate_in: int, rate_out: int) -> bytes:
    """Linear-interpolation resampling; enough for storing speech, never on the hot path at 16 kHz."""
    if rate_in == rate_out or not pcm16:
        return pcm16
    import numpy as np  # only here: the store itself must stay quick to import for the CLI

    samples = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.float32)
    n_out = int(round(len(samples) * rate_out / rate_in))
    if n_out <= 0:
        return b""
    x_out = np.arange(n_out) * (rate_in / rate_out)
    out = np.interp(x_out, np.arange(len(samples)), samples)
    return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


class PcmAppender:
    """Appends PCM16 frames to one file and flushes at least every ``flush_interval_s``.

    Thread-safe: voice channels call it from audio threads. Bytes handed to the
    kernel by a flush survive the process being killed.
    """

    def __init__(self, path: Path, sample_rate: int, flush_interval_s: float):
        self.path = path
        self.sample_rate = sample_rate
        self._flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        self._file = open(path, "ab")  # noqa: SIM115 - kept open for the length of the turn
        self._last_flush = time.monotonic()
        self._odd = b""

    def append(self, pcm16: bytes, sample_rate: int) -> None:
        if sample_rate != self.sample_rate:
            pcm16 = resample_pcm16(pcm16, sample_rate, self.sample_rate)
        with self._lock:
            if self._file.closed:
                return
            data = self._odd + pcm16
            cut = len(data) // SAMPLE_WIDTH_BYTES * SAMPLE_WIDTH_BYTES
            self._odd = data[cut:]
            self._file.write(data[:cut])
            now = time.monotonic()
            if now - self._last_flush >= self._flush_interval_s:
                self._file.flush()
                self._last_flush = now

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                self._file.close()


def pcm_duration_s(path: Path, sample_rate: int) -> float:
    try:
        return path.stat().st_size // SAMPLE_WIDTH_BYTES / sample_rate
    except FileNotFoundError:
        return 0.0


def pcm_to_wav(pcm_path: Path, wav_path: Path, sample_rate: int) -> Path:
    """Write ``wav_path`` from the raw file atomically (readers never see half a WAV)."""
    try:
        data = pcm_path.read_bytes()
    except OSError as exc:
        raise AudioError(f"cannot read recording {pcm_path.name!r}: {exc.strerror or exc}") from None
    data = data[: len(data) // SAMPLE_WIDTH_BYTES * SAMPLE_WIDTH_BYTES]
    tmp = wav_path.with_suffix(".wav.tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH_BYTES)
        w.setframerate(sample_rate)
        w.writeframes(data)
    os.replace(tmp, wav_path)
    return wav_path


def wav_duration_s(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (OSError, wave.Error, EOFError):
        return 0.0
