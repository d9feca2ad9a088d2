"""``voice-interviewer sessions`` through a real subprocess against a real data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import ROOT, UNIT_S
from tests.integration.pulse import pulse, raw_level_dbfs
from voice_interviewer.bank import parse_bank
from voice_interviewer.channels.base import Reply, ReplyAction, SessionInfo, Utterance, UtteranceKind
from voice_interviewer.scoring.feedback import Delivery, Feedback, KeyPointResult
from voice_interviewer.store import ENV_STORE, SessionStore
from voice_interviewer.transcript import Segment, Transcript, Word

__all__ = ["pulse"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.slow

BANK = parse_bank("""
role: cli-role
title: CLI Role
rounds:
  - {id: only, title: Only round}
questions:
  - id: describe
    round: only
    text: "Describe the man in one sentence."
    difficulty: easy
    answer_time_s: 30
    key_points:
      - {id: young, weight: 1, statement: Says he is young, phrasings: [young]}
      - {id: disposed, weight: 1, statement: Mentions his disposition, phrasings: [disposed]}
      - {id: selfish, weight: 1, statement: Calls him selfish, phrasings: [selfish]}
    follow_ups:
      - {probes: selfish, text: "Is he selfish?"}
      - {probes: young, text: "How old is he?"}
    strong_answer: A young man, not ill disposed, but rather cold hearted and selfish.
