"""The session store on a real SQLite file: schema, recording a real interview flow, recovery, deletion, ids."""

from __future__ import annotations

import asyncio
import math
import sqlite3
import struct
import time
import wave
from pathlib import Path

import pytest

from voice_interviewer.bank import parse_bank
from voice_interviewer.channels.base import ListenRequest, Reply, ReplyAction, SessionInfo, Utterance, UtteranceKind
from voice_interviewer.errors import SessionNotFoundError, StoreError
from voice_interviewer.interview import Interview
from voice_interviewer.interviewer.rubric import RubricInterviewer
from voice_interviewer.plan import InterviewSettings
from voice_interviewer.scoring.feedback import Delivery, Feedback, KeyPointResult
from voice_interviewer.store import SCHEMA_VERSION, SessionStore, validate_session_id
from voice_interviewer.store.dialect import SQLITE
from voice_interviewer.store.schema import MIGRATIONS, schema_version
from voice_interviewer.transcript import Segment, Transcript, Word

BANK_YAML = """
role: test-role
title: Test Role
rounds:
  - {id: basics, title: Basics}
questions:
  - id: family-duty
    round: basics
    text: What did John Dashwood consider doing for his family?
    difficulty: easy
    answer_time_s: 60
    key_points:
      - {id: dashwood, weight: 1, statement: Names John Dashwood, phrasings: [dashwood]}
      - {id: power, weight: 1, statement: Says what was in his power, phrasings: [power]}
      - {id: selfish, weight: 3, statement: Judges his character, phrasings: [selfish, cold hearted]}
    follow_ups:
      - {probes: selfish, text: "How would you describe his character, honestly?"}
      - {probes: power, text: "What exactly was in his power to do?"}
    strong_answer: He weighed how much he could prudently give, and his selfishness won.
  - id: amiable-wife
    round: basics
    text: How might a different marriage have changed him?
    difficulty: easy
    answer_time_s: 60
    key_points:
      - {id: married, weight: 1, statement: Mentions the marriage, phrasings: [married]}
      - {id: amiable, weight: 1, statement: Says he could have become amiable, phrasings: [amiable himself]}
      - {id: respectable, weight: 1, statement: Says he would be respectable, phrasings: [respectable]}
    follow_ups:
      - {probes: amiable, text: "Could he have become amiable himself?"}
      - {probes: married, text: "Whom did he marry, and why does it matter?"}
    strong_answer: A more amiable wife would have made him more respectable, even amiable.
"""

CLIPS = {  # turn id -> LibriVox clip stem (each has a .txt transcript beside its .wav)
    "q1": "sense_and_sensibility_01_austen_64kb-0870",
    "q1f1": "sense_and_sensibility_01_austen_64kb-0890",
    "q2": "sense_and_sensibility_01_austen_64kb-0920",
    "q2f1": "sense_and_sensibility_01_austen_64kb-0930",
    "q3": "sense_and_sensibility_01_austen_64kb-0880",
}
TTS_RATE = 22050


def read_clip(speech_dir: Path, stem: str) -> tuple[bytes, int, str]:
    folder = speech_dir / "pocketsphinx_librivox"
    with wave.open(str(folder / f"{stem}.wav"), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm, rate = w.readframes(w.getnframes()), w.getframerate()
    return pcm, rate, (folder / f"{stem}.txt").read_text().strip()


def timed_words(text: str, duration_s: float) -> tuple[Word, ...]:
    """Spread the reference words over the clip (the store keeps whatever timings it is given)."""
    tokens = text.split()
    step = duration_s / len(tokens)
    return tuple(Word(t, round(i * step, 3), round((i + 0.8) * step, 3)) for i, t in enumerate(tokens))


def tone(seconds: float, rate: int = TTS_RATE) -> bytes:
    n = int(seconds * rate)
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(n))


