"""Servers sharing one store: a shared audio folder, leases, takeover of a killed server's session, continuing it.

The killed server is a real child process recording the real interview flow into the
store; it is SIGKILLed in the middle of its second answer, so what the survivor finds
is exactly what a crash leaves: rows, committed segments, a raw audio file, a lease
that nobody renews. Runs on SQLite and on a private PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from tests.conftest import ROOT, UNIT_S
from tests.unit.test_store import BANK_YAML, PhraseGrader, ScriptedVoiceChannel, read_clip, run_interview
from voice_interviewer import export
from voice_interviewer.bank import parse_bank
from voice_interviewer.channels.base import SessionInfo
from voice_interviewer.continuation import continue_plan
from voice_interviewer.errors import ConfigError, StoreError
from voice_interviewer.interview import Interview
from voice_interviewer.interviewer.rubric import RubricInterviewer
from voice_interviewer.store import ServerLease, SessionStore

SID = "5e55105ca11ed001"
THIRD_QUESTION = """
  - id: norland-estate
    round: basics
    text: Who inherited Norland, and on what terms?
    difficulty: easy
    answer_time_s: 60
    key_points:
      - {id: son, weight: 1, statement: Names the son, phrasings: [son]}
      - {id: terms, weight: 1, statement: Gives the terms, phrasings: [estate]}
      - {id: grandson, weight: 1, statement: Names the grandson, phrasings: [grandson]}
    follow_ups:
      - {probes: terms, text: "On what terms exactly?"}
      - {probes: grandson, text: "Who was it secured for?"}
    strong_answer: The estate went to his son, tied up for his grandson.
"""
BANK3 = BANK_YAML + THIRD_QUESTION
QUESTION_IDS = ("family-duty", "amiable-wife", "norland-estate")

# The server that dies: it holds a lease, answers q1 in full, then streams half of q2 (with one
# committed segment), says READY and waits to be killed.
CHILD = """
import asyncio, sys
from pathlib import Path
from tests.unit.test_store import PhraseGrader, ScriptedVoiceChannel, read_clip, CLIPS
from tests.unit.test_store_leases import BANK3, QUESTION_IDS, SID
from voice_interviewer.bank import parse_bank
from voice_interviewer.interview import Interview
from voice_interviewer.interviewer.rubric import RubricInterviewer
from voice_interviewer.plan import InterviewSettings
from voice_interviewer.store import ServerLease, SessionStore
from voice_interviewer.transcript import Segment

data_dir, url, audio_dir, speech_dir = sys.argv[1:5]
store = SessionStore(data_dir, url=url or None, audio_dir=audio_dir)
ServerLease(store, lease_s=1.0).start()

class DiesInQ2(ScriptedVoiceChannel):
    async def listen(self, request):
        if request.turn_id != "q2":
            return await super().listen(request)
        pcm, rate, text = read_clip(Path(speech_dir), CLIPS["q2"])
        half = len(pcm) // 4 * 2
        await asyncio.to_thread(self._stream, "q2", pcm[:half], rate)
        self.recorder.segment_committed("q2", Segment("a more amiable wife", 0.0, 1.2, ()))
        await asyncio.sleep(0.8)
        self.recorder.flush()
        print("READY", half, flush=True)
        await asyncio.Event().wait()

settings = InterviewSettings(role="test-role", question_ids=QUESTION_IDS, max_follow_ups=0)
bank = parse_bank(BANK3, "test.yaml")
asyncio.run(Interview(bank, settings, DiesInQ2(Path(speech_dir)), RubricInterviewer(), PhraseGrader(),
                      store.recorder(), session_id=SID).run())
"""


def data_dir(tmp_path: Path, store_url: str | None, server: str) -> Path:
    """A server's own data folder; on SQLite the database is a file in it, so servers sharing
    the store share the folder (one machine), while on PostgreSQL each has its own."""
    return tmp_path / (server if store_url else "data")


def kill_mid_interview(data_dir: Path, url: str | None, audio_dir: Path, speech_dir: Path) -> int:
    """Run the dying server until it is in the middle of q2, SIGKILL it; returns the q2 bytes it had sent."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), url or "", str(audio_dir), str(speech_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY"), f"child did not reach q2: {line!r} {proc.stderr.read()}"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10 * UNIT_S) == -signal.SIGKILL
        return int(line.split()[1])
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture
def server(tmp_path: Path, store_url: str | None):
    """``server(name)``: another server on the same store and audio folder, holding a 1-second lease."""
    opened: list[tuple[SessionStore, ServerLease]] = []

    def make(name: str) -> tuple[SessionStore, ServerLease]:
        store = SessionStore(data_dir(tmp_path, store_url, name), url=store_url, audio_dir=tmp_path / "audio")
        opened.append((store, ServerLease(store, lease_s=1.0).start()))
        return opened[-1]

    yield make
    for store, lease in opened:
        lease.stop()
        store.close()


