"""Resampling quality of the one resampler against the linear interpolation it replaced.

For each input rate a browser or voice produces (22.05, 44.1 and 48 kHz) and each
tone, prints the error of the 16 kHz result against the ideal 16 kHz tone (dB
below the signal, lower is better) and, for a 10 kHz tone that 16 kHz cannot
carry, how loud it folds back at 6 kHz (dB below the input). Takes about a second.

    python bench/resample.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voice_interviewer.speech.pcm import float_to_pcm16, pcm16_to_float, resample_pcm16  # noqa: E402

OUT = 16000


def tone(freq: float, rate: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(rate) / rate)).astype(np.float32)


def linear(audio: np.ndarray, rate_in: int) -> np.ndarray:
    """What the voices and the store did before: np.interp at the output instants."""
    n_out = int(round(len(audio) * OUT / rate_in))
    return np.interp(np.arange(n_out) * (rate_in / OUT), np.arange(len(audio)), audio)


def error_db(out: np.ndarray, ideal: np.ndarray) -> float:
    err, ref = out[2000:-2000] - ideal[2000:-2000], ideal[2000:-2000]
    return float(10 * np.log10(max(np.mean(err ** 2), 1e-20) / np.mean(ref ** 2)))


def folded_db(out: np.ndarray) -> float:
    x = out[4000:12000] * np.hanning(8000)
    spectrum = np.abs(np.fft.rfft(x)) * 2 / np.hanning(8000).sum()
    band = np.abs(np.fft.rfftfreq(8000, 1 / OUT) - 6000) <= 20
    return float(20 * np.log10(max(spectrum[band].max(), 1e-10) / 0.5))


def main() -> None:
    print(f"{'input':>8} {'tone':>8} {'polyphase':>10} {'linear':>8}   (error vs ideal 16 kHz tone, dB)")
    for rate in (22050, 44100, 48000):
        for freq in (1000, 3400, 6000):
            x = pcm16_to_float(float_to_pcm16(tone(freq, rate)))
            ours = pcm16_to_float(resample_pcm16(float_to_pcm16(x), rate, OUT))
            print(f"{rate:>8} {freq:>6} Hz {error_db(ours, tone(freq, OUT)):>10.1f} "
                  f"{error_db(linear(x, rate), tone(freq, OUT)):>8.1f}")
        x = pcm16_to_float(float_to_pcm16(tone(10000, rate)))
        ours = pcm16_to_float(resample_pcm16(float_to_pcm16(x), rate, OUT))
        print(f"{rate:>8} 10 kHz folded to 6 kHz: polyphase {folded_db(ours):.1f} dB, "
              f"linear {folded_db(linear(x, rate)):.1f} dB")


if __name__ == "__main__":
    main()