class ScriptedVoiceChannel:
    """Speaks with a tone and answers with real recordings, streaming 20 ms frames from a thread."""

    def __init__(self, speech_dir: Path, stop_after: str | None = None):
        self.speech_dir = speech_dir
        self.stop_after = stop_after
        self.recorder = None
        self.sent_bytes: dict[str, int] = {}
        self.said: list[Utterance] = []

    async def open(self, session: SessionInfo, recorder) -> None:
        self.recorder = recorder

    async def say(self, utterance: Utterance) -> None:
        self.said.append(utterance)
        audio = tone(0.3)
        for start in range(0, len(audio), 4410):  # sentence-sized chunks, as a TTS stream would give
            self.recorder.interviewer_audio(utterance.turn_id, audio[start:start + 4410], TTS_RATE)

    def _stream(self, turn_id: str, pcm: bytes, rate: int) -> None:
        frame = rate // 50 * 2
        for start in range(0, len(pcm), frame):
            self.recorder.candidate_audio(turn_id, pcm[start:start + frame], rate)
        self.sent_bytes[turn_id] = len(pcm)

    async def listen(self, request: ListenRequest) -> Reply:
        pcm, rate, text = read_clip(self.speech_dir, CLIPS[request.turn_id])
        duration = len(pcm) / 2 / rate
        await asyncio.to_thread(self._stream, request.turn_id, pcm, rate)
        words = timed_words(text, duration)
        segments = tuple(Segment(" ".join(w.text for w in words[i:i + 6]), words[i].start_s,
                                 words[min(i + 5, len(words) - 1)].end_s, words[i:i + 6])
                         for i in range(0, len(words), 6))
        for seg in segments:
            self.recorder.segment_committed(request.turn_id, seg)
        action = ReplyAction.STOPPED if request.turn_id == self.stop_after else ReplyAction.ANSWERED
        return Reply(action, Transcript(text, words, segments, duration, 0.0), "done")

    async def thinking(self) -> None:
        pass

    async def show_feedback(self, question, feedback) -> None:
        pass

    async def reveal(self, question) -> None:
        pass

    async def close(self, report) -> None:
        pass


class PhraseGrader:
    """Covers a key point when one of its phrasings appears: enough to drive follow-ups and reports."""

    name = "phrase"

    def coverage(self, question, answers):
        text = " ".join(a.text for a in answers).lower()
        return tuple(KeyPointResult(k.id, k.statement, k.weight, any(p in text for p in k.phrasings),
                                    1.0 if any(p in text for p in k.phrasings) else 0.0)
                     for k in question.key_points)

    async def grade(self, question, answers):
        kps = self.coverage(question, answers)
        content = sum(k.weight for k in kps if k.covered) / sum(k.weight for k in kps)
        words = sum(len(a.text.split()) for a in answers)
        return Feedback(question.id, content, round(content * 100, 1), kps, Delivery(words),
                        tuple(k.statement for k in kps if not k.covered) or ("Keep it up.",))


def run_interview(store: SessionStore, speech_dir: Path, session_id: str = "", stop_after: str | None = None):
    bank = parse_bank(BANK_YAML, "test.yaml")
    settings = InterviewSettings(role="test-role", question_ids=("family-duty", "amiable-wife"), max_follow_ups=1)
    channel = ScriptedVoiceChannel(speech_dir, stop_after)
    interview = Interview(bank, settings, channel, RubricInterviewer(), PhraseGrader(), store.recorder(),
                          session_id=session_id)
    report = asyncio.run(interview.run())
    return interview, channel, report


@pytest.fixture
def make_store(store_url: str | None):
    """``make_store(data_dir)`` opens a store on the backend under test; all are closed afterwards."""
    stores: list[SessionStore] = []

    def make(data_dir: Path) -> SessionStore:
        stores.append(SessionStore(data_dir, url=store_url))
        return stores[-1]

    yield make
    for store in stores:
        store.close()


def test_schema_is_current_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    with SessionStore(tmp_path) as store:
        assert schema_version(store.database) == SCHEMA_VERSION
        conn = sqlite3.connect(store.db_path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"sessions", "turns", "answers", "segments", "feedback", "utterances", "schema_migrations"} <= tables
        assert store.database.rows("PRAGMA foreign_keys")[0]["foreign_keys"] == 1