def test_a_session_recorded_by_one_server_plays_and_exports_from_another(tmp_path: Path, speech_dir: Path,
                                                                        store_url: str | None) -> None:
    with SessionStore(data_dir(tmp_path, store_url, "server-a"), url=store_url, audio_dir=tmp_path / "audio") as a:
        interview, channel, _ = run_interview(a, speech_dir)
    with SessionStore(data_dir(tmp_path, store_url, "server-b"), url=store_url, audio_dir=tmp_path / "audio") as b:
        assert interview.session_id in [s["id"] for s in b.list()]
        with wave.open(str(b.audio_path(interview.session_id, "q1")), "rb") as w:
            assert abs(w.getnframes() / 16000 - channel.sent_bytes["q1"] / 2 / 16000) <= 0.02
        assert "What did John Dashwood" in export.render(b.get(interview.session_id), "html")
        assert b.sessions_dir == (tmp_path / "audio").resolve()
        assert not (data_dir(tmp_path, store_url, "server-b") / "sessions").exists()


def test_the_audio_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_INTERVIEWER_AUDIO_DIR", str(tmp_path / "shared"))
    with SessionStore(tmp_path / "data") as store:
        assert store.sessions_dir == (tmp_path / "shared").resolve()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="--audio-dir"):
        SessionStore(tmp_path / "data", audio_dir=tmp_path / "file" / "below")


def test_a_live_servers_session_is_left_alone(tmp_path: Path, server) -> None:
    a, _ = server("server-a")
    recorder = a.recorder()
    recorder.session_started(SessionInfo("a11e0000a11e0001", "r", "R", ()))
    recorder.candidate_audio("q1", b"\0\0" * 1600, 16000)
    b, lease_b = server("server-b")
    time.sleep(3.0)  # three of a's lease lengths: a renews, so b must not take anything
    assert lease_b.taken_over == [] and b.get("a11e0000a11e0001")["status"] == "running"
    with pytest.raises(StoreError, match="cannot be continued: it is running on a live server"):
        b.continue_session("a11e0000a11e0001")
    with pytest.raises(StoreError, match="being recorded by a live server"):
        b.delete("a11e0000a11e0001")
    recorder.session_finished(None, "stopped")
    assert b.get("a11e0000a11e0001")["status"] == "stopped"


def test_a_killed_servers_session_is_taken_over_then_continued(tmp_path: Path, speech_dir: Path,
                                                                 store_url: str | None, server) -> None:
    b, lease_b = server("server-b")
    c, lease_c = server("server-c")
    sent_q2 = kill_mid_interview(data_dir(tmp_path, store_url, "server-a"), store_url, tmp_path / "audio",
                                 speech_dir)
    deadline = time.monotonic() + 15 * UNIT_S
    while b.get(SID)["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sorted(lease_b.taken_over + lease_c.taken_over) == [SID]  # by one survivor, once

    doc = b.get(SID)
    assert doc["status"] == "interrupted"
    answers = {i["turn_id"]: i for i in doc["timeline"] if i["speaker"] == "candidate"}
    _, _, q1_text = read_clip(speech_dir, "sense_and_sensibility_01_austen_64kb-0870")
    assert answers["q1"]["text"] == q1_text and answers["q1"]["finished"]
    assert answers["q2"]["text"] == "a more amiable wife" and answers["q2"]["end_reason"] == "interrupted"
    assert doc["questions"][0]["feedback"]["overall"] is not None
    with wave.open(str(b.audio_path(SID, "q2")), "rb") as w:  # every byte flushed before the kill
        assert w.getnframes() * 2 == sent_q2
    assert not list((tmp_path / "audio" / SID).glob("*.pcm"))

    bank = parse_bank(BANK3, "test.yaml")
    plan = continue_plan(b, SID, lambda role: bank)
    assert plan.asked == {"family-duty", "amiable-wife"} and plan.settings.question_ids == QUESTION_IDS
    with pytest.raises(StoreError, match="cannot be continued"):
        c.continue_session(SID)  # one server continues it, not two
    channel = ScriptedVoiceChannel(speech_dir)
    interview = Interview(plan.bank, plan.settings, channel, RubricInterviewer(), PhraseGrader(),
                          b.recorder(SID, continuing=True), session_id=SID, asked=plan.asked,
                          prior_results=plan.prior_results)
    report = asyncio.run(interview.run())
    assert [u.turn_id for u in channel.said] == ["q3"]

    doc = b.get(SID)
    assert doc["status"] == "completed"
    order = [(i["speaker"], i["turn_id"]) for i in doc["timeline"]]
    assert order[-2:] == [("interviewer", "q3"), ("candidate", "q3")] and order.count(("candidate", "q1")) == 1
    names = [i["name"] for i in doc["timeline"]]
    assert len(names) == len(set(names))
    assert [q["id"] for q in doc["report"]["questions"]] == list(QUESTION_IDS)
    assert report is not None and report.questions[0]["score"] == doc["questions"][0]["feedback"]["overall"]
    assert report.questions[1]["answers"] == ["a more amiable wife"] and report.questions[1]["score"] is None
    for name in ("q1", "q2", "q3"):
        assert b.audio_path(SID, name).stat().st_size > 44
