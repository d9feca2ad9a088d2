"""The one WAV helper, and the store's recordings that go through it and through the one resampler."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from voice_interviewer.errors import AudioError
from voice_interviewer.speech.pcm import float_to_pcm16, pcm16_to_float, resample
from voice_interviewer.store.audio import PcmAppender, pcm_to_wav, wav_duration_s
from voice_interviewer.wav import read_wav, write_wav


def _tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_write_then_read_mono_and_stereo(tmp_path) -> None:
    pcm = float_to_pcm16(_tone(300, 22050, seconds=0.25))
    path = tmp_path / "tone.wav"
    write_wav(path, pcm, 22050)
    with wave.open(str(path)) as w:  # the standard library agrees on every header field
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 22050, 5512)
    assert read_wav(path) == (pcm, 22050, 1)
    assert read_wav(str(path)) == (pcm, 22050, 1)
    assert wav_duration_s(path) == pytest.approx(5512 / 22050)
    stereo = tmp_path / "stereo.wav"
    write_wav(stereo, pcm + pcm[:4], 22050, channels=2)
    assert read_wav(stereo) == (pcm + pcm[:4], 22050, 2)


def test_write_into_memory_for_an_upload() -> None:
    out = io.BytesIO()
    write_wav(out, b"\x01\x00\xff\xff", 16000)
    data = out.getvalue()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert read_wav(io.BytesIO(data)) == (b"\x01\x00\xff\xff", 16000, 1)


def test_bad_input_says_what_is_wrong(tmp_path) -> None:
    with pytest.raises(AudioError, match="not a whole number of 2-channel"):
        write_wav(tmp_path / "bad.wav", b"\0" * 6, 22050, channels=2)
    with pytest.raises(AudioError, match="only mono"):
        write_wav(tmp_path / "bad.wav", b"\0" * 6, 22050, channels=3)
    with pytest.raises(AudioError, match="positive integer"):
        write_wav(tmp_path / "bad.wav", b"\0" * 6, 0)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not a wav at all")
    with pytest.raises(AudioError, match="garbage.wav: not a readable WAV"):
        read_wav(garbage)
    with pytest.raises(AudioError, match="missing.wav: not a readable WAV"):
        read_wav(tmp_path / "missing.wav")
    eight_bit = tmp_path / "eight.wav"
    with wave.open(str(eight_bit), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 100)
    with pytest.raises(AudioError, match="8-bit WAV; only 16-bit"):
        read_wav(eight_bit)


def test_recording_at_48k_is_streamed_through_the_one_resampler(tmp_path) -> None:
    # Frames of odd sizes (an odd byte count too) at 48 kHz into a 16 kHz recording: once closed,
    # the file is the one-shot polyphase result of the whole answer, so frame edges left nothing.
    audio = _tone(1000, 48000) + 0.2 * _tone(11000, 48000)  # 11 kHz must not fold back to 5 kHz
    pcm = float_to_pcm16(audio)
    appender = PcmAppender(tmp_path / "a.pcm", 16000, flush_interval_s=0.0)
    rng = np.random.default_rng(7)
    i = 0
    while i < len(pcm):
        n = int(rng.integers(1, 3000))
        appender.append(pcm[i:i + n], 48000)
        i += n
    appender.close()
    got = pcm16_to_float((tmp_path / "a.pcm").read_bytes())
    expected = resample(pcm16_to_float(pcm), 48000, 16000)
    assert len(got) == len(expected) == 16000
    assert np.max(np.abs(got - expected)) < 3e-3
    spectrum = np.abs(np.fft.rfft(got[4000:12000] * np.hanning(8000)))
    freqs = np.fft.rfftfreq(8000, 1 / 16000)
    assert freqs[spectrum.argmax()] == pytest.approx(1000, abs=2)
    assert spectrum[np.abs(freqs - 5000) < 20].max() < spectrum.max() * 0.01  # folded 11 kHz, -40 dB
    wav = pcm_to_wav(tmp_path / "a.pcm", tmp_path / "a.wav", 16000)
    assert read_wav(wav) == ((tmp_path / "a.pcm").read_bytes(), 16000, 1)


def test_recording_that_changes_rate_keeps_every_sample(tmp_path) -> None:
    appender = PcmAppender(tmp_path / "b.pcm", 16000, flush_interval_s=0.0)
    appender.append(float_to_pcm16(_tone(500, 48000, seconds=0.5)), 48000)
    appender.append(float_to_pcm16(_tone(500, 16000, seconds=0.5)), 16000)
    appender.close()
    assert len((tmp_path / "b.pcm").read_bytes()) == 2 * 16000
