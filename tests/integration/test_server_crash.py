"""SIGKILL the real server mid-answer, restart it: at most ~1 s of audio lost, the session marked.

The server runs as `voice-interviewer serve` in its own process with a data folder
in tmp_path; a plain websocket client streams real speech at the pace of speech.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.request

import pytest
from websockets.asyncio.client import connect

from tests.conftest import UNIT_S
from tests.serving import free_port, start_serve
from voice_interviewer.speech.audio_io import decode_file
from voice_interviewer.speech.pcm import float_to_pcm16
from voice_interviewer.store import SessionStore

pytestmark = pytest.mark.slow

RATE_HZ = 16000
BYTES_PER_S = 2 * RATE_HZ
FRAME_S = 0.1
STREAM_S = 4.0


async def _answer_until_killed(port: int, pcm: bytes, proc: subprocess.Popen) -> tuple[str, int]:
    """Start a session, stream speech in real time, SIGKILL the server mid-answer; return (id, bytes sent)."""
    async with connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "role": "mlops-engineer", "questions": 1,
                                  "sample_rate": RATE_HZ, "follow_ups": 0}))
        session_id = None
        while True:
            msg = await asyncio.wait_for(ws.recv(), 60 * UNIT_S)
            if isinstance(msg, bytes):
                continue
            data = json.loads(msg)
            if data["type"] == "session":
                session_id = data["id"]
            if data["type"] == "listening":
                break
        frame = int(BYTES_PER_S * FRAME_S)
        sent = 0
        started = time.monotonic()
        for i in range(0, min(len(pcm), int(STREAM_S * BYTES_PER_S)), frame):
            await ws.send(pcm[i:i + frame])
            sent += len(pcm[i:i + frame])
            await asyncio.sleep(max(0.0, started + sent / BYTES_PER_S - time.monotonic()))
        await asyncio.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        return session_id, sent


def test_sigkill_mid_answer_then_restart_loses_at_most_a_second(tmp_path, speech_clips, store_url):
    clips = sorted(speech_clips, key=lambda c: -float(c["duration"]))
    pcm = float_to_pcm16(decode_file(clips[0]["path"], RATE_HZ))
    data_dir, port = tmp_path / "data", free_port()
    proc = start_serve(port, data_dir, store_url)
    try:
        session_id, sent = asyncio.run(_answer_until_killed(port, pcm, proc))
        assert proc.wait(timeout=10 * UNIT_S) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()

    restarted = start_serve(port, data_dir, store_url)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sessions", timeout=10 * UNIT_S) as r:
            listed = json.loads(r.read())
    finally:
        restarted.terminate()
        restarted.wait(timeout=30 * UNIT_S)
    sessions = listed["sessions"] if isinstance(listed, dict) else listed
    assert any(s["id"] == session_id and s["status"] == "interrupted" for s in sessions), sessions

    store = SessionStore(data_dir, url=store_url)
    doc = store.get(session_id)
    assert doc["status"] == "interrupted"
    answer = next(i for i in doc["timeline"] if i["speaker"] == "candidate")
    assert answer["duration_s"] >= sent / BYTES_PER_S - 1.0, (answer["duration_s"], sent / BYTES_PER_S)
    assert store.audio_path(session_id, answer["name"]).stat().st_size > BYTES_PER_S
