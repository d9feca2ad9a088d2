"""PCM conversion, anti-aliased resampling (one-shot and streaming), levels and WAV files."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from voice_interviewer.errors import AudioError
from voice_interviewer.speech.pcm import (
    StreamResampler,
    float_to_pcm16,
    level_dbfs,
    pcm16_to_float,
    read_wav,
    resample,
    write_wav,
)


def _tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _amplitude_at(audio: np.ndarray, rate: int, freq: float) -> float:
    """Amplitude of the ``freq`` component (Hann-windowed DFT, middle of the signal)."""
    x = audio[len(audio) // 4: 3 * len(audio) // 4].astype(np.float64)
    w = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x * w)) * 2 / w.sum()
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    band = np.abs(freqs - freq) <= 20
    return float(spectrum[band].max())


def _peak_freq(audio: np.ndarray, rate: int) -> float:
    x = audio[len(audio) // 4: 3 * len(audio) // 4].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("rate_in", [22050, 44100, 48000])
def test_tone_above_new_nyquist_is_attenuated_40_db(rate_in: int) -> None:
    tone = _tone(10000, rate_in)  # above 8 kHz, the Nyquist frequency at 16 kHz
    out = resample(tone, rate_in, 16000)
    alias = 16000 - 10000  # where a naive decimator would fold it
    residual = max(_amplitude_at(out, 16000, alias), float(np.sqrt(2) * np.std(out[4000:-4000])))
    assert 20 * np.log10(residual / 0.5) < -40


@pytest.mark.parametrize("rate_in", [8000, 22050, 44100, 48000])
def test_in_band_tone_keeps_amplitude_and_frequency(rate_in: int) -> None:
    out = resample(_tone(1000, rate_in), rate_in, 16000)
    assert len(out) == 16000
    assert _peak_freq(out, 16000) == pytest.approx(1000, abs=2)
    assert _amplitude_at(out, 16000, 1000) == pytest.approx(0.5, rel=0.02)


@pytest.mark.parametrize("rate_in", [8000, 16000, 22050, 44100, 48000])
def test_stream_resampler_over_random_frames_equals_one_shot(rate_in: int) -> None:
    rng = np.random.default_rng(rate_in)
    audio = (rng.standard_normal(rate_in * 2) * 0.2).astype(np.float32)
    expected = resample(audio, rate_in, 16000)
    stream = StreamResampler(rate_in, 16000)
    parts, i = [], 0
    while i < len(audio):
        n = int(rng.integers(1, 2500))
        parts.append(stream.process(audio[i:i + n]))
        i += n
    parts.append(stream.flush())
    got = np.concatenate(parts)
    assert len(got) == len(expected)
    # float32 filter taps in the one-shot path vs float64 here: agreement to ~1e-3 of full scale
    assert np.max(np.abs(got - expected)) < 2e-3


def test_stream_resampler_has_no_clicks_at_frame_edges() -> None:
    tone = _tone(440, 48000, seconds=0.5)
    stream = StreamResampler(48000)
    out = np.concatenate([stream.process(tone[i:i + 480]) for i in range(0, len(tone), 480)] + [stream.flush()])
    steady = out[200:-200]
    max_step = 2 * np.pi * 440 / 16000 * 0.5  # steepest sample-to-sample change of the clean tone
    assert np.max(np.abs(np.diff(steady))) <= max_step * 1.05


def test_pcm16_round_trip_and_clipping() -> None:
    samples = np.array([0, 1, -1, 32767, -32768, 1234], dtype="<i2")
    data = samples.tobytes()
    audio = pcm16_to_float(data)
    assert audio.dtype == np.float32 and audio.min() >= -1 and audio.max() < 1
    assert float_to_pcm16(audio) == data
    clipped = np.frombuffer(float_to_pcm16(np.array([2.0, -2.0], dtype=np.float32)), dtype="<i2")
    assert clipped.tolist() == [32767, -32768]


def test_odd_byte_count_is_a_clear_error() -> None:
    with pytest.raises(AudioError, match="even number of bytes, got 3"):
        pcm16_to_float(b"\x00\x01\x02")


def test_unsupported_rate_is_a_clear_error() -> None:
    with pytest.raises(AudioError, match="96000"):
        StreamResampler(96000)


def test_level_dbfs() -> None:
    assert level_dbfs(_tone(1000, 16000, amp=1.0)) == pytest.approx(-3.01, abs=0.05)
    assert level_dbfs(_tone(1000, 16000, amp=0.1)) == pytest.approx(-23.01, abs=0.05)
    assert level_dbfs(np.zeros(160, dtype=np.float32)) == -120.0
    assert level_dbfs(np.zeros(0, dtype=np.float32)) == -120.0


def test_wav_write_read(tmp_path) -> None:
    pcm = float_to_pcm16(_tone(300, 22050, seconds=0.25))
    path = tmp_path / "tone.wav"
    write_wav(path, pcm, 22050)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 22050, 5512)
    assert read_wav(path) == (pcm, 22050, 1)
    stereo = tmp_path / "stereo.wav"
    write_wav(stereo, pcm + pcm[:4], 22050, channels=2)
    assert read_wav(stereo)[1:] == (22050, 2)
    with pytest.raises(AudioError, match="not a whole number"):
        write_wav(tmp_path / "bad.wav", pcm[:6], 22050, channels=2)