def test_migrates_a_version_1_file_keeping_its_sessions(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "sessions.db")
    conn.executescript(SQLITE.ddl(MIGRATIONS[0]) + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO sessions (id, role, status, started_at) VALUES ('0123456789abcdef', 'r', "
                 "'completed', 1.0)")
    conn.commit()
    conn.close()
    with SessionStore(tmp_path) as store:
        assert [s["id"] for s in store.list()] == ["0123456789abcdef"]
        assert schema_version(store.database) == SCHEMA_VERSION
        assert store.timeline("0123456789abcdef") == []


def test_refuses_a_file_from_a_newer_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "sessions.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this program"):
        SessionStore(tmp_path)


def test_records_a_scripted_voice_interview(tmp_path: Path, speech_dir: Path, make_store) -> None:
    store = make_store(tmp_path / "data")
    interview, channel, report = run_interview(store, speech_dir)
    doc = store.get(interview.session_id)
    assert doc["status"] == "completed" and doc["report"]["session_id"] == interview.session_id
    order = [(i["speaker"], i["turn_id"]) for i in doc["timeline"]]
    assert order == [("interviewer", "q1"), ("candidate", "q1"), ("interviewer", "q1f1"), ("candidate", "q1f1"),
                     ("interviewer", "q2"), ("candidate", "q2"), ("interviewer", "q2f1"), ("candidate", "q2f1")]
    answers = [i for i in doc["timeline"] if i["speaker"] == "candidate"]
    for item in answers:
        path = store.audio_path(interview.session_id, item["name"])
        with wave.open(str(path), "rb") as w:
            assert w.getframerate() == 16000
            stored_s = w.getnframes() / 16000
        assert abs(stored_s - channel.sent_bytes[item["turn_id"]] / 2 / 16000) <= 0.02
        assert abs(item["duration_s"] - stored_s) <= 0.02
        assert item["words"] and item["words"][0]["start_s"] == 0.0
        assert " ".join(s["text"] for s in item["segments"]) == item["text"]
        assert item["finished"] and item["end_reason"] == "done" and item["cut_short"] is None
    assert not list((store.sessions_dir / interview.session_id).glob("*.pcm"))
    utterance = next(i for i in doc["timeline"] if i["speaker"] == "interviewer")
    with wave.open(str(store.audio_path(interview.session_id, utterance["name"])), "rb") as w:
        assert w.getframerate() == TTS_RATE and abs(w.getnframes() / TTS_RATE - 0.3) < 0.001
    kinds = [(i["turn_id"], i["kind"]) for i in doc["timeline"] if i["speaker"] == "interviewer"]
    assert kinds == [("q1", "question"), ("q1f1", "follow_up"), ("q2", "question"), ("q2f1", "follow_up")]
    first = doc["questions"][0]
    assert first["turns"] == ["q1", "q1f1"] and first["feedback"]["overall"] == 100.0
    assert doc["history"]["family-duty"][0]["session_id"] == interview.session_id
    assert store.records.count_segments(interview.session_id) == sum(len(i["segments"]) for i in answers)


class RetryingVoiceChannel(ScriptedVoiceChannel):
    """Reviews each question: asks for the first one again once, then goes on."""

    def __init__(self, speech_dir: Path):
        super().__init__(speech_dir)
        self.notes: list = []
        self.choices = ["retry"]

    async def listen(self, request: ListenRequest) -> Reply:
        # A second attempt speaks the clip of the first attempt's follow-up: a different answer.
        if request.turn_id not in CLIPS:
            CLIPS[request.turn_id] = CLIPS["q1f1" if request.turn_id == "q1r2" else "q1"]
        return await super().listen(request)

    async def show_feedback(self, question, feedback, note=None) -> None:
        self.notes.append(note)

    async def review(self, request):
        from voice_interviewer.review import ReviewChoice

        return ReviewChoice(self.choices.pop(0) if self.choices else "next")


