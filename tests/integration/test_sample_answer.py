"""audio/make_sample_answer.py writes real speech followed by the silence that ends an answer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import UNIT_S
from voice_interviewer.speech.pcm import level_dbfs, pcm16_to_float
from voice_interviewer.wav import read_wav

pytestmark = pytest.mark.slow


def test_sample_answer_is_speech_then_silence(repo_root, tmp_path):
    out = tmp_path / "answer.wav"
    proc = subprocess.run([sys.executable, str(repo_root / "audio" / "make_sample_answer.py"), "feature-store",
                           "--voice-engine", "pyttsx3", "--text", "A feature store serves the same features "
                           "to training and to the online service.", "-o", str(out)],
                          capture_output=True, text=True, timeout=120 * UNIT_S)
    assert proc.returncode == 0, proc.stderr
    pcm, rate, channels = read_wav(out)
    audio = pcm16_to_float(pcm)
    assert channels == 1 and rate > 8000
    speech, tail = audio[: -3 * rate], audio[-3 * rate:]
    assert len(speech) > rate  # more than a second of speech
    assert level_dbfs(speech) > -40
    assert np.max(np.abs(tail)) == 0.0
