"""Two real ``serve`` processes sharing one PostgreSQL store and one audio folder; one is SIGKILLed mid-interview.

The candidate answers the first question on server A with real speech over the websocket;
server B plays that answer back while A is still recording it. A is then killed while
the second question is open: B marks the session interrupted with the committed text and
audio, serves and exports it, and the candidate continues it on B from the next question.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import UNIT_S
from tests.serving import free_port, start_serves
from voice_interviewer.speech.audio_io import decode_file
from voice_interviewer.speech.pcm import float_to_pcm16

pytestmark = pytest.mark.slow

RATE_HZ = 16000
BYTES_PER_S = 2 * RATE_HZ
FRAME_S = 0.1
ANSWER_S = 5.0
LEASE_S = 3.0


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20 * UNIT_S) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_json(port: int, path: str) -> Any:
    status, body = get(port, path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


async def until(ws: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    """The next message of type ``kind`` (with the given field values); fails on an ``error``."""
    while True:
        msg = await asyncio.wait_for(ws.recv(), 90 * UNIT_S)
        if isinstance(msg, bytes):
            continue
        data = json.loads(msg)
        assert data["type"] != "error", data
        if data["type"] == kind and all(data.get(k) == v for k, v in match.items()):
            return data


async def answer_first_question_then_kill(port_a: int, port_b: int, pcm: bytes,
                                          server_a: subprocess.Popen) -> tuple[str, int, int]:
    """On A: answer q1 with real speech, see it graded; while q2 is open, fetch q1's audio from B, kill A.

    Returns (session id, bytes of q1 sent, size of q1's WAV as B served it while A was alive)."""
    async with connect(f"ws://127.0.0.1:{port_a}/ws", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "role": "mlops-engineer", "questions": 3, "follow_ups": 0,
                                  "sample_rate": RATE_HZ}))
        session = await until(ws, "session")
        await until(ws, "listening", turn_id="q1")
        frame, sent, started = int(BYTES_PER_S * FRAME_S), 0, time.monotonic()
        for i in range(0, min(len(pcm), int(ANSWER_S * BYTES_PER_S)), frame):
            await ws.send(pcm[i:i + frame])
            sent += len(pcm[i:i + frame])
            await asyncio.sleep(max(0.0, started + sent / BYTES_PER_S - time.monotonic()))
        await ws.send(json.dumps({"type": "end_answer"}))
        await until(ws, "feedback")
        await until(ws, "listening", turn_id="q2")
        status, wav = await asyncio.to_thread(get, port_b, f"/api/sessions/{session['id']}/audio/q1.wav")
        assert status == 200, wav[:300]
        server_a.send_signal(signal.SIGKILL)
        return session["id"], sent, len(wav)


async def continue_on(port: int, session_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Continue the interrupted session on another server; stop at the first question it asks."""
    async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "continue_session": session_id, "sample_rate": RATE_HZ}))
        session = await until(ws, "session")
        question = await until(ws, "question")
        listening = await until(ws, "listening")
        await ws.send(json.dumps({"type": "stop"}))
        report = await until(ws, "report")
    async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:  # it has ended now
        await ws.send(json.dumps({"type": "start", "continue_session": session_id, "sample_rate": RATE_HZ}))
        refused = json.loads(await asyncio.wait_for(ws.recv(), 30 * UNIT_S))
        assert refused["type"] == "error" and refused["code"] == "cannot_continue", refused
        assert "has ended (stopped)" in refused["message"], refused
    return session, {**question, "listening": listening}, report


def test_a_killed_servers_interview_is_marked_played_exported_and_continued_elsewhere(
        tmp_path: Path, speech_clips: list[dict], postgres_server) -> None:
    url = postgres_server.new_database()
    clip = max(speech_clips, key=lambda c: float(c["duration"]))
    pcm = float_to_pcm16(decode_file(clip["path"], RATE_HZ))
    audio_dir = tmp_path / "shared-audio"
    shared = ("--audio-dir", str(audio_dir), "--lease-seconds", str(LEASE_S))
    port_a, port_b = free_port(), free_port()
    server_a, server_b = start_serves((port_a, tmp_path / "a", url, *shared),
                                      (port_b, tmp_path / "b", url, *shared))
    try:
        session_id, sent, live_wav = asyncio.run(answer_first_question_then_kill(port_a, port_b, pcm, server_a))
        assert server_a.wait(timeout=10 * UNIT_S) == -signal.SIGKILL
        assert live_wav >= 44 + sent - BYTES_PER_S  # B played A's answer while A was still recording

        deadline = time.monotonic() + (4 * LEASE_S + 10) * UNIT_S
        while time.monotonic() < deadline:
            doc = get_json(port_b, f"/api/sessions/{session_id}")
            if doc["status"] != "running":
                break
            time.sleep(0.5)
        assert doc["status"] == "interrupted", doc["status"]
        listed = get_json(port_b, "/api/sessions")["sessions"]
        assert [s["status"] for s in listed if s["id"] == session_id] == ["interrupted"]
        answer = next(i for i in doc["timeline"] if i["speaker"] == "candidate" and i["turn_id"] == "q1")
        assert answer["finished"] and len(answer["text"].split()) >= 5, answer["text"]
        assert doc["questions"][0]["feedback"] is not None and doc["questions"][1]["asked"]
        status, wav = get(port_b, f"/api/sessions/{session_id}/audio/q1.wav")
        assert status == 200 and abs((len(wav) - 44) - sent) <= BYTES_PER_S * FRAME_S, (len(wav), sent)
        status, html = get(port_b, f"/api/sessions/{session_id}/report.html")
        assert status == 200 and answer["text"].split()[0].encode() in html

        session, question, report = asyncio.run(continue_on(port_b, session_id))
        assert session["id"] == session_id
        third = doc["questions"][2]
        assert (question["id"], question["index"], question["listening"]["turn_id"]) == (third["id"], 3, "q3")
        assert [q["id"] for q in report["questions"]] == [q["id"] for q in doc["questions"][:2]]
        assert report["questions"][0]["score"] == doc["questions"][0]["feedback"]["overall"]
        after = get_json(port_b, f"/api/sessions/{session_id}")
        assert after["status"] == "stopped"
        assert [i["turn_id"] for i in after["timeline"] if i["speaker"] == "candidate"][0] == "q1"
        assert after["questions"][2]["asked"]
    finally:
        for proc in (server_a, server_b):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30 * UNIT_S)