def test_every_attempt_is_stored_with_its_answers_audio_and_grade(tmp_path: Path, speech_dir: Path,
                                                                  make_store, monkeypatch) -> None:
    monkeypatch.setattr(f"{__name__}.CLIPS", dict(CLIPS))  # the channel adds the retry's turns
    store = make_store(tmp_path)
    bank = parse_bank(BANK_YAML, "test.yaml")
    settings = InterviewSettings(role="test-role", question_ids=("family-duty",), max_follow_ups=1, review=True)
    channel = RetryingVoiceChannel(speech_dir)
    interview = Interview(bank, settings, channel, RubricInterviewer(), PhraseGrader(), store.recorder())
    report = asyncio.run(interview.run())
    sid = interview.session_id
    doc = store.get(sid)

    candidate = [i["turn_id"] for i in doc["timeline"] if i["speaker"] == "candidate"]
    assert candidate[0] == "q1" and "q1r2" in candidate
    assert all(t.startswith(("q1f", "q1r2")) for t in candidate[1:]), candidate
    for turn in candidate:  # every attempt's answers keep their own recording
        with wave.open(str(store.audio_path(sid, turn)), "rb") as w:
            assert w.getnframes() > 0
    attempts = doc["questions"][0]["attempts"]
    assert [(a["attempt"], a["turn_id"]) for a in attempts] == [(1, "q1"), (2, "q1r2")]
    scores = [n.comparison for n in channel.notes if n is not None and n.comparison is not None]
    assert [a["overall"] for a in attempts] == [scores[0].previous_score, scores[0].score]
    assert attempts[1]["feedback"]["overall"] == doc["questions"][0]["feedback"]["overall"]  # the last counts
    assert report.questions[0]["attempts"] == [a["overall"] for a in attempts]
    assert doc["history"]["family-duty"] == [{"session_id": sid, "started_at": doc["started_at"],
                                               "score": attempts[1]["overall"]}]

    store.delete(sid)
    assert store.database.rows("SELECT COUNT(*) AS n FROM attempts WHERE session_id = ?", (sid,))[0]["n"] == 0


def test_history_spans_sessions(tmp_path: Path, speech_dir: Path, make_store) -> None:
    store = make_store(tmp_path)
    first, _, _ = run_interview(store, speech_dir, session_id="aaaaaaaaaaaa0001")
    second, _, _ = run_interview(store, speech_dir, session_id="aaaaaaaaaaaa0002", stop_after="q1f1")
    listed = store.list()
    assert [s["id"] for s in listed][:2] == [second.session_id, first.session_id]
    assert listed[0]["status"] == "stopped"
    history = store.get(second.session_id)["history"]
    assert [h["session_id"] for h in history["family-duty"]] == [first.session_id, second.session_id]
    assert "amiable-wife" not in history  # not asked in the stopped session


def test_duplicate_session_id_is_refused(tmp_path: Path, speech_dir: Path, make_store) -> None:
    store = make_store(tmp_path)
    run_interview(store, speech_dir, session_id="bbbbbbbbbbbb0001")
    with pytest.raises(StoreError, match="already stored"):
        run_interview(store, speech_dir, session_id="bbbbbbbbbbbb0001")


def test_a_live_recording_is_not_taken_for_a_crash(tmp_path: Path, make_store) -> None:
    store = make_store(tmp_path)
    recorder = store.recorder()
    recorder.session_started(SessionInfo("cccccccccccc0001", "r", "R", ()))
    recorder.candidate_audio("q1", b"\0\0" * 1600, 16000)
    other = make_store(tmp_path)  # a second process opening the same data directory
    assert other.recovered == [] and other.get("cccccccccccc0001")["status"] == "running"
    with pytest.raises(StoreError, match="being recorded"):
        other.delete("cccccccccccc0001")
    recorder.session_finished(None, "stopped")
    assert other.get("cccccccccccc0001")["status"] == "stopped"


