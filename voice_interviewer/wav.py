"""The one place WAV files are read and written: PCM16, mono or stereo, any sample rate.

Standard library only (no numpy), so the store and the CLI can use it without
paying for the speech stack's imports. Every other module hands bytes and a rate
here instead of opening ``wave`` itself, so a bad file gets the same clear error
wherever it is met.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import BinaryIO

from .errors import AudioError

SAMPLE_WIDTH_BYTES = 2  # PCM16

WavTarget = str | Path | BinaryIO


def _name(f: WavTarget) -> str:
    return str(f) if isinstance(f, (str, Path)) else "WAV data"


def write_wav(target: WavTarget, pcm16: bytes, sample_rate: int, channels: int = 1) -> None:
    """Write little-endian PCM16 bytes (interleaved when stereo) as a WAV file or into a binary stream."""
    if channels not in (1, 2):
        raise AudioError(f"{channels} channels asked for {_name(target)}; only mono (1) or stereo (2) WAV is written")
    if len(pcm16) % (SAMPLE_WIDTH_BYTES * channels):
        raise AudioError(f"{len(pcm16)} bytes is not a whole number of {channels}-channel PCM16 frames")
    if int(sample_rate) <= 0:
        raise AudioError(f"sample rate {sample_rate!r} Hz for {_name(target)}; expected a positive integer")
    with wave.open(str(target) if isinstance(target, Path) else target, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(SAMPLE_WIDTH_BYTES)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm16)


def read_wav(source: WavTarget) -> tuple[bytes, int, int]:
    """Read a PCM16 WAV file or stream: ``(pcm16, sample_rate, channels)``."""
    try:
        with wave.open(str(source) if isinstance(source, Path) else source, "rb") as w:
            if w.getsampwidth() != SAMPLE_WIDTH_BYTES:
                raise AudioError(f"{_name(source)}: {8 * w.getsampwidth()}-bit WAV; only 16-bit PCM is read here "
                                 "(use speech.audio_io.decode_file for other formats)")
            return w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"{_name(source)}: not a readable WAV file ({exc})") from exc


def wav_duration_s(path: str | Path) -> float:
    """Length of a WAV file in seconds from its header alone (the sessions list reads many)."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"{path}: not a readable WAV file ({exc})") from exc
