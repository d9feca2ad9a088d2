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
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AudioError
from ..wav import SAMPLE_WIDTH_BYTES, write_wav
from ..wav import wav_duration_s as _wav_header_duration_s

if TYPE_CHECKING:
    from ..speech.pcm import StreamResampler


class PcmAppender:
    """Appends PCM16 frames to one file and flushes at least every ``flush_interval_s``.

    Thread-safe: voice channels call it from audio threads. Bytes handed to the
    kernel by a flush survive the process being killed. Frames at another rate go
    through one streaming resampler per appender (the project's polyphase one),
    so frame edges leave no clicks; its last few samples are written on close.
    """

    def __init__(self, path: Path, sample_rate: int, flush_interval_s: float):
        self.path = path
        self.sample_rate = sample_rate
        self._flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        self._file = open(path, "ab")  # noqa: SIM115 - kept open for the length of the turn
        self._last_flush = time.monotonic()
        self._odd = b""
        self._resampler: StreamResampler | None = None

    def append(self, pcm16: bytes, sample_rate: int) -> None:
        with self._lock:
            if self._file.closed:
                return
            data = self._odd + pcm16
            cut = len(data) // SAMPLE_WIDTH_BYTES * SAMPLE_WIDTH_BYTES
            self._odd = data[cut:]
            whole = data[:cut]
            if sample_rate != self.sample_rate or self._resampler is not None:
                whole = self._resample(whole, int(sample_rate))
            self._file.write(whole)
            now = time.monotonic()
            if now - self._last_flush >= self._flush_interval_s:
                self._file.flush()
                self._last_flush = now

    def _resample(self, pcm16: bytes, sample_rate: int) -> bytes:
        """Stream ``pcm16`` through the resampler for ``sample_rate`` (a new rate ends the old stream)."""
        # Imported here: the store stays quick to import for the CLI, and 16 kHz input never needs it.
        from ..speech.pcm import StreamResampler, float_to_pcm16, pcm16_to_float

        out = b""
        if self._resampler is not None and self._resampler.rate_in != sample_rate:
            out = float_to_pcm16(self._resampler.flush())
            self._resampler = None
        if sample_rate == self.sample_rate:
            return out + pcm16
        if self._resampler is None:
            self._resampler = StreamResampler(sample_rate, self.sample_rate)
        return out + float_to_pcm16(self._resampler.process(pcm16_to_float(pcm16)))

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                if self._resampler is not None:
                    from ..speech.pcm import float_to_pcm16

                    self._file.write(float_to_pcm16(self._resampler.flush()))
                    self._resampler = None
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
    write_wav(tmp, data, sample_rate)
    os.replace(tmp, wav_path)
    return wav_path


def wav_duration_s(path: Path) -> float:
    """Seconds of audio in a finished recording; 0 when it is missing or unreadable (the list still shows it)."""
    try:
        return _wav_header_duration_s(path)
    except AudioError:
        return 0.0