def test_crashed_session_is_marked_interrupted_and_rebuilt(tmp_path: Path, make_store) -> None:
    """The state a killed process leaves: a running row, committed segments, a raw file, no lock holder."""
    store = make_store(tmp_path)
    sid = "dddddddddddd0001"
    records = store.records
    records.add_session(sid, role="r", role_title="", interviewer="rubric", started_at=1.0, settings={},
                        questions=[{"id": "q-a", "round": "x", "text": "Q?", "strong_answer": "S"}],
                        recorded_in=store.recorded_in)
    records.add_turn(sid, "q1", question_id="q-a", kind="question", text="Q?", ord_=1)
    records.add_answer(sid, "q1", question_id=None, ord_=2)
    records.set_answer_audio(sid, "q1", "q1.pcm")
    for n, text in enumerate(["first part", "second part"]):
        records.add_segment(sid, "q1", Segment(text, n * 1.0, n * 1.0 + 0.9, (
            Word(text.split()[0], n, n + 0.4), Word(text.split()[1], n + 0.5, n + 0.9))))
    (store.sessions_dir / sid).mkdir()
    (store.sessions_dir / sid / "q1.pcm").write_bytes(b"\1\0" * 16000 * 2)
    store.close()

    reopened = make_store(tmp_path)
    assert reopened.recovered == [sid]
    doc = reopened.get(sid)
    assert doc["status"] == "interrupted"
    answer = doc["timeline"][0]
    assert answer["text"] == "first part second part" and len(answer["words"]) == 4
    assert answer["end_reason"] == "interrupted" and answer["duration_s"] == 2.0
    assert answer["cut_short"] == "cut short: the recording stopped"  # playback shows it in these words
    with wave.open(str(reopened.audio_path(sid, "q1")), "rb") as w:
        assert w.getnframes() == 32000
    assert make_store(tmp_path).recovered == []  # recovery happens once


def test_delete_removes_rows_and_files(tmp_path: Path, speech_dir: Path, make_store) -> None:
    store = make_store(tmp_path)
    interview, _, _ = run_interview(store, speech_dir)
    sid = interview.session_id
    assert (store.sessions_dir / sid).is_dir()
    store.delete(sid)
    assert not (store.sessions_dir / sid).exists()
    for table in ("sessions", "turns", "answers", "segments", "feedback", "utterances"):
        column = "id" if table == "sessions" else "session_id"
        assert store.database.rows(f"SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?", (sid,))[0]["n"] == 0
    with pytest.raises(SessionNotFoundError, match="no session"):
        store.get(sid)


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", "0" * 33, "ABCDEF0123456789", "ééééééééé", "abc",
                                 "0123456789abcdef\n", "..", "/etc/passwd", None, 12345678])
def test_malformed_ids_are_rejected_everywhere(tmp_path: Path, bad: object, make_store) -> None:
    store = make_store(tmp_path)
    with pytest.raises(SessionNotFoundError, match="not a session id"):
        validate_session_id(bad)
    for call in (store.get, store.delete, store.timeline, lambda s: store.audio_path(s, "q1")):
        with pytest.raises(SessionNotFoundError):
            call(bad)
    on_sqlite = store.database.dialect.name == "sqlite"
    sqlite_files = ["sessions.db", "sessions.db-shm", "sessions.db-wal"] if on_sqlite else []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sessions", *sqlite_files]