""", "cli.yaml")


def record(store: SessionStore, speech_dir: Path, sid: str, covered: tuple[bool, ...], hostile: bool = False) -> str:
    stem = speech_dir / "pocketsphinx_librivox" / "sense_and_sensibility_01_austen_64kb-0880"
    with wave.open(str(stem.with_suffix(".wav")), "rb") as w:
        pcm = w.readframes(w.getnframes())
    text = stem.with_suffix(".txt").read_text().strip() + (" <script>alert(1)</script>" if hostile else "")
    q = BANK.questions[0]
    rec = store.recorder()
    rec.session_started(SessionInfo(sid, BANK.role, BANK.title, (q,)))
    rec.utterance(Utterance(q.text, UtteranceKind.QUESTION, q.id, "q1"))
    rec.interviewer_audio("q1", b"\0\0" * 11025, 22050)
    for start in range(0, len(pcm), 640):
        rec.candidate_audio("q1", pcm[start:start + 640], 16000)
    words = tuple(Word(t, i * 0.35, i * 0.35 + 0.3) for i, t in enumerate(text.split()))
    seg = Segment(text, 0.0, words[-1].end_s, words)
    rec.segment_committed("q1", seg)
    rec.answer(q, "q1", Reply(ReplyAction.ANSWERED, Transcript(text, words, (seg,), len(pcm) / 32000), "done"))
    kps = tuple(KeyPointResult(k.id, k.statement, k.weight, c, float(c)) for k, c in zip(q.key_points, covered))
    overall = round(100 * sum(covered) / len(covered), 1)
    rec.feedback(q, Feedback(q.id, overall / 100, overall, kps, Delivery(len(words)), ("Say more.",)))
    rec.session_finished(None, "completed")
    return sid


@dataclass(frozen=True)
class Stored:
    """A data folder with recorded sessions, their rows in the store under test (``url`` None: SQLite)."""

    data_dir: Path
    url: str | None

    def cli(self, *args: str, stdin: str | None = None, env: dict | None = None,
            store_flag: bool = True) -> subprocess.CompletedProcess:
        """``voice-interviewer sessions ARGS`` naming the store by ``--store``, or by the environment."""
        env = {**(env or os.environ), "PYTHONPATH": str(ROOT)}
        env.pop("VOICE_INTERVIEWER_DATA", None)
        env.pop(ENV_STORE, None)
        where = ["--data-dir", str(self.data_dir)]
        if self.url and store_flag:
            where += ["--store", self.url]
        elif self.url:
            env[ENV_STORE] = self.url
        return subprocess.run([sys.executable, "-m", "voice_interviewer", "sessions", *args, *where],
                              capture_output=True, text=True, env=env, input=stdin, timeout=60 * UNIT_S)


@pytest.fixture()
def stored(tmp_path: Path, speech_dir: Path, store_url: str | None) -> Stored:
    d = tmp_path / "data"
    with SessionStore(d, url=store_url) as store:
        record(store, speech_dir, "0000aaaa0000aaaa", (True, False, False))
        store.database.execute("UPDATE sessions SET started_at = started_at - 3600 WHERE id = '0000aaaa0000aaaa'")
        record(store, speech_dir, "1111bbbb1111bbbb", (True, True, False), hostile=True)
    return Stored(d, store_url)


def test_list_and_show(stored: Stored) -> None:
    out = stored.cli("list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "STARTED", "STATUS", "SCORE"]
    assert lines[1].startswith("1111bbbb1111bbbb") and " 67  CLI Role" in lines[1]
    assert lines[2].startswith("0000aaaa0000aaaa") and " 33  CLI Role" in lines[2]
    show = stored.cli("show", "1111bbbb1111bbbb")
    assert show.returncode == 0, show.stderr
    assert "overall score: 67" in show.stdout
    assert "interviewer: offline rubric, grader: offline scorer" in show.stdout
    assert "progress: 33 → 67 (improved, +33 since last time)" in show.stdout
    assert "You: he was not an ill disposed young man" in show.stdout
    by_env = stored.cli("list", store_flag=False)  # the same store named by VOICE_INTERVIEWER_STORE
    assert by_env.returncode == 0 and by_env.stdout == out.stdout, by_env.stderr


def test_export_each_format(stored: Stored, tmp_path: Path) -> None:
    html_path = tmp_path / "report.html"
    out = stored.cli("export", "1111bbbb1111bbbb", "--format", "html", "-o", str(html_path))
    assert out.returncode == 0, out.stderr
    html = html_path.read_text()
    HTMLParser().feed(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    as_json = stored.cli("export", "1111bbbb1111bbbb", "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["id"] == "1111bbbb1111bbbb" and data["progress"]["describe"]["improved"] is True
    md = stored.cli("export", "1111bbbb1111bbbb", "--format", "md").stdout
    assert md.startswith("# Interview report: CLI Role\n") and "## Question 1: Describe the man" in md


def test_bad_ids_get_a_clear_error_and_touch_nothing(stored: Stored) -> None:
    before = sorted(p.relative_to(stored.data_dir) for p in stored.data_dir.rglob("*") if "-wal" not in p.name)
    calls = [("show", "../etc"), ("delete", "a/b", "--yes"), ("export", ""), ("play", "x" * 300),
             ("show", "ünïcode0")]
    for action, bad, *extra in calls:
        out = stored.cli(action, bad, *extra)
        assert out.returncode == 2, (action, bad, out.stdout)
        assert "is not a session id" in out.stderr and "sessions list" in out.stderr
    missing = stored.cli("show", "ffffffffffffffff")
    assert missing.returncode == 2 and "no session ffffffffffffffff" in missing.stderr
    after = sorted(p.relative_to(stored.data_dir) for p in stored.data_dir.rglob("*") if "-wal" not in p.name)
    assert before == after


def test_delete_needs_confirmation_then_removes_everything(stored: Stored) -> None:
    refused = stored.cli("delete", "0000aaaa0000aaaa", stdin="y\n")  # not a terminal: --yes is required
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert (stored.data_dir / "sessions" / "0000aaaa0000aaaa").is_dir()
    done = stored.cli("delete", "0000aaaa0000aaaa", "--yes")
    assert done.returncode == 0 and "Deleted session 0000aaaa0000aaaa" in done.stdout
    assert not (stored.data_dir / "sessions" / "0000aaaa0000aaaa").exists()
    assert "0000aaaa0000aaaa" not in stored.cli("list").stdout
    show = stored.cli("show", "1111bbbb1111bbbb").stdout
    assert "progress:" not in show  # the only other attempt is gone


def test_play_without_an_output_device_is_a_clear_error(stored: Stored) -> None:
    out = stored.cli("play", "1111bbbb1111bbbb", "--output-device", "no-such-device-xyz")
    assert out.returncode == 2
    assert "no usable output device 'no-such-device-xyz'" in out.stderr and "--output-device" in out.stderr
    bad_q = stored.cli("play", "1111bbbb1111bbbb", "--question", "5")
    assert bad_q.returncode == 2 and "--question 5 is out of range" in bad_q.stderr


def test_play_sends_both_voices_to_a_real_output_device(stored: Stored, pulse, tmp_path: Path) -> None:
    captured = tmp_path / "speaker.raw"
    recorder = pulse.record(captured)
    try:
        out = stored.cli("play", "1111bbbb1111bbbb", "--question", "1", "--output-device", "pulse", env=pulse.env)
    finally:
        recorder.terminate()
        recorder.wait(timeout=5 * UNIT_S)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Playing on pulse")
    assert lines[1] == "Interviewer: Describe the man in one sentence."
    assert lines[2].startswith("You: he was not an ill disposed young man")
    assert captured.stat().st_size >= 2.5 * 32000  # the 3 s answer reached the speaker
    assert raw_level_dbfs(captured) > -45.0
