"""The websocket server end to end: real Whisper, real TTS, real sockets on loopback, port 0.

The server runs in a background thread on its own event loop, exactly as in
production; each test drives it with a plain ``websockets`` client from
``asyncio.run``, so nothing is shared but the socket. The helpers here are reused
by the browser test.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import UNIT_S
from voice_interviewer.server import InterviewServer, ServerOptions
from voice_interviewer.speech.audio_io import decode_file
from voice_interviewer.speech.pcm import float_to_pcm16, resample

pytestmark = pytest.mark.slow

ROLE = "mlops-engineer"


# ---------------------------------------------------------------------------
# helpers (also used by test_browser_e2e)
# ---------------------------------------------------------------------------


class ServerThread:
    """An :class:`InterviewServer` in a thread with its own loop; ``stop()`` shuts it down."""

    def __init__(self, options: ServerOptions, **kwargs: Any):
        self.loop = asyncio.new_event_loop()
        self.server = InterviewServer(options, **kwargs)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self._ready.wait(180 * UNIT_S):
            raise TimeoutError("server did not start")
        if self._error:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    @property
    def port(self) -> int:
        return self.server.port

    def ws_url(self, query: str = "") -> str:
        return f"ws://127.0.0.1:{self.port}/ws{query}"

    def http(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10 * UNIT_S) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30 * UNIT_S)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30 * UNIT_S)


@dataclass
class Client:
    """A plain websockets client that keeps every message and pairs each ``say`` with its audio."""

    ws: ClientConnection
    messages: list[dict] = field(default_factory=list)
    audio: list[tuple[dict, bytes]] = field(default_factory=list)
    pending_say: dict | None = None

    @classmethod
    async def open(cls, url: str, **kw: Any) -> "Client":
        return cls(await connect(url, max_size=2**24, **kw))

    async def send(self, **msg: Any) -> None:
        await self.ws.send(json.dumps(msg))

    async def next(self, timeout_s: float = 60 * UNIT_S) -> dict:
        """The next JSON message; binary frames are stored against the ``say`` before them."""
        while True:
            data = await asyncio.wait_for(self.ws.recv(), timeout_s)
            if isinstance(data, bytes):
                assert self.pending_say is not None, "binary frame without a preceding say"
                self.audio.append((self.pending_say, data))
                self.pending_say = None
                continue
            msg = json.loads(data)
            self.messages.append(msg)
            if msg["type"] == "say":
                self.pending_say = msg
            return msg

    async def until(self, *types: str, timeout_s: float = 60 * UNIT_S) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            msg = await self.next(max(0.1, deadline - time.monotonic()))
            if msg["type"] in types:
                return msg

    def of(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    async def stream(self, pcm16: bytes, rate_hz: int, frame_s: float = 0.1, realtime: bool = False) -> None:
        step = int(rate_hz * frame_s) * 2
        t0 = time.monotonic()
        for i in range(0, len(pcm16), step):
            await self.ws.send(pcm16[i:i + step])
            delay = t0 + (i + step) / 2 / rate_hz - time.monotonic() if realtime else 0.0
            await asyncio.sleep(max(0.0, delay))

    async def close(self) -> None:
        await self.ws.close()


def speech_pcm(clips: list[dict], rate_hz: int = 16000, gap_s: float = 0.6, tail_silence_s: float = 0.0) -> bytes:
    """Real recordings joined with short pauses (plus optional trailing silence), as PCM16 at ``rate_hz``."""
    gap = np.zeros(int(16000 * gap_s), dtype=np.float32)
    parts: list[np.ndarray] = []
    for c in clips:
        parts += [decode_file(c["path"], 16000), gap]
    parts.append(np.zeros(int(16000 * tail_silence_s), dtype=np.float32))
    audio = np.concatenate(parts)
    if rate_hz != 16000:
        audio = resample(audio, 16000, rate_hz)
    return float_to_pcm16(audio)


def short_clips(clips: list[dict], count: int, min_s: float = 4.0, max_s: float = 7.0) -> list[dict]:
    chosen = sorted((c for c in clips if min_s <= c["duration"] <= max_s), key=lambda c: c["id"])[:count]
    assert len(chosen) == count, "not enough short clips in the shared speech data"
    return chosen


def words(text: str) -> set[str]:
    return {w.strip(".,!?;:'\"").lower() for w in text.split() if len(w.strip(".,!?;:'\"")) >= 4}


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


TEST_OPTIONS = ServerOptions(port=0, voice_engine="pyttsx3", max_audio_speed=200.0, partial_interval_s=0.2,
                             max_sessions=4, resume_grace_s=30.0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from voice_interviewer.store import SessionStore

    with SessionStore(tmp_path_factory.mktemp("sessions")) as s:
        yield s


@pytest.fixture(scope="module")
def server(store):
    srv = ServerThread(TEST_OPTIONS, store=store)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def answer(speech_clips) -> bytes:
    """A few seconds of real read speech then 4 s of silence: the answer ends by silence (3 s)."""
    return speech_pcm(short_clips(speech_clips, 1), 16000, tail_silence_s=4.0)


def start_msg(**over: Any) -> dict:
    d = {"type": "start", "role": ROLE, "rounds": [], "questions": 1, "timer_s": 60, "sample_rate": 16000,
         "interviewer": "rubric", "voice_engine": "pyttsx3", "follow_ups": 0}
    d.update(over)
    return d


# ---------------------------------------------------------------------------
# HTTP side
# ---------------------------------------------------------------------------


def test_serves_the_web_client_and_the_bank_index(server):
    status, body, headers = server.http("/")
    assert status == 200 and b"<html" in body and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for asset in ("/app.js", "/worklet.js", "/style.css"):
        assert server.http(asset)[0] == 200, asset
    status, body, _ = server.http("/api/banks")
    index = json.loads(body)
    role = next(r for r in index["roles"] if r["role"] == ROLE)
    assert role["questions"] == sum(r["questions"] for r in role["rounds"]) > 0
    assert index["voice_engines"]["pyttsx3"] == "ok"
    assert server.http("/api/banks", {"Host": f"attacker.example:{server.port}"})[0] == 421  # DNS rebinding
    for bad in ("/../pyproject.toml", "/%2e%2e/server.py", "/nope.html"):
        status, body, _ = server.http(bad)
        assert status == 404 and b"open /" in body, bad


# ---------------------------------------------------------------------------
# bad input: clear errors, the session survives
# ---------------------------------------------------------------------------


def test_every_bad_input_gets_an_error_and_the_session_survives(server):
    async def run() -> None:
        c = await Client.open(server.ws_url())
        await c.ws.send(b"\x00\x00" * 160)
        assert (await c.next())["code"] == "audio_before_start"
        await c.send(type="end_answer")
        err = await c.next()
        assert err["code"] == "wrong_state" and "start" in err["message"]
        await c.ws.send("{nope")
        assert (await c.next())["code"] == "bad_json"
        await c.send(type="sing")
        err = await c.next()
        assert err["code"] == "unknown_type" and "resume_session" in err["message"]
        await c.send(**start_msg(sample_rate=96000))
        err = await c.next()
        assert err["code"] == "bad_sample_rate" and "96000" in err["message"]
        await c.send(**start_msg(role="no-such-role"))
        err = await c.next()
        assert err["code"] == "bad_field" and "no-such-role" in err["message"]
        await c.send(**start_msg(rounds=["no-such-round"]))
        err = await c.next()
        assert err["code"] == "bad_field" and "fundamentals" in err["message"]
        await c.send(type="resume_session", resume_token="x" * 20)
        assert (await c.next())["code"] == "unknown_session"

        await c.send(**start_msg())
        session = await c.until("session")
        assert session["id"] and len(session["resume_token"]) >= 20 and session["voice_engine"] == "pyttsx3"
        await c.send(**start_msg())
        assert (await c.until("error"))["code"] == "wrong_state"
        await c.ws.send(b"\x00" * (TEST_OPTIONS.max_frame_bytes + 2))
        err = await c.until("error")
        assert err["code"] == "frame_too_large" and str(TEST_OPTIONS.max_frame_bytes) in err["message"]
        await c.ws.send(b"\x00" * 3)
        assert (await c.until("error"))["code"] == "bad_frame"
        # The first question may already be listening: waiting for the errors above skips other messages.
        if not any(m["type"] == "listening" for m in c.messages):
            await c.until("listening")
        await c.send(type="resume")
        assert (await c.until("error"))["code"] == "wrong_state"
        await c.send(type="stop")
        final = await c.until("final")
        assert final["end_reason"] == "stop"
        report = await c.until("report")
        assert report["status"] == "stopped"
        with pytest.raises(ConnectionClosed):
            await c.next(10 * UNIT_S)
        assert c.ws.close_code == 1000

    asyncio.run(run())


def test_message_beyond_max_size_is_closed_with_1009(server):
    async def run() -> None:
        c = await Client.open(server.ws_url())
        await c.ws.send(b"\x00" * (TEST_OPTIONS.max_message_bytes + 2))
        with pytest.raises(ConnectionClosed):
            await c.next(10 * UNIT_S)
        assert c.ws.close_code == 1009

    asyncio.run(run())


def test_foreign_origin_is_refused_and_own_origin_accepted(server):
    async def run() -> None:
        with pytest.raises(InvalidStatus) as refused:
            await connect(server.ws_url(), origin="http://evil.example")
        assert refused.value.response.status_code == 403
        c = await Client.open(server.ws_url(), origin=f"http://127.0.0.1:{server.port}")
        await c.send(type="pause")
        assert (await c.next())["code"] == "wrong_state"
        await c.close()

    asyncio.run(run())


def test_token_required_when_reachable_from_other_machines(server):
    options = ServerOptions(host="0.0.0.0", port=0, voice_engine="pyttsx3")
    assert options.validate().token and not options.is_loopback
    assert ServerOptions(host="127.0.0.1").validate().token is None
    other = ServerThread(options, engine=server.server.engine, synthesizers=server.server.synthesizers)
    token = other.server.options.token
    try:
        assert other.http("/")[0] == 401
        assert other.http(f"/?token={'x' * 32}")[0] == 401
        assert other.http(f"/?token={token}")[0] == 200
        assert other.http("/api/banks", {"Authorization": f"Bearer {token}"})[0] == 200
        assert f"token={token}" in other.server.url()

        async def run() -> None:
            with pytest.raises(InvalidStatus) as refused:
                await connect(other.ws_url())
            assert refused.value.response.status_code == 401
            c = await Client.open(other.ws_url(f"?token={token}"))
            await c.send(type="skip")
            assert (await c.next())["code"] == "wrong_state"
            await c.close()

        asyncio.run(run())
    finally:
        other.stop()


# ---------------------------------------------------------------------------
# interviews with real speech
# ---------------------------------------------------------------------------


def test_full_interview_with_real_speech(server, answer, speech_clips, store):
    """Two questions at 48 kHz: silence-ended answer, follow-up, pause/resume, done, reveal, report."""
    answer48 = resample_pcm(answer, 48000)
    spoken = words(short_clips(speech_clips, 1)[0]["reference"])

    async def run() -> None:
        c = await Client.open(server.ws_url())
        await c.send(**start_msg(questions=2, follow_ups=1, sample_rate=48000))
        session = await c.until("session")
        assert len(session["questions"]) == 2
        q1 = await c.until("question")
        assert (q1["index"], q1["total"], q1["timer_s"]) == (1, 2, 60.0)
        listening = await c.until("listening")
        assert listening["turn_id"] == "q1" and listening["timer_s"] >= 60
        say, pcm = c.audio[0]
        assert say["text"] and say["kind"] == "question" and say["format"] == "pcm16le"
        assert len(pcm) == say["bytes"] > say["sample_rate"] // 2

        await c.stream(answer48, 48000)
        final = await c.until("final")
        assert final["end_reason"] == "silence" and final["turn_id"] == "q1"
        assert len(words(final["text"]) & spoken) >= 2, final["text"]
        assert final["words"] and all(w["end_s"] >= w["start_s"] for w in final["words"])
        assert c.of("partial"), "no live partial transcript"
        await c.until("thinking")
        follow = await c.until("listening")
        assert follow["turn_id"] == "q1f1" and follow["follow_up"] is True
        follow_say = [s for s, _ in c.audio if s["kind"] == "follow_up"]
        assert follow_say and follow_say[0]["latency_ms"]["total"] > 0

        await c.send(type="pause")
        paused = await c.until("listening")
        assert paused["paused"] is True
        await c.stream(answer48[: 48000 * 2], 48000)  # dropped while paused
        await c.send(type="resume")
        assert (await c.until("listening"))["paused"] is False
        await c.stream(answer48[: 48000 * 2 * 6], 48000)
        await c.send(type="end_answer")
        final2 = await c.until("final")
        assert final2["end_reason"] == "done" and final2["text"]
        feedback = await c.until("feedback")
        assert feedback["question_id"] == q1["id"] and feedback["key_points"] and feedback["tips"]
        assert 0 <= feedback["overall"] <= 100 and feedback["delivery"]["word_count"] > 0

        q2 = await c.until("question")
        assert q2["index"] == 2 and q2["id"] != q1["id"]
        await c.until("listening")
        await c.stream(answer48[: 48000 * 2 * 5], 48000)
        await c.send(type="reveal")
        assert (await c.until("final"))["end_reason"] == "reveal"
        assert (await c.until("feedback"))["question_id"] == q2["id"]
        reveal = await c.until("reveal")
        assert reveal["question_id"] == q2["id"] and len(reveal["text"]) > 20
        report = await c.until("report")
        assert report["status"] == "completed" and report["overall"] is not None
        assert [q["id"] for q in report["questions"]] == [q1["id"], q2["id"]]
        assert report["questions"][0]["follow_ups"]
        await c.close()
        return session["id"]

    session_id = asyncio.run(run())
    # The session reached the SQLite store as it happened, and the playback API serves it.
    stored = store.get(session_id)
    assert stored["status"] == "completed"
    assert [q["id"] for q in stored["questions"] if q["asked"]] == [q["id"] for q in stored["report"]["questions"]]
    assert stored["questions"][0]["feedback"]["question_id"] == stored["questions"][0]["id"]
    wav = store.audio_path(session_id, "q1")
    assert wav.stat().st_size > 16000 * 2 * 2  # seconds of the candidate's 16 kHz answer
    status, body, _ = server.http(f"/api/sessions/{session_id}")
    assert status == 200 and json.loads(body)["id"] == session_id
    status, body, headers = server.http(f"/api/sessions/{session_id}/audio/q1.wav")
    assert status == 200 and body[:4] == b"RIFF"
    assert server.http("/api/sessions/not-an-id")[0] == 404


def resample_pcm(pcm16: bytes, rate_hz: int) -> bytes:
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768
    return float_to_pcm16(resample(x, 16000, rate_hz))


def test_concurrent_sessions_are_independent(server, answer):
    async def one(i: int) -> tuple[str, dict]:
        c = await Client.open(server.ws_url())
        await c.send(**start_msg(questions=1, follow_ups=0))
        session = await c.until("session")
        await c.until("listening")
        await c.stream(answer, 16000)
        final = await c.until("final", timeout_s=90 * UNIT_S)
        assert final["end_reason"] == "silence" and final["text"]
        feedback = await c.until("feedback", timeout_s=90 * UNIT_S)
        report = await c.until("report")
        assert report["session_id"] == session["id"]
        await c.close()
        return session["id"], feedback

    async def run() -> None:
        results = await asyncio.gather(*(one(i) for i in range(3)))
        assert len({sid for sid, _ in results}) == 3
        assert all(fb["key_points"] for _, fb in results)

    asyncio.run(run())


def test_disconnect_mid_answer_then_resume_keeps_the_audio(server, speech_clips):
    first, second = short_clips(speech_clips, 2)
    part1 = speech_pcm([first], 16000)
    part2 = speech_pcm([second], 16000)

    async def run() -> None:
        c = await Client.open(server.ws_url())
        await c.send(**start_msg(questions=2, follow_ups=0))
        session = await c.until("session")
        q1 = await c.until("question")
        await c.until("listening")
        await c.stream(part1, 16000)
        await asyncio.sleep(0.5 * UNIT_S)  # let the frames reach the server before the link drops
        await c.ws.close()

        c2 = await Client.open(server.ws_url())
        await c2.send(type="resume_session", resume_token=session["resume_token"])
        again = await c2.until("session")
        assert again["id"] == session["id"]
        assert (await c2.until("question"))["id"] == q1["id"]
        listening = await c2.until("listening")
        assert listening["turn_id"] == "q1" and listening["timer_s"] > 0
        await c2.stream(part2, 16000)
        await c2.send(type="end_answer")
        final = await c2.until("final")
        assert words(final["text"]) & words(first["reference"]), final["text"]
        assert words(final["text"]) & words(second["reference"]), final["text"]
        await c2.until("feedback")
        await c2.until("listening")
        await c2.send(type="stop")
        report = await c2.until("report")
        assert report["status"] == "stopped" and report["questions"][0]["answers"]
        await c2.close()

    asyncio.run(run())


# ---------------------------------------------------------------------------
# review: feedback, then the candidate's next or retry
# ---------------------------------------------------------------------------


async def seen_or_next(c: Client, kind: str, **fields: Any) -> dict:
    """The message of ``kind`` with ``fields`` if it already arrived (while waiting for another), else the next one."""
    for m in c.messages:
        if m["type"] == kind and all(m.get(k) == v for k, v in fields.items()):
            return m
    while True:
        m = await c.until(kind, timeout_s=90 * UNIT_S)
        if all(m.get(k) == v for k, v in fields.items()):
            return m


async def quiet_for(c: Client, seconds: float) -> list[dict]:
    """Every message that arrives within ``seconds`` (none is expected while the server waits)."""
    got: list[dict] = []
    try:
        while True:
            got.append(await c.next(seconds))
    except asyncio.TimeoutError:
        return got


def test_review_waits_for_next_retry_asks_again_and_bad_order_is_a_clear_error(server, answer, store):
    async def run() -> str:
        c = await Client.open(server.ws_url())
        await c.send(**start_msg(questions=2, follow_ups=0, review=True))
        session = await c.until("session")
        await c.send(type="next")  # nothing graded yet
        err = await c.until("error")
        assert err["code"] == "nothing_to_review" and "'reviewing'" in err["message"]
        q1 = await seen_or_next(c, "question", index=1)
        await seen_or_next(c, "listening", turn_id="q1")
        await c.send(type="retry")  # while answering: nothing to review either, and the answer goes on
        assert (await c.until("error"))["code"] == "nothing_to_review"
        await c.stream(answer, 16000)
        assert (await c.until("final"))["turn_id"] == "q1"
        first = await c.until("feedback", timeout_s=90 * UNIT_S)
        assert first["attempt"] == 1 and "comparison" not in first
        reviewing = await c.until("reviewing")
        assert reviewing == {"type": "reviewing", "question_id": q1["id"], "attempt": 1, "last": False}

        # While the candidate reads, nothing is asked and no answer clock runs.
        assert await quiet_for(c, 2.0 * UNIT_S) == []
        await c.send(type="end_answer")
        assert (await c.next())["code"] == "wrong_state"

        # A dropped link during review comes back to the same feedback and the same choice.
        await c.ws.close()
        c = await Client.open(server.ws_url())
        await c.send(type="resume_session", resume_token=session["resume_token"])
        await c.until("session")
        assert (await c.until("feedback"))["attempt"] == 1
        assert (await c.until("reviewing"))["attempt"] == 1

        await c.send(type="retry")
        again = await c.until("question")
        assert (again["id"], again["index"]) == (q1["id"], 1)
        listening = await c.until("listening")
        assert listening["turn_id"] == "q1r2" and listening["timer_s"] >= 60
        await c.stream(answer, 16000)
        assert (await c.until("final"))["turn_id"] == "q1r2"
        second = await c.until("feedback", timeout_s=90 * UNIT_S)
        comparison = second["comparison"]
        assert second["attempt"] == 2 and comparison["attempt"] == 2 and comparison["previous_attempt"] == 1
        assert comparison["previous_score"] == round(first["overall"], 1)
        assert comparison["score_change"] == round(second["overall"] - first["overall"], 1)
        assert (await c.until("reviewing"))["attempt"] == 2

        await c.send(type="next")
        await c.send(type="next")  # one review, one choice: the second has nothing to review
        err = await c.until("error")
        assert err["code"] == "nothing_to_review"
        q2 = await seen_or_next(c, "question", index=2)  # it may come before the error
        listening = await seen_or_next(c, "listening", turn_id="q2")
        assert listening["timer_s"] >= 60  # its clock starts once it is asked, in full
        await c.stream(answer, 16000)
        await c.until("feedback", timeout_s=90 * UNIT_S)
        last = await c.until("reviewing")
        assert last["last"] is True and last["question_id"] == q2["id"]
        assert await quiet_for(c, 1.0 * UNIT_S) == []  # the report waits for the candidate too
        await c.send(type="next")
        report = await c.until("report")
        assert report["status"] == "completed"
        assert report["questions"][0]["attempts"] == [first["overall"], second["overall"]]
        assert "attempts" not in report["questions"][1]
        await c.close()
        return session["id"]

    session_id = asyncio.run(run())
    stored = store.get(session_id)
    attempts = stored["questions"][0]["attempts"]
    assert [(a["attempt"], a["turn_id"]) for a in attempts] == [(1, "q1"), (2, "q1r2")]
    candidate = [i["turn_id"] for i in stored["timeline"] if i["speaker"] == "candidate"]
    assert candidate == ["q1", "q1r2", "q2"]
    assert store.audio_path(session_id, "q1r2").stat().st_size > 16000 * 2  # the retry's own recording


def test_next_in_a_session_without_review_says_how_to_turn_it_on(server):
    async def run() -> None:
        c = await Client.open(server.ws_url())
        await c.send(**start_msg())
        await c.until("listening")
        await c.send(type="next")
        err = await c.until("error")
        assert err["code"] == "review_off" and '"review": true' in err["message"]
        await c.send(type="stop")  # the session survived the error
        assert (await c.until("report"))["status"] == "stopped"
        await c.close()

    asyncio.run(run())


def test_stop_during_review_ends_with_the_report(server, answer):
    async def run() -> None:
        c = await Client.open(server.ws_url())
        await c.send(**start_msg(questions=2, follow_ups=0, review=True))
        await c.until("listening")
        await c.stream(answer, 16000)
        feedback = await c.until("feedback")
        await c.until("reviewing")
        await c.send(type="stop")
        report = await c.until("report")
        assert report["status"] == "stopped"
        assert [q["id"] for q in report["questions"]] == [feedback["question_id"]]  # the second never asked
        assert not [m for m in c.messages if m["type"] == "question" and m["index"] == 2]
        await c.close()

    asyncio.run(run())

# admission: a full server refuses the next candidate, the others carry on
# ---------------------------------------------------------------------------


def test_a_session_beyond_capacity_is_told_the_server_is_full_while_the_others_complete(store, answer):
    srv = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3", max_audio_speed=200.0, max_sessions=2),
                       store=store)

    async def interview(c: Client) -> dict:
        await c.until("listening")
        await c.stream(answer, 16000)
        final = await c.until("final", timeout_s=90 * UNIT_S)
        assert final["end_reason"] == "silence" and final["text"]
        await c.until("feedback", timeout_s=90 * UNIT_S)
        return await c.until("report")

    async def run() -> None:
        running = [await Client.open(srv.ws_url()) for _ in range(2)]
        for c in running:
            await c.send(**start_msg(questions=1, follow_ups=0))
            await c.until("session")
        late = await Client.open(srv.ws_url())
        await late.send(**start_msg(questions=1, follow_ups=0))
        refused = await late.next()
        assert refused["type"] == "error" and refused["code"] == "server_full", refused
        assert "server is full" in refused["message"] and "try again" in refused["message"]
        health = json.loads((await asyncio.to_thread(srv.http, "/api/health"))[1])
        assert health["sessions"] == 2 and health["max_sessions"] == 2

        reports = await asyncio.gather(*(interview(c) for c in running))
        assert all(r["status"] == "completed" and r["questions"] for r in reports)
        for c in running:
            await c.close()

        for _ in range(50):  # the finished sessions leave the registry as their tasks end
            if json.loads((await asyncio.to_thread(srv.http, "/api/health"))[1])["sessions"] == 0:
                break
            await asyncio.sleep(0.1)
        await late.send(**start_msg(questions=1, follow_ups=0))  # the same connection, once there is room
        assert (await late.until("session"))["id"]
        await late.send(type="stop")
        assert (await late.until("report"))["status"] == "stopped"
        await late.close()

    try:
        asyncio.run(run())
    finally:
        srv.stop()


def test_without_a_configured_limit_the_server_measures_its_capacity():
    srv = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3"))
    try:
        limit = srv.server.sessions.max_sessions
        assert 2 <= limit <= 64
        assert f"{limit} sessions at once" in srv.server.capacity_note and "decodes in" in srv.server.capacity_note
        assert json.loads(srv.http("/api/health")[1])["max_sessions"] == limit
    finally:
        srv.stop()