@pytest.mark.parametrize("name", ["../q1", "q1.wav", "u1", "x", "q1/../../u001", ""])
def test_malformed_audio_names_are_rejected(tmp_path: Path, speech_dir: Path, name: str,
                                           make_store) -> None:
    store = make_store(tmp_path)
    interview, _, _ = run_interview(store, speech_dir)
    with pytest.raises(SessionNotFoundError, match="no recording named"):
        store.audio_path(interview.session_id, name)


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voice_interviewer.store import default_data_dir

    monkeypatch.delenv("VOICE_INTERVIEWER_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "voice-interviewer"
    monkeypatch.setenv("VOICE_INTERVIEWER_DATA", str(tmp_path / "explicit"))
    assert default_data_dir() == tmp_path / "explicit"


def test_recorder_factory_checks_the_id_up_front(tmp_path: Path, speech_dir: Path, make_store) -> None:
    store = make_store(tmp_path)
    with pytest.raises(SessionNotFoundError, match="not a session id"):
        store.recorder("../../x")
    rec = store.recorder("ffff0000ffff0000")
    with pytest.raises(StoreError, match="made for session ffff0000ffff0000"):
        rec.session_started(SessionInfo("ffff0000ffff0001", "r", "R", ()))
    rec.session_started(SessionInfo("ffff0000ffff0000", "r", "R", ()))
    rec.session_finished(None, "completed")
    with pytest.raises(StoreError, match="already stored"):
        store.recorder("ffff0000ffff0000")


def test_new_folders_are_private(tmp_path: Path, make_store) -> None:
    store = make_store(tmp_path / "fresh")
    assert (store.data_dir.stat().st_mode & 0o777) == 0o700
    rec = store.recorder()
    rec.session_started(SessionInfo("abab0000abab0000", "r", "R", ()))
    assert ((store.sessions_dir / "abab0000abab0000").stat().st_mode & 0o077) == 0
    rec.session_finished(None, "stopped")


def test_recorder_is_safe_across_threads(tmp_path: Path, make_store) -> None:
    """Audio threads append while the event loop commits segments: nothing is lost or interleaved badly."""
    import threading

    store = make_store(tmp_path)
    rec = store.recorder()
    rec.session_started(SessionInfo("1234abcd1234abcd", "r", "R", ()))
    rec.utterance(Utterance("Question one?", UtteranceKind.QUESTION, "qa", "q1"))
    frames = 500

    def candidate(turn: str, value: int) -> None:
        for _ in range(frames):
            rec.candidate_audio(turn, struct.pack("<h", value) * 320, 16000)

    def interviewer() -> None:
        for _ in range(frames):
            rec.interviewer_audio("q1", b"\1\0" * 441, TTS_RATE)

    threads = [threading.Thread(target=candidate, args=("q1", 7)), threading.Thread(target=candidate, args=("q2", 9)),
               threading.Thread(target=interviewer)]
    for t in threads:
        t.start()
    for n in range(50):
        rec.segment_committed("q1", Segment(f"s{n}", n, n + 0.5))
    for t in threads:
        t.join()
    rec.session_finished(None, "completed")
    for turn, value in (("q1", 7), ("q2", 9)):
        with wave.open(str(store.audio_path("1234abcd1234abcd", turn)), "rb") as w:
            data = w.readframes(w.getnframes())
        assert data == struct.pack("<h", value) * 320 * frames
    with wave.open(str(store.audio_path("1234abcd1234abcd", "u001")), "rb") as w:
        assert w.getnframes() == 441 * frames
    doc = store.get("1234abcd1234abcd")
    q1 = next(i for i in doc["timeline"] if i["name"] == "q1")
    # The flow never delivered q1's final transcript: it is rebuilt from the committed segments.
    assert q1["text"] == " ".join(f"s{n}" for n in range(50)) and q1["end_reason"] == "unfinished"
    assert abs(q1["duration_s"] - frames * 0.02) < 1e-9
    assert store.records.count_segments("1234abcd1234abcd") == 50


# -- the database layer on both backends ------------------------------------------------------------


def test_every_table_exists_at_the_current_version(tmp_path: Path, make_store) -> None:
    store = make_store(tmp_path)
    assert schema_version(store.database) == SCHEMA_VERSION
    versions = [r["version"] for r in store.database.rows("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    for table in ("sessions", "turns", "answers", "segments", "feedback", "utterances", "attempts"):
        assert store.database.rows(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0


def test_refuses_a_database_from_a_newer_version(tmp_path: Path, store_url: str | None) -> None:
    with SessionStore(tmp_path, url=store_url) as store:
        store.database.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                               (SCHEMA_VERSION + 1, 1.0))
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this program"):
        SessionStore(tmp_path, url=store_url)


def test_a_new_sqlite_file_opened_by_several_at_once_always_opens(tmp_path: Path) -> None:
    """Switching a new file to WAL needs an exclusive lock, and SQLite can answer "locked" at once
    without waiting (seen about once in a hundred four-way races); every opener must still succeed."""
    import threading

    from voice_interviewer.store.sqlite_db import SqliteDatabase

    errors: list[BaseException] = []

    def open_one(path: Path) -> None:
        try:
            SqliteDatabase(path, busy_timeout_s=5.0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for n in range(150):
        threads = [threading.Thread(target=open_one, args=(tmp_path / f"race{n}.db",)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_servers_starting_together_migrate_once(tmp_path: Path, store_url: str | None) -> None:
    """Several processes opening one new database at once: each migration runs exactly once."""
    import threading

    opened: list[SessionStore] = []
    errors: list[BaseException] = []

    def open_one(n: int) -> None:
        try:
            opened.append(SessionStore(tmp_path / f"server{n}" if store_url else tmp_path, url=store_url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and len(opened) == 4
        rows = opened[0].database.rows("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
    finally:
        for store in opened:
            store.close()


def test_times_and_scores_keep_full_precision(tmp_path: Path, make_store) -> None:
    """Epoch seconds and word timings come back exactly as stored (a single-precision column would not)."""
    store = make_store(tmp_path)
    rec = store.recorder()
    rec.session_started(SessionInfo("0f0f0f0f0f0f0f0f", "r", "R", ()))
    segment = Segment("precise words", 1234.567891, 1235.987654, (Word("precise", 1234.568, 1235.125),))
    rec.segment_committed("q1", segment)
    rec.session_finished(None, "stopped")
    started = store.get("0f0f0f0f0f0f0f0f")["started_at"]
    assert isinstance(started, float) and abs(started - time.time()) < 60
    assert store.records.segments("0f0f0f0f0f0f0f0f", "q1") == [segment]


def test_feedback_graded_again_replaces_the_first_grade(tmp_path: Path, make_store) -> None:
    store = make_store(tmp_path)
    sid = "0e0e0e0e0e0e0e0e"
    store.records.add_session(sid, role="r", role_title="R", interviewer="rubric", started_at=1.0, settings={},
                              questions=[], recorded_in=store.recorded_in)
    store.records.put_feedback(sid, "q-a", 40.0, {"overall": 40.0})
    store.records.put_feedback(sid, "q-a", 80.0, {"overall": 80.0})
    assert store.records.feedback(sid) == {"q-a": {"overall": 80.0}}
    assert store.list()[0]["overall"] == 80.0


@pytest.mark.parametrize("url, expected", [
    ("mysql://user:hunter2@db.example/interviews", "'mysql://user:\\*\\*\\*@db.example/interviews' is not supported"),
    ("sqlite:///tmp/sessions.db", "is not supported: expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"),
    ("localhost/interviews", "leave both unset to keep sessions in SQLite"),
])
def test_a_bad_store_url_says_what_is_expected(tmp_path: Path, url: str, expected: str) -> None:
    from voice_interviewer.errors import ConfigError

    with pytest.raises(ConfigError, match=expected) as info:
        SessionStore(tmp_path, url=url)
    assert "hunter2" not in str(info.value)


def test_the_store_url_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voice_interviewer.errors import ConfigError
    from voice_interviewer.store import ENV_STORE

    monkeypatch.setenv(ENV_STORE, "redis://cache/0")
    with pytest.raises(ConfigError, match="VOICE_INTERVIEWER_STORE"):
        SessionStore(tmp_path)


def test_an_unreachable_postgresql_server_is_named_in_the_error(tmp_path: Path, postgres_server) -> None:
    url = f"postgresql://someone:hunter2@/interviews?host={tmp_path}&port=1"
    with pytest.raises(StoreError, match="cannot connect to the session database .*No such file") as info:
        SessionStore(tmp_path, url=url)
    assert "hunter2" not in str(info.value)


def test_sessions_recorded_by_another_server_are_not_taken_for_crashes(tmp_path: Path, postgres_server) -> None:
    """Two servers, one database, each with its own audio folder: neither can see the other's recording
    lock, so neither may mark the other's live session interrupted."""
    url = postgres_server.new_database()
    with SessionStore(tmp_path / "server-a", url=url) as a:
        rec = a.recorder()
        rec.session_started(SessionInfo("0a0a0a0a0a0a0a0a", "r", "R", ()))
        with SessionStore(tmp_path / "server-b", url=url) as b:
            assert b.recovered == [] and b.get("0a0a0a0a0a0a0a0a")["status"] == "running"
        rec.session_finished(None, "completed")
        assert a.get("0a0a0a0a0a0a0a0a")["status"] == "completed"


def test_dialects_spell_parameters_and_types_their_own_way() -> None:
    from voice_interviewer.store.dialect import POSTGRESQL, TYPE_NAMES

    query = "SELECT name FROM utterances WHERE session_id = ? AND audio_file LIKE '%.pcm' AND text = '?'"
    assert SQLITE.sql(query) == query
    assert POSTGRESQL.sql(query) == ("SELECT name FROM utterances WHERE session_id = %s AND audio_file LIKE "
                                     "'%%.pcm' AND text = '?'")
    assert set(SQLITE.types) == set(POSTGRESQL.types) == set(TYPE_NAMES)
    assert POSTGRESQL.ddl("x {float}, y {timestamp}") == "x DOUBLE PRECISION, y DOUBLE PRECISION"
    assert SQLITE.insert("t", ("a", "b"), key=("a",), replace=("b",)) == (
        "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b")


def test_a_queued_recorder_stores_everything_in_order_before_it_finishes(tmp_path: Path, make_store,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """The server's recorder: calls return at once, run in order on one thread, and the session is on
    record when ``session_finished`` returns; a failing call is logged and the rest still run."""
    from voice_interviewer.recording import QueuedRecorder

    store = make_store(tmp_path)
    rec = QueuedRecorder(store.recorder(), name="test-recorder")
    rec.session_started(SessionInfo("0d0d0d0d0d0d0d0d", "r", "R", ()))
    rec.utterance(Utterance("Question one?", UtteranceKind.QUESTION, "qa", "q1"))
    rec.candidate_audio("bad turn", b"\0\0", 16000)  # refused by the store: logged, not raised
    for n in range(20):
        rec.candidate_audio("q1", struct.pack("<h", n) * 160, 16000)
        rec.segment_committed("q1", Segment(f"s{n}", n, n + 0.5))
    rec.session_finished(None, "completed")
    assert "recording candidate_audio failed" in caplog.text and "q1 or q1f1" in caplog.text
    doc = store.get("0d0d0d0d0d0d0d0d")
    assert doc["status"] == "completed"
    answer = next(i for i in doc["timeline"] if i["speaker"] == "candidate")
    assert answer["text"] == " ".join(f"s{n}" for n in range(20))
    with wave.open(str(store.audio_path("0d0d0d0d0d0d0d0d", "q1")), "rb") as w:
        assert w.readframes(w.getnframes()) == b"".join(struct.pack("<h", n) * 160 for n in range(20))
    rec.feedback(None, None)  # after the end: dropped, never run


def test_a_busy_postgresql_pool_fails_with_a_store_error(tmp_path: Path, postgres_server) -> None:
    """With every pooled connection held, a statement waits ``connect_timeout_s`` and then says so."""
    from voice_interviewer.store import StoreOptions

    options = StoreOptions(pool_max_size=1, connect_timeout_s=1.0)
    with SessionStore(tmp_path, options, url=postgres_server.new_database()) as store:
        with store.database.transaction() as tx:  # holds the pool's only connection
            tx.execute("SELECT 1")
            started = time.monotonic()
            with pytest.raises(StoreError, match="raise StoreOptions.pool_max_size"):
                store.list()
            assert 0.9 <= time.monotonic() - started < 5
        assert store.list() == []  # given back: the pool serves again
