"""Silence trimming and the level and pause helpers the voices share, on synthetic arrays."""

from __future__ import annotations

import numpy as np
import pytest

from voice_interviewer.speech.tts.audio import (
    LEAD_MARGIN_S,
    TAIL_MARGIN_S,
    silence,
    trim_silence,
)
from voice_interviewer.speech.tts.base import SpeechAudio

RATE = 16000


def tone(seconds: float, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype("<i2")


def test_trim_cuts_long_padding_but_keeps_margins():
    x = np.concatenate([np.zeros(RATE, "<i2"), tone(0.5), np.zeros(RATE, "<i2")])
    out = np.frombuffer(trim_silence(x.tobytes(), RATE), dtype="<i2")
    expected = 0.5 + LEAD_MARGIN_S + TAIL_MARGIN_S
    assert abs(out.size / RATE - expected) < 0.01
    lead = int(LEAD_MARGIN_S * RATE) - 1  # the tone's first sample is 0, so it counts as silence
    assert np.array_equal(out[lead:][:100], tone(0.5)[:100])


def test_trim_keeps_quiet_speech_near_the_edges():
    quiet_tail = tone(0.2, amplitude=300)  # a soft word ending, -29 dB below the loud part
    x = np.concatenate([tone(0.5), quiet_tail, np.zeros(RATE, "<i2")])
    out = trim_silence(x.tobytes(), RATE)
    assert len(out) // 2 >= x.size - RATE  # nothing before the silence was cut


def test_trim_of_silence_and_empty_input():
    assert trim_silence(silence(1.0, RATE), RATE) == b""
    assert trim_silence(b"", RATE) == b""


def test_trim_without_padding_changes_nothing():
    x = tone(0.3).tobytes()
    assert trim_silence(x, RATE) == x


def test_speech_audio_duration():
    assert SpeechAudio("x", silence(1.5, 22050), 22050).duration_s == pytest.approx(1.5)
    assert SpeechAudio("x", b"", 22050).duration_s == 0.0
