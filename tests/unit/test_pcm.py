"""PCM conversion, anti-aliased resampling (one-shot and streaming) and levels."""

from __future__ import annotations

import numpy as np
import pytest

from voice_interviewer.errors import AudioError
from voice_interviewer.speech.pcm import (
    StreamResampler,
    downmix_pcm16,
    float_to_pcm16,
    level_dbfs,
    pcm16_to_float,
    resample,
    resample_pcm16,
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


def _linear(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """The linear interpolation the voices and the store used before; the bar the one resampler must beat."""
    n_out = int(round(len(audio) * rate_out / rate_in))
    return np.interp(np.arange(n_out) * (rate_in / rate_out), np.arange(len(audio)), audio).astype(np.float32)


def _error_db(out: np.ndarray, ideal: np.ndarray) -> float:
    """Error against the ideal signal in dB below it, away from the edges."""
    n = min(len(out), len(ideal))
    err, ref = out[2000:n - 2000] - ideal[2000:n - 2000], ideal[2000:n - 2000]
    return float(10 * np.log10(np.mean(err.astype(np.float64) ** 2) / np.mean(ref.astype(np.float64) ** 2)))


@pytest.mark.parametrize("rate_in", [22050, 48000])
def test_pcm16_resampling_is_clean_where_linear_interpolation_was_not(rate_in: int) -> None:
    # In band (speech up to 6 kHz) the tone keeps its frequency with an error 55 dB down. At 22.05 kHz
    # linear interpolation was 10-50 dB worse; at 48 kHz (an exact 3:1) it picked samples and was exact
    # on a pure tone, but everything above 8 kHz (hiss, sibilants) folded back at full level, which the
    # one resampler removes.
    for freq in (1000, 3400, 6000):
        pcm = float_to_pcm16(_tone(freq, rate_in))
        out = pcm16_to_float(resample_pcm16(pcm, rate_in, 16000))
        ideal = _tone(freq, 16000)
        assert len(out) == 16000 and _peak_freq(out, 16000) == pytest.approx(freq, abs=2)
        ours, linear = _error_db(out, ideal), _error_db(_linear(pcm16_to_float(pcm), rate_in, 16000), ideal)
        assert ours < -55, (freq, ours)
        if rate_in == 22050:
            assert ours < linear - 10, (freq, ours, linear)
    above = float_to_pcm16(_tone(10000, rate_in))
    folded = _amplitude_at(pcm16_to_float(resample_pcm16(above, rate_in, 16000)), 16000, 6000)
    linear_folded = _amplitude_at(_linear(pcm16_to_float(above), rate_in, 16000), 16000, 6000)
    assert 20 * np.log10(folded / 0.5) < -40 < 20 * np.log10(linear_folded / 0.5)


def test_pcm16_resampling_at_the_same_rate_is_the_same_bytes() -> None:
    pcm = float_to_pcm16(_tone(1000, 16000, seconds=0.1))
    assert resample_pcm16(pcm, 16000, 16000) is pcm
    assert resample_pcm16(b"", 22050, 16000) == b""
    with pytest.raises(AudioError, match="96000"):
        resample_pcm16(pcm, 96000, 16000)


def test_downmix_averages_channels() -> None:
    left = np.array([1000, -2000, 3], dtype="<i2")
    right = np.array([3000, 2000, 4], dtype="<i2")
    stereo = np.stack([left, right], axis=1).reshape(-1).tobytes()
    assert np.frombuffer(downmix_pcm16(stereo, 2), "<i2").tolist() == [2000, 0, 4]
    assert downmix_pcm16(left.tobytes(), 1) == left.tobytes()
    with pytest.raises(AudioError, match="2-channel"):
        downmix_pcm16(stereo[:6], 2)


def test_file_rates_above_48k_resample_only_when_asked() -> None:
    tone = _tone(1000, 96000)
    with pytest.raises(AudioError, match="96000"):
        resample(tone, 96000, 16000)
    out = resample(tone, 96000, 16000, any_input_rate=True)
    assert len(out) == 16000 and _amplitude_at(out, 16000, 1000) == pytest.approx(0.5, rel=0.02)
    with pytest.raises(AudioError, match="-5"):
        resample(tone, -5, 16000, any_input_rate=True)
