"""Decode audio files of any common format into 16 kHz mono float samples.

PyAV (FFmpeg, already a faster-whisper dependency) reads wav, flac, mp3, ogg/opus
and m4a alike. Channels are averaged to mono and the result goes through the
same polyphase resampler as live audio, so a file and a stream of the same
sound reach the model identically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import AudioError
from .pcm import resample


def decode_file(path: str | Path, sample_rate: int = 16000) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``sample_rate``.

    Raises:
        AudioError: The file is missing, empty or not decodable audio.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioError(f"audio file {str(p)!r} does not exist; pass the path of a wav/flac/mp3/ogg/m4a file")
    try:
        import av
    except ImportError as exc:
        raise AudioError("decoding audio files needs PyAV; install it with `pip install av`") from exc
    chunks: list[np.ndarray] = []
    rate = 0
    try:
        with av.open(str(p), mode="r") as container:
            if not container.streams.audio:
                raise AudioError(f"{p}: contains no audio stream; pass an audio file (wav/flac/mp3/ogg/m4a)")
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                rate = frame.sample_rate
                chunks.append(_to_mono(frame.to_ndarray(), len(frame.layout.channels), frame.format.is_planar))
    except AudioError:
        raise
    except Exception as exc:  # FFmpeg reports bad input through many exception types
        raise AudioError(f"{p}: cannot decode audio ({type(exc).__name__}: {exc}); "
                         "pass a wav/flac/mp3/ogg/m4a file") from exc
    if not chunks or not rate:
        raise AudioError(f"{p}: decoded no audio samples; the file is empty or truncated")
    audio = np.concatenate(chunks)
    if rate == sample_rate:
        return audio
    return resample(audio, rate, sample_rate, any_input_rate=True)  # files may be studio rates (96 kHz)


def _to_mono(data: np.ndarray, channels: int, planar: bool) -> np.ndarray:
    """One decoded frame (planar: channels × samples; packed: 1 × samples·channels) → mono float32."""
    if data.dtype.kind == "i":
        data = data.astype(np.float32) / (float(np.iinfo(data.dtype).max) + 1.0)
    elif data.dtype.kind == "u":  # 8-bit PCM is unsigned
        data = (data.astype(np.float32) - 128.0) / 128.0
    else:
        data = data.astype(np.float32)
    if planar:
        return data.mean(axis=0)
    return data.reshape(-1, max(1, channels)).mean(axis=1)
