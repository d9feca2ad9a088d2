"""Synthetic audio around real speech: silence, room noise, and answers with thinking pauses.

Phantom words (Whisper's "Thank you." over a pause) only show on audio a candidate really
sends between and after words, so the accuracy tests and the speech benchmark build the same
signals here, from the shared recordings, instead of each keeping a copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .streaming import SAMPLE_RATE


def silence(seconds: float) -> np.ndarray:
    """Digital silence at 16 kHz."""
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """``np.convolve(x, np.ones(width) / width, mode="same")`` from a running sum.

    The direct convolution costs ``len(x) * width`` multiplications: a minute of audio with a
    one-second window took about a minute of CPU before anything had started listening.
    """
    total = np.concatenate(([0.0], np.cumsum(x)))
    full = np.arange(len(x)) + (width - 1) // 2  # where "same" sits in the full convolution
    hi = np.minimum(full, len(x) - 1) + 1
    lo = np.maximum(full - width + 1, 0)
    return (total[hi] - total[lo]) / width


def room_noise(seconds: float, rms: float = 0.003, seed: int = 3) -> np.ndarray:
    """Steady room noise: brown rumble, a mains hum and a little hiss, at about -50 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    brown = np.cumsum(rng.standard_normal(n))
    brown -= moving_average(brown, SAMPLE_RATE)  # keep the rumble, not the drift
    t = np.arange(n) / SAMPLE_RATE
    mix = brown / (np.std(brown) + 1e-9) + 0.5 * np.sin(2 * np.pi * 50 * t) + 0.3 * rng.standard_normal(n)
    return (rms * mix / np.std(mix)).astype(np.float32)


def answer_with_pauses(clips: Sequence[tuple[np.ndarray, str]], pause_s: tuple[float, float], *,
                       seed: int, lead_s: float = 1.0) -> tuple[np.ndarray, str]:
    """``(audio, reference)``: the clips in order, each followed by a pause drawn from ``pause_s``.

    Long thinking pauses (3–5 s) are where Whisper invents words, so this is the answer the
    phantom-word checks listen to.
    """
    rng = np.random.default_rng(seed)
    parts, refs = [silence(lead_s)], []
    for audio, reference in clips:
        parts += [audio, silence(float(rng.uniform(*pause_s)))]
        refs.append(reference)
    return np.concatenate(parts), " ".join(refs)
