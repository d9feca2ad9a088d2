"""Finished answers transcribed by a real OpenAI-compatible server; stopping it mid-interview falls back.

The speech server is faster-whisper-server (not this project's code) in its own process,
on the same local tiny.en model (``tests/speech_server.py``). The interview server runs
in-process with real Whisper for captions and fallback, driven over a real websocket with
real read speech.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import UNIT_S
from tests.integration.test_server_protocol import TEST_OPTIONS, Client, ServerThread, short_clips, speech_pcm, words
from tests.serving import free_port
from voice_interviewer.speech.engine import SpeechEngine
from voice_interviewer.speech.listener import AnswerListener, replay
from voice_interviewer.speech.pcm import pcm16_to_float
from voice_interviewer.speech.remote import RemoteOptions, RemoteTranscriber

pytestmark = pytest.mark.slow

# Generous: here the speech server shares two busy cores with the interview server, and one
# decode of a few seconds of speech can take seconds. A deployment's is near 1 s.
TIMEOUT_S = 20.0 * UNIT_S


@pytest.fixture(scope="module")
def speech_server(tmp_path_factory):
    from tests import speech_server

    problem = speech_server.missing_requirement()
    if problem:
        pytest.fail(problem, pytrace=False)
    server = speech_server.start(tmp_path_factory.mktemp("speech-server"))
    yield server
    server.stop()


def test_an_interview_is_transcribed_by_the_server_until_it_stops_then_locally(speech_server, speech_clips):
    remote = RemoteTranscriber(RemoteOptions(speech_server.url, timeout_s=TIMEOUT_S, retry_after_s=600))
    clip = short_clips(speech_clips, 1)[0]
    answer = speech_pcm([clip], 16000, tail_silence_s=4.0)
    spoken = words(clip["reference"])
    before = speech_server.requests()  # the readiness check's
    server = ServerThread(TEST_OPTIONS, remote=remote)
    try:
        assert remote.counts.answered == 1  # the start-up probe reached it

        async def run() -> tuple[dict, dict, dict, dict]:
            c = await Client.open(server.ws_url())
            await c.send(type="start", role="mlops-engineer", questions=3, follow_ups=0, timer_s=60,
                         sample_rate=16000, voice_engine="pyttsx3")
            await c.until("listening")
            await c.stream(answer, 16000, realtime=True)
            first = await c.until("final")
            first_counts = dict(vars(remote.counts))
            speech_server.stop()  # the speech server goes away between two answers
            await c.until("listening")
            await c.stream(answer, 16000, realtime=True)
            second = await c.until("final")
            await c.send(type="stop")
            await c.until("report")
            await c.close()
            return first, second, first_counts

        first, second, first_counts = asyncio.run(run())
    finally:
        server.stop()

    assert len(words(first["text"]) & spoken) >= 3, first["text"]
    assert first_counts["answered"] >= 2 and first_counts["failed"] == 0, first_counts
    assert speech_server.requests() - before == first_counts["requests"]  # the server's own log agrees
    assert len(words(second["text"]) & spoken) >= 3, second["text"]
    assert remote.counts.failed == 1 and "Connection" in remote.counts.last_error, vars(remote.counts)
    assert remote.counts.requests == first_counts["requests"] + 1  # one refused request, then it pauses
    assert not remote.available


def test_a_slow_server_falls_back_to_the_local_model_within_its_timeout(speech_clips):
    """A real socket that accepts the request and never answers: the tail is decoded locally."""
    import socket
    import threading

    port = free_port()
    sink = socket.create_server(("127.0.0.1", port))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(sink.accept()[0]), daemon=True).start()
    remote = RemoteTranscriber(RemoteOptions(f"http://127.0.0.1:{port}/v1", timeout_s=0.8, retry_after_s=600))
    clip = short_clips(speech_clips, 1)[0]
    audio = pcm16_to_float(speech_pcm([clip], 16000))
    engine = SpeechEngine.shared()

    async def run():
        listener = AnswerListener(engine, sample_rate=16000, timer_s=60, remote=remote)
        await replay(listener, audio)
        t0 = time.monotonic()
        transcript = await listener.finish()
        return listener, transcript, time.monotonic() - t0

    try:
        listener, transcript, took = asyncio.run(run())
    finally:
        sink.close()
        for conn in held:
            conn.close()
    assert len(words(transcript.text) & words(clip["reference"])) >= 3, transcript.text
    assert listener.remote_decodes == 0 and remote.counts.failed == 1
    assert "Timeout" in remote.counts.last_error, remote.counts.last_error
    # It waited for the server no longer than its timeout, then one local decode of the tail.
    assert 0.8 <= took < 0.8 + 6 * UNIT_S, took
