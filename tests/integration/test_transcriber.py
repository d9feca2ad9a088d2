"""Streaming transcription on real speech with the real Whisper model.

The model is loaded once for the whole run. Accuracy is compared with plain
offline faster-whisper on the same clip; cost is checked through the listener's
own accounting of the audio it sent to the model.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import UNIT_S
from voice_interviewer.bank import load_bank
from voice_interviewer.speech.audio_io import decode_file
from voice_interviewer.speech.engine import SpeechEngine
from voice_interviewer.speech.listener import (
    AnswerListener,
    EndpointOptions,
    ListenerEvent,
    StreamOptions,
    replay,
    transcribe_audio,
    transcribe_file,
)
from voice_interviewer.speech.pcm import float_to_pcm16
from voice_interviewer.speech.scheduler import CAPTION
from voice_interviewer.speech.signals import answer_with_pauses, room_noise, silence
from voice_interviewer.speech.vocabulary import build_prompt
from voice_interviewer.speech.wer import corpus_wer, inserted_words, normalize, wer
from voice_interviewer.transcript import Transcript

pytestmark = pytest.mark.slow

RATE = 16000
BATCH = StreamOptions(live_partials=False)
# Per-clip allowance over offline faster-whisper. Measured with bench/asr.py: the worst clip
# was +0.021 (one word in 48: a pause commit splits a sentence into two decodes that may
# differ on a word), corpus WER 0.053 streaming vs 0.075 offline. 0.10 allows one word on
# clips of 10+ words and nothing on the shortest clips (one word there is 0.12-0.25).
# On CPUs whose kernels round differently (seen on an AVX-512 machine, with the code as it was
# before any change here) the 8-word clip 1089-134686-0001 streams as "Stuffered into you"
# against offline "Stuff it into you", prompt or not: two words. So a clip may lose up to two
# words against offline; the corpus-level check below stays strict.
PER_CLIP_MARGIN = 0.10
PER_CLIP_WORDS = 2


def clip_margin(reference: str) -> float:
    """What one clip may lose against offline: 0.10, or two words on a short clip."""
    return max(PER_CLIP_MARGIN, PER_CLIP_WORDS / max(1, len(reference.split())))


@pytest.fixture(scope="session")
def engine() -> SpeechEngine:
    return SpeechEngine.shared()


@pytest.fixture(scope="session")
def audio_of(speech_clips: list[dict]) -> dict[str, np.ndarray]:
    return {c["id"]: decode_file(c["path"], RATE) for c in speech_clips}


def run(coro, timeout_s: float):
    return asyncio.run(asyncio.wait_for(coro, timeout_s * UNIT_S))


@pytest.fixture(scope="session")
def streamed(engine: SpeechEngine) -> Callable[[dict], Transcript]:
    """A clip's file through the live path with captions off, decoded once per run.

    Several tests check different things about the same transcription (accuracy against
    offline, the 44.1 kHz stereo decode); each decode costs seconds of Whisper.
    """
    done: dict[str, Transcript] = {}

    def of(clip: dict) -> Transcript:
        if clip["id"] not in done:
            done[clip["id"]] = run(transcribe_file(engine, clip["path"], stream=BATCH), 120)
        return done[clip["id"]]

    return of


def offline_text(engine: SpeechEngine, audio: np.ndarray) -> str:
    segments, _ = engine.model.transcribe(audio, language="en", beam_size=engine.options.beam_size)
    return " ".join(s.text.strip() for s in segments)


def test_streaming_is_as_accurate_as_offline_on_every_clip(engine, speech_clips, audio_of, streamed) -> None:
    rows = []
    # The offline references do not depend on the stream: they decode on the other core meanwhile
    # (the replay keeps one decode running at a time).
    with ThreadPoolExecutor(1, thread_name_prefix="offline-reference") as pool:
        offline = {c["id"]: pool.submit(offline_text, engine, audio_of[c["id"]]) for c in speech_clips}
        for clip in speech_clips:
            transcript = streamed(clip)
            rows.append((clip["id"], clip["reference"], transcript.text, offline[clip["id"]].result()))
            assert transcript.words and transcript.duration_s == pytest.approx(clip["duration"], abs=0.1)
    report = "\n".join(f"{i}: stream {wer(r, s):.2f} offline {wer(r, o):.2f} | {s}" for i, r, s, o in rows)
    for _, ref, streamed, offline in rows:
        assert wer(ref, streamed) <= wer(ref, offline) + clip_margin(ref), report
    assert corpus_wer([(r, s) for _, r, s, _ in rows]) <= corpus_wer([(r, o) for _, r, _, o in rows]) + 0.01, report


def _long_answer(speech_clips: list[dict], audio_of: dict, min_s: float) -> tuple[np.ndarray, str, list[float]]:
    """Clips joined with 1–3 s pauses until the answer is longer than ``min_s``."""
    rng = np.random.default_rng(7)
    parts, refs, starts, t = [silence(0.8)], [], [], 0.8
    for clip in sorted(speech_clips, key=lambda c: c["id"]):
        if t > min_s:
            break
        pause = float(rng.uniform(1.0, 3.0))
        starts.append(t)
        parts += [audio_of[clip["id"]], silence(pause)]
        refs.append(clip["reference"])
        t += len(audio_of[clip["id"]]) / RATE + pause
    parts[-1] = silence(0.5)  # the candidate presses "done" half a second after the last word
    return np.concatenate(parts), " ".join(refs), starts


def test_long_answer_commits_segments_and_finish_decodes_only_the_tail(engine, speech_clips, audio_of) -> None:
    audio, reference, starts = _long_answer(speech_clips, audio_of, min_s=60)
    assert len(audio) / RATE > 60
    events: list[ListenerEvent] = []

    async def on_event(event: ListenerEvent) -> None:
        events.append(event)

    async def go():
        # pauses reach 3 s, the default end of answer: this answer ends explicitly ("done")
        listener = AnswerListener(engine, sample_rate=RATE, timer_s=600, on_event=on_event,
                                  endpoint=EndpointOptions(end_silence_s=math.inf))
        await replay(listener, audio)
        before = listener.model_audio_s
        transcript = await listener.finish()
        return listener, before, transcript

    listener, before, transcript = run(go(), 600)
    duration = len(audio) / RATE
    committed = [e for e in events if e.kind == "committed"]
    assert len(committed) >= 3 and len(transcript.segments) == len(committed)
    assert wer(reference, transcript.text) <= 0.15, transcript.text
    assert any(e.kind == "partial" for e in events) and events[0].kind == "speech_started"
    # only the open tail (at most the last clip and its pause) went to the model at finish
    last_clip_s = duration - starts[-1]
    assert listener.finish_audio_s <= last_clip_s + 1.0
    assert listener.model_audio_s == pytest.approx(before + listener.finish_audio_s)
    # word times are answer times: ordered, inside the audio, and the first words of a clip start where it starts
    times = [w.start_s for w in transcript.words]
    assert times == sorted(times) and 0 <= times[0] and transcript.words[-1].end_s <= duration + 0.1
    for start in starts[1:]:
        nearest = min(abs(w.start_s - start) for w in transcript.words)
        assert nearest < 0.6, (start, nearest)
    assert 0.8 - 0.1 <= transcript.speech_start_s <= transcript.words[0].start_s + 0.3
    assert transcript.duration_s == pytest.approx(duration, abs=0.01)


def test_a_backlog_of_segments_is_decoded_in_few_calls_with_the_same_words_and_times(engine, speech_clips,
                                                                                     audio_of) -> None:
    """A server too busy to keep up: the whole answer arrives before any decode has run."""
    audio, reference, starts = _long_answer(speech_clips, audio_of, min_s=60)
    step = int(0.05 * RATE)

    async def go():
        listener = AnswerListener(engine, sample_rate=RATE, timer_s=600,
                                  endpoint=EndpointOptions(end_silence_s=math.inf))
        for i in range(0, len(audio), step):  # never yields to the decoding task: every pause queues a job
            await listener.feed(float_to_pcm16(audio[i:i + step]))
        queued = len(listener._jobs)
        return listener, queued, await listener.finish()

    listener, queued, transcript = run(go(), 600)
    assert queued >= len(starts) - 2  # nearly every pause between clips closed a segment
    assert listener.decodes < queued  # joined: Whisper pads every call to 30 s anyway
    assert wer(reference, transcript.text) <= 0.15, transcript.text
    times = [w.start_s for w in transcript.words]
    assert times == sorted(times) and transcript.words[-1].end_s <= len(audio) / RATE + 0.1
    for start in starts[1:]:  # still answer time after joining
        assert min(abs(t - start) for t in times) < 0.6, start
    assert all(s.end_s - s.start_s <= StreamOptions().max_tail_s + 1.0 for s in transcript.segments)


def test_a_caption_still_queued_when_the_answer_ends_is_dropped_not_decoded(engine, speech_clips,
                                                                           audio_of) -> None:
    """On a busy server the caption waits; the final decode hears more, so only the final runs."""
    audio, reference = _clip(speech_clips, audio_of, "ls-test-clean-1089-134691-0001")
    step = int(0.05 * RATE)
    gate = threading.Event()
    # Never hold the shared engine for ever, but long enough for a loaded machine to reach finish():
    # if the gate opened first, the caption would simply be decoded and the test would prove nothing.
    threading.Timer(100 * UNIT_S, gate.set).start()

    # A server that has just started: the caption budget must not carry what earlier tests measured
    # (a slow caption there stretches the cadence, and agreement commits would run before any caption).
    engine = SpeechEngine(engine.model, engine.options, engine.model_name)

    async def go():
        # other sessions' captions hold every caption worker
        busy = [engine.scheduler.submit(CAPTION, gate.wait, 60) for _ in range(engine.scheduler.caption_slots)]
        listener = AnswerListener(engine, sample_rate=RATE, timer_s=600,
                                  endpoint=EndpointOptions(end_silence_s=math.inf))
        i = 0
        while "captions" not in listener._inflight and i < len(audio) - RATE:  # until a caption is asked for; it queues
            await listener.feed(float_to_pcm16(audio[i:i + step]))
            await asyncio.sleep(0)
            i += step
        queued_caption = listener._inflight["captions"][0]
        for j in range(i, len(audio), step):  # at least a second more: the final hears more than the caption
            await listener.feed(float_to_pcm16(audio[j:j + step]))
        transcript = await listener.finish()
        gate.set()
        for b in busy:
            await asyncio.wrap_future(b)
        return listener, queued_caption, transcript

    try:
        listener, queued_caption, transcript = run(go(), 150)
    finally:
        gate.set()
        engine.scheduler.shutdown()
    assert queued_caption is not None and queued_caption.cancelled()
    assert listener.decodes == 1 and wer(reference, transcript.text) <= 0.2, transcript.text


def test_a_caption_cut_mid_sentence_is_decoded_in_one_pass_with_the_same_words(engine, speech_clips,
                                                                              audio_of) -> None:
    """faster-whisper decodes a segment Whisper left open again in a second 30 s window; a caption keeps
    it from the first pass: one encoder run per caption instead of up to two, the same words."""
    encodes = 0
    encode = engine.model.encode

    def counted(features):
        nonlocal encodes
        encodes += 1
        return encode(features)

    cuts = [audio_of[c["id"]][:int(cut_s * RATE)] for c in speech_clips[:6] if c.get("channels", 1) == 1
            for cut_s in (2.7, 4.1)]
    o = StreamOptions()  # the prompt a live answer starts with
    prompt = build_prompt((), "", prime=o.prime_prompt, terms_in_prompt=o.terms_in_prompt,
                          context_chars=o.context_chars)
    engine.model.encode = counted
    try:
        texts = {}
        passes = {}
        for one_pass in (False, True):
            encodes = 0
            texts[one_pass] = [" ".join(w.text for w in engine.decode(a, prompt, one_pass=one_pass).words)
                               for a in cuts]
            passes[one_pass] = encodes
    finally:
        del engine.model.encode
    assert passes[False] > len(cuts)  # the second window is really paid for by some of these cuts
    assert passes[True] == len(cuts)
    assert corpus_wer(list(zip(texts[False], texts[True]))) <= 0.02, list(zip(texts[False], texts[True]))


class HeldCaptions(SpeechEngine):
    """An engine whose caption decodes, once running, wait for ``gate``: a caption caught mid-decode
    by the end of the speech, made as long as the test needs (a slow moment cannot be timed for real)."""

    def __init__(self, engine: SpeechEngine, gate: threading.Event):
        # Two decode workers on any machine (as on the two-core machines this targets): the held
        # caption waits before it reaches the model, so the model itself is free for the other lane.
        super().__init__(engine.model, replace(engine.options, workers=2), engine.model_name)
        self.gate, self.caption_running = gate, threading.Event()

    def submit_decode(self, audio, prompt=None, *, kind=CAPTION, owner=None, one_pass=False):
        if kind != CAPTION:
            return super().submit_decode(audio, prompt, kind=kind, owner=owner, one_pass=one_pass)

        def held(audio, prompt):
            self.caption_running.set()
            self.gate.wait(120)
            return self.decode(audio, prompt, one_pass=one_pass)

        return self.scheduler.submit(kind, held, audio, prompt, owner=owner)


def test_a_caption_running_when_speech_stops_holds_up_neither_the_transcript_nor_the_end(engine, speech_clips,
                                                                                      audio_of) -> None:
    """The decode that starts when the candidate stops speaking runs beside this answer's own caption,
    and the end of the answer reuses it without waiting for that caption."""
    audio, reference = _clip(speech_clips, audio_of, "ls-test-clean-1089-134691-0001")
    audio = np.concatenate([audio, np.zeros(RATE, np.float32)])  # the candidate stops, then presses "done"
    step = int(0.05 * RATE)
    gate = threading.Event()
    threading.Timer(100 * UNIT_S, gate.set).start()  # never hold the shared model for ever
    held = HeldCaptions(engine, gate)

    async def go():
        listener = AnswerListener(held, sample_rate=RATE, timer_s=600,
                                  endpoint=EndpointOptions(end_silence_s=math.inf))
        for i in range(0, len(audio), step):
            await listener.feed(float_to_pcm16(audio[i:i + step]))
            await asyncio.sleep(0)
        transcript = await listener.finish()
        return listener, transcript, gate.is_set()

    try:
        listener, transcript, gate_was_open = run(go(), 150)
    finally:
        gate.set()
        held.scheduler.shutdown()
    # the transcript, last words included, was made while the caption still held its worker
    assert held.caption_running.is_set() and not gate_was_open
    assert wer(reference, transcript.text) <= 0.2, transcript.text
    assert normalize(transcript.text)[-2:] == normalize(reference)[-2:], transcript.text


def _clip(speech_clips: list[dict], audio_of: dict, clip_id: str) -> tuple[np.ndarray, str]:
    row = next(c for c in speech_clips if c["id"] == clip_id)
    return audio_of[clip_id], row["reference"]


def test_real_audio_ends_after_long_silence_not_on_a_thinking_pause(engine, speech_clips, audio_of) -> None:
    a, ref_a = _clip(speech_clips, audio_of, "ls-test-clean-1089-134691-0001")
    b, ref_b = _clip(speech_clips, audio_of, "librivox-sense_and_sensibility_01_austen_64kb-0880")
    audio = np.concatenate([silence(2.0), a, silence(1.5), b, silence(3.5), a])
    end_of_b = (2.0 * RATE + len(a) + 1.5 * RATE + len(b)) / RATE
    events: list[ListenerEvent] = []

    async def on_event(event: ListenerEvent) -> None:
        events.append(event)

    async def go():
        listener = AnswerListener(engine, sample_rate=RATE, timer_s=120, on_event=on_event, stream=BATCH)
        await replay(listener, audio)
        reason = await listener.wait_ended()
        return listener, reason, await listener.finish()

    listener, reason, transcript = run(go(), 120)
    assert reason == "silence" and listener.ended == "silence"
    # not during the 1.5 s pause, nor before b was over (clips end with a little silence of their own)
    assert end_of_b + 1.5 < listener.audio_s <= end_of_b + 3.5
    assert [e.kind for e in events].count("ended") == 1
    assert wer(f"{ref_a} {ref_b}", transcript.text) <= 0.2, transcript.text
    assert 2.0 - 0.1 <= transcript.speech_start_s <= transcript.words[0].start_s + 0.3


def test_explicit_finish_and_timer(engine, speech_clips, audio_of) -> None:
    a, ref = _clip(speech_clips, audio_of, "triton-1221-135766-0002")

    async def explicit():
        listener = AnswerListener(engine, sample_rate=RATE, timer_s=120, stream=BATCH)
        waiter = asyncio.ensure_future(listener.wait_ended())
        await replay(listener, np.concatenate([silence(0.5), a]))
        first = await listener.finish()
        return listener, first, await listener.finish(), await waiter

    listener, first, second, waited = run(explicit(), 60)
    assert listener.ended is None and waited == "done"
    assert first is second and wer(ref, first.text) <= 0.2

    async def timed():
        listener = AnswerListener(engine, sample_rate=RATE, timer_s=3.0, stream=BATCH)
        await replay(listener, a)
        return listener, await listener.wait_ended(), await listener.finish()

    listener, reason, transcript = run(timed(), 60)
    assert reason == "timer" and listener.audio_s == pytest.approx(3.0, abs=0.1)
    assert transcript.text and transcript.duration_s == pytest.approx(3.0, abs=0.1)


def test_44k_stereo_flac_through_decode_and_live_resampling(engine, speech_clips, streamed) -> None:
    clip = next(c for c in speech_clips if c["id"] == "jfk")
    assert (clip["sample_rate"], clip["channels"]) == (44100, 2)
    assert wer(clip["reference"], streamed(clip).text) <= 0.1
    audio_44k = decode_file(clip["path"], 44100)  # mono downmix at the native rate, resampled live
    recorded: list[bytes] = []

    async def go():
        listener = AnswerListener(engine, sample_rate=44100, timer_s=60, stream=BATCH,
                                  on_audio=recorded.append)
        await replay(listener, audio_44k, frame_s=0.02)
        return await listener.finish()

    transcript = run(go(), 60)
    assert wer(clip["reference"], transcript.text) <= 0.1, transcript.text
    assert sum(map(len, recorded)) // 2 == pytest.approx(len(audio_44k) * 16000 / 44100, abs=2)


@pytest.fixture(scope="session")
def espeak_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("espeak")
    for name, text in SPOKEN.items():
        subprocess.run(["espeak-ng", "-w", str(d / f"{name}.wav"), text], check=True, timeout=30 * UNIT_S)
    return d


SPOKEN = {
    "jargon": "We track experiments in MLflow and serve with KServe on Kubernetes",
    "fillers": "Um, I think, uh, the main risk is, um, data drift, so uh we monitor it.",
    "metrics": "We fine tuned the model with LoRA in PyTorch and tracked precision and recall per class.",
}
TERMS = ("MLflow", "KServe", "Kubernetes", "feature store", "data drift")


def test_opt_in_vocabulary_prompt_spells_jargon_and_keeps_fillers(engine, espeak_dir) -> None:
    unprimed = replace(BATCH, prime_prompt=False)
    with_terms = replace(BATCH, terms_in_prompt=True)  # `transcribe --terms`
    jargon = espeak_dir / "jargon.wav"
    plain = run(transcribe_file(engine, jargon, stream=unprimed), 60).text
    primed = run(transcribe_file(engine, jargon, prompt_terms=TERMS, stream=with_terms), 60).text
    # unprimed, tiny.en writes "case of encubanities" for "KServe on Kubernetes" (WER 0.27-0.36)
    assert wer(SPOKEN["jargon"], primed) <= min(0.2, wer(SPOKEN["jargon"], plain)), (plain, primed)
    assert "MLflow" in primed and "KServe" in primed, primed
    fillers = run(transcribe_file(engine, espeak_dir / "fillers.wav", prompt_terms=TERMS, stream=with_terms), 60)
    words = [w.text.strip(",.").lower() for w in fillers.words]
    assert words.count("um") + words.count("uh") >= 3, fillers.text


def test_default_prompt_keeps_a_term_no_prompt_loses_and_costs_an_ordinary_clip_nothing(
        engine, espeak_dir, speech_clips, audio_of) -> None:
    """The live default (the role's vocabulary handed over, the disfluent example in the prompt)."""
    vocabulary = load_bank(Path(__file__).parents[2] / "rubrics" / "mlops-engineer.yaml").vocabulary
    metrics = espeak_dir / "metrics.wav"
    plain = run(transcribe_file(engine, metrics, stream=replace(BATCH, prime_prompt=False)), 60).text
    default = run(transcribe_file(engine, metrics, prompt_terms=vocabulary, stream=BATCH), 60).text
    # tiny.en hears "recall" as "recoil" without a prompt (bench/asr.py, choice "none")
    assert "recall" in normalize(default) and "recall" not in normalize(plain), (plain, default)
    # with the role's terms in the prompt this clip gained a whole invented sentence (bench/asr.py)
    audio, reference = _clip(speech_clips, audio_of, "ls-test-clean-1089-134691-0001")
    streamed = run(transcribe_audio(engine, audio, prompt_terms=vocabulary, stream=BATCH), 60).text
    assert wer(reference, streamed) <= wer(reference, offline_text(engine, audio)), streamed


def test_transcribe_cli_text_and_json(speech_clips, repo_root, tmp_path) -> None:
    clip = next(c for c in speech_clips if c["id"] == "librivox-sense_and_sensibility_01_austen_64kb-0930")
    cmd = [sys.executable, "-m", "voice_interviewer", "transcribe"]
    bad = tmp_path / "not_audio.wav"
    bad.write_bytes(b"RIFF nonsense")
    failing = (([str(tmp_path / "missing.wav")], "not found"), ([str(bad)], "cannot decode"))
    # Independent processes, each starting Python (and two loading Whisper) cold: run them side by side.
    text, out, *errors = cli_runs([cmd + [clip["path"]], cmd + ["--json", "--no-prompt", clip["path"]],
                                   *(cmd + args for args, _ in failing)], cwd=repo_root, timeout_s=120)
    assert text.returncode == 0, text.stderr
    assert wer(clip["reference"], text.stdout) <= 0.2, text.stdout
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert wer(clip["reference"], data["text"]) <= 0.2
    assert data["words"] and data["segments"] and set(data["words"][0]) >= {"text", "start_s", "end_s"}
    assert math.isclose(data["duration_s"], clip["duration"], abs_tol=0.1)
    for err, (_, fragment) in zip(errors, failing, strict=True):
        assert err.returncode != 0 and fragment in err.stderr and "Traceback" not in err.stderr, err.stderr


def cli_runs(commands: list[list[str]], *, cwd: Path, timeout_s: float) -> list[subprocess.CompletedProcess]:
    """Run commands at the same time; each result as ``subprocess.run(..., capture_output=True, text=True)``."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda c: subprocess.run(c, cwd=cwd, capture_output=True, text=True,
                                                      timeout=timeout_s * UNIT_S), commands))


def test_transcribe_cli_says_a_directory_is_not_a_file(repo_root, tmp_path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    err = subprocess.run([sys.executable, "-m", "voice_interviewer", "transcribe", str(folder)], cwd=repo_root,
                         capture_output=True, text=True, timeout=60 * UNIT_S)
    assert err.returncode != 0 and "Traceback" not in err.stderr, err.stderr
    assert f"{folder}: is a directory; transcribe expects audio files, for example {folder}/*.wav" in err.stderr
    assert "not found" not in err.stderr


def test_streaming_vad_equals_batch_silero_on_real_speech(audio_of) -> None:
    from faster_whisper.vad import get_vad_model

    from voice_interviewer.speech.vad import WINDOW_SAMPLES, StreamingVad

    audio = audio_of["triton-1221-135766-0002"]
    n = len(audio) // WINDOW_SAMPLES * WINDOW_SAMPLES
    batch = np.asarray(get_vad_model()(audio[:n])).reshape(-1)
    vad, rng, parts, i = StreamingVad(), np.random.default_rng(3), [], 0
    while i < n:
        step = int(rng.integers(100, 3000))
        parts.append(vad.process(audio[i:min(i + step, n)]))
        i += step
    streamed = np.concatenate(parts)
    assert len(streamed) == len(batch) and (batch > 0.5).any() and (batch < 0.2).any()
    assert np.max(np.abs(streamed - batch)) < 1e-4


def _live(engine: SpeechEngine, audio: np.ndarray, events: list[ListenerEvent] | None = None):
    """The live path with captions on, ended by "done" as a candidate would after a long answer."""
    async def on_event(event: ListenerEvent) -> None:
        if events is not None:
            events.append(event)

    async def go():
        listener = AnswerListener(engine, sample_rate=RATE, timer_s=600, on_event=on_event,
                                  endpoint=EndpointOptions(end_silence_s=math.inf))
        await replay(listener, audio)
        return await listener.finish()

    return run(go(), 600)


def test_long_pauses_invent_no_words_in_transcript_or_captions(engine, speech_clips, audio_of) -> None:
    chosen = sorted(speech_clips, key=lambda c: c["duration"])[:6]
    audio, reference = answer_with_pauses([(audio_of[c["id"]], c["reference"]) for c in chosen], (3.0, 5.0),
                                          seed=11)
    events: list[ListenerEvent] = []
    transcript = _live(engine, audio, events)
    invented = inserted_words(reference, transcript.text)
    assert len(invented) <= 1, (invented, transcript.text)
    for caption in (e.text for e in events if e.kind == "partial"):
        assert len(inserted_words(reference, caption)) <= 1, caption


def test_silence_and_room_noise_give_an_empty_transcript(engine) -> None:
    for name, audio in (("silence", silence(60.0)), ("room noise", room_noise(60.0))):
        events: list[ListenerEvent] = []
        transcript = _live(engine, audio, events)
        assert transcript.text == "" and not transcript.words, (name, transcript.text)
        assert not [e.text for e in events if e.kind in ("partial", "committed") and e.text], name


def test_quiet_speech_and_the_last_word_are_kept(engine, speech_clips, audio_of) -> None:
    for clip_id in ("triton-1221-135766-0002", "librivox-sense_and_sensibility_01_austen_64kb-0930"):
        audio, reference = _clip(speech_clips, audio_of, clip_id)
        quiet = np.concatenate([silence(0.5), audio * 0.1, silence(0.3)])  # -20 dB, "done" right after
        transcript = _live(engine, quiet)
        assert wer(reference, transcript.text) <= 0.2, transcript.text
        assert normalize(transcript.text)[-1] == normalize(reference)[-1], transcript.text
