"""Voice options, the engine choice rules and the cache, without loading any engine."""

from __future__ import annotations

import pytest

from voice_interviewer.errors import ConfigError
from voice_interviewer.speech.tts import VoiceOptions, available_engines, make_synthesizer
from voice_interviewer.speech.tts.factory import _looks_like_piper_voice
from voice_interviewer.speech.tts.synthesizer import LruCache


def test_environment_fills_only_unset_fields(monkeypatch):
    monkeypatch.setenv("VOICE_INTERVIEWER_VOICE_ENGINE", " PYTTSX3 ")
    monkeypatch.setenv("VOICE_INTERVIEWER_VOICE", "English (America)")
    assert VoiceOptions().resolved() == VoiceOptions(engine="pyttsx3", voice="English (America)")
    assert VoiceOptions(engine="piper", voice="/v.onnx").resolved() == VoiceOptions(engine="piper", voice="/v.onnx")
    monkeypatch.setenv("VOICE_INTERVIEWER_VOICE_ENGINE", "")
    assert VoiceOptions().resolved().engine is None


def test_unknown_engine_names_the_choices(monkeypatch):
    monkeypatch.delenv("VOICE_INTERVIEWER_VOICE_ENGINE", raising=False)
    with pytest.raises(ConfigError, match="'festival'.*piper, pyttsx3"):
        make_synthesizer(VoiceOptions(engine="festival"))


@pytest.mark.parametrize("rate", [0, 10, 1000])
def test_rate_out_of_range(rate):
    with pytest.raises(ConfigError, match=f"{rate} wpm.*40-600"):
        make_synthesizer(VoiceOptions(engine="pyttsx3", rate_wpm=rate))


def test_negative_cache_size():
    with pytest.raises(ConfigError, match="cache_entries.*-1"):
        make_synthesizer(VoiceOptions(cache_entries=-1))


def test_voice_kind_is_told_apart_by_its_shape(tmp_path):
    assert _looks_like_piper_voice("missing/en_US-amy-low.onnx")
    existing = tmp_path / "amy"
    existing.write_bytes(b"x")
    assert _looks_like_piper_voice(str(existing))
    assert not _looks_like_piper_voice("English (America)")
    assert not _looks_like_piper_voice("gmw/en-us")  # an espeak voice id, though it contains a slash


def test_available_engines_reports_every_engine():
    report = available_engines()
    assert set(report) == {"piper", "pyttsx3"}
    assert all(v == "ok" or "install" in v or "--voice" in v for v in report.values())


def test_lru_cache_evicts_least_recently_used():
    c = LruCache(2)
    c.put(("a",), b"1")
    c.put(("b",), b"2")
    assert c.get(("a",)) == b"1"  # a is now the most recent
    c.put(("c",), b"3")
    assert ("b",) not in c and ("a",) in c and ("c",) in c
    off = LruCache(0)
    off.put(("a",), b"1")
    assert len(off) == 0
