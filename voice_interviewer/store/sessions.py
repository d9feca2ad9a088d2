"""``SessionStore``: the session database, the audio folder beside it, and what they hold together.

The database (a SQLite file in the data folder, or PostgreSQL by URL) holds the rows;
every query on it lives in :mod:`.records`. This module joins rows and audio files:
it recovers sessions whose recording process died, turns raw audio into WAV, and
hands out whole sessions as plain data for reports, the CLI and the HTTP API.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..end_reason import EndReason
from ..errors import SessionNotFoundError, StoreError
from ..transcript import Transcript
from .audio import pcm_duration_s, pcm_to_wav, wav_duration_s
from .database import Database, Row, open_database, store_url
from .locks import SessionLock
from .paths import (
    TURN_ID_PATTERN,
    inside,
    resolve_audio_dir,
    resolve_data_dir,
    validate_audio_name,
    validate_session_id,
)
from .recorder import StoreRecorder, finalise_pcm
from .records import Records
from .schema import migrate

DB_NAME = "sessions.db"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreOptions:
    """How the store writes.

    Attributes:
        flush_interval_s: Longest time audio bytes stay in the process's buffer; a crash
            loses at most this much of the recording.
        busy_timeout_s: How long a SQLite writer waits for another process's transaction.
        candidate_sample_rate: Rate of the candidate's raw audio files (frames at other
            rates are resampled).
        pool_max_size: Most connections one process holds to a PostgreSQL store. Each
            recording session and each API request borrows one per statement, for
            milliseconds, so a server's ``max_sessions`` (8) share a few; a call that finds
            none free within ``connect_timeout_s`` fails with a StoreError.
        connect_timeout_s: How long to wait for a PostgreSQL server before giving up.
    """

    flush_interval_s: float = 0.5
    busy_timeout_s: float = 5.0
    candidate_sample_rate: int = 16000
    pool_max_size: int = 4
    connect_timeout_s: float = 10.0


@dataclass(frozen=True)
class Continuation:
    """What a server needs to go on with an interrupted session: its choices and what was done.

    Attributes:
        row: The session's row (role, settings, questions as stored when it started).
        asked: Ids of the questions whose main turn was recorded; they are not asked again.
        answers: For each asked question, the texts of its answers (main turn and follow-ups).
        feedback: The stored grade of each graded question, as ``Feedback.to_dict()``.
    """

    row: Row
    asked: tuple[str, ...]
    answers: dict[str, list[str]]
    feedback: dict[str, Any]


class SessionStore:
    """Sessions: rows in the session database, audio in ``<audio dir>/<id>/`` (``<data>/sessions`` by default).

    Opening the store migrates the database, then marks sessions whose recording
    process died as ``interrupted`` and rebuilds their unfinished answers from the
    committed segments.

    Args:
        data_dir: The data folder (the SQLite file when no URL is given, and audio by default).
        options: How the store writes.
        url: ``postgresql://…`` to keep the rows in PostgreSQL; None means
            ``$VOICE_INTERVIEWER_STORE``, and when that is unset too, SQLite in ``data_dir``.
        audio_dir: The folder of session audio folders; None means ``$VOICE_INTERVIEWER_AUDIO_DIR``,
            else ``<data_dir>/sessions``. Servers sharing a store share this folder too.
    """

    def __init__(self, data_dir: str | Path | None = None, options: StoreOptions = StoreOptions(),
                 url: str | None = None, audio_dir: str | Path | None = None):
        self.options = options
        self.data_dir = resolve_data_dir(data_dir)
        self.sessions_dir = resolve_audio_dir(audio_dir, self.data_dir)
        # The lease of the serving process, when it holds one (see :mod:`.lease`): sessions it
        # records name it as their owner, so other servers can take them over if it dies.
        self.owner: str | None = None
        self.db_path = self.data_dir / DB_NAME
        self.database: Database = open_database(
            store_url(url), self.db_path, busy_timeout_s=options.busy_timeout_s,
            pool_max_size=options.pool_max_size, connect_timeout_s=options.connect_timeout_s)
        try:
            migrate(self.database)
        except BaseException:
            self.database.close()
            raise
        self.records = Records(self.database)
        # Recovery may only judge sessions whose recording lock it can see: those recorded into
        # this very folder on this host (see migration 3).
        self.recorded_in = f"{socket.gethostname()}:{self.data_dir}"
        self.recovered: list[str] = self.recover_interrupted()

    @property
    def location(self) -> str:
        """Where the rows are (a file path or a URL without its password), for messages."""
        return self.database.location

    # -- sessions and their folders -------------------------------------------------------------

    def session_dir(self, session_id: str) -> Path:
        """The folder holding a session's audio (not created here)."""
        return inside(self.sessions_dir, validate_session_id(session_id))

    def exists(self, session_id: str) -> bool:
        return self.records.exists(validate_session_id(session_id))

    def _require(self, session_id: object) -> Row:
        sid = validate_session_id(session_id)
        row = self.records.session(sid)
        if row is None:
            raise SessionNotFoundError(f"no session {sid} in {self.location}; "
                                       f"run 'voice-interviewer sessions list' to see the stored sessions")
        return row

    def finalise_audio(self, session_id: str) -> None:
        """Give every raw recording of the session its WAV (the raw file is then removed)."""
        directory = self.session_dir(session_id)
        for row in self.records.raw_audio(session_id):
            candidate = row["speaker"] == "candidate"
            rate = self.options.candidate_sample_rate if candidate else row["sample_rate"]
            name = finalise_pcm(directory, row["name"], rate)
            if candidate:
                self.records.set_answer_audio(session_id, row["name"], name)
            else:
                self.records.set_utterance_audio(session_id, row["name"], name)

    def rebuild_unfinished(self, session_id: str, reason: str = "interrupted") -> None:
        """Answers that never got their final transcript get one from their committed segments."""
        directory = self.session_dir(session_id)
        for row in self.records.unfinished_answers(session_id):
            segments = tuple(self.records.segments(session_id, row["turn_id"]))
            words = tuple(w for s in segments for w in s.words)
            text = " ".join(s.text.strip() for s in segments if s.text.strip())
            duration = None
            if row["audio_file"]:
                duration = pcm_duration_s(directory / row["audio_file"], self.options.candidate_sample_rate)
            self.records.finish_answer(session_id, row["turn_id"], question_id=None, action=reason,
                                       transcript=Transcript(text, words, segments), end_reason=reason,
                                       duration_s=duration, finished=False)

    # -- recording ----------------------------------------------------------------------------

    def recorder(self, session_id: str | None = None, continuing: bool = False) -> StoreRecorder:
        """A recorder for one new session, or with ``continuing`` for one reopened by :meth:`continue_session`.

        Its id comes from ``session_started``; pass ``session_id`` to have it checked now
        (so ``store.recorder`` can serve directly as a per-session recorder factory).
        """
        if continuing:
            return StoreRecorder(self, validate_session_id(session_id), continuing=True)
        if session_id is not None:
            session_id = validate_session_id(session_id)
            if self.records.exists(session_id):
                raise StoreError(f"session {session_id} is already stored; a new session needs a new id")
        return StoreRecorder(self, session_id)

    def continue_session(self, session_id: str) -> Continuation:
        """Claim an interrupted session for this process and say what remains of it.

        The session is running again (owned by this process's lease) when this returns, so
        a second server asked to continue it at the same moment gets a StoreError.

        Raises:
            SessionNotFoundError: no such session.
            StoreError: the session is not interrupted (running elsewhere, or ended); the
                message says which.
        """
        row = self._require(session_id)
        sid = row["id"]
        if not self.records.reopen_session(sid, owner=self.owner, recorded_in=self.recorded_in):
            status = (self.records.session(sid) or row)["status"]
            why = ("it is running on a live server; reconnect to that server instead" if status == "running"
                   else f"it has ended ({status}); start a new session")
            raise StoreError(f"session {sid} cannot be continued: {why}")
        answers: dict[str, list[str]] = {}
        for r in self.records.answers(sid):
            qid = r["question_id"] or self.records.question_of_turn(sid, r["turn_id"])
            if qid and r["transcript"].strip():
                answers.setdefault(qid, []).append(r["transcript"])
        asked = tuple(q["id"] for q in json.loads(row["questions_json"])
                      if self.records.turns_of_question(sid, q["id"]))
        return Continuation(row, asked, answers, self.records.feedback(sid))

    def take_over_orphans(self) -> list[str]:
        """Mark as interrupted the running sessions whose owner's lease ran out; returns their ids.

        Each is first claimed in one statement, so of several live servers exactly one
        rebuilds it: unfinished answers from their committed segments, raw audio to WAV
        (when the shared audio folder holds it), then ``interrupted``.
        """
        if self.owner is None:
            return []
        recovered = []
        for row in self.records.orphaned():
            sid = row["id"]
            directory = self.session_dir(sid)
            lock = SessionLock(directory) if directory.is_dir() else None
            if lock is not None and not lock.acquire():
                continue  # a process that can still write its audio holds it: not dead after all
            try:
                if not self.records.claim(sid, dead_owner=row["owner"], owner=self.owner):
                    continue  # another survivor took it first
                self.rebuild_unfinished(sid)
                ended = time.time()
                if lock is not None:
                    self.finalise_audio(sid)
                    ended = max((p.stat().st_mtime for p in directory.iterdir()), default=ended)
                else:
                    log.warning("session %s: no audio folder at %s; is --audio-dir the folder every server "
                                "shares?", sid, directory)
                if self.records.end_session(sid, "interrupted", ended, only_if_running=True):
                    recovered.append(sid)
            finally:
                if lock is not None:
                    lock.release()
        self.records.forget_dead_servers()
        return recovered

    def recover_interrupted(self) -> list[str]:
        """Mark sessions left ``running`` by a dead process as ``interrupted``; returns their ids."""
        recovered = []
        for sid in self.records.running(self.recorded_in):
            directory = self.session_dir(sid)
            directory.mkdir(parents=True, exist_ok=True)
            lock = SessionLock(directory)
            if not lock.acquire():
                continue  # another live process is recording it
            try:
                still = self.records.session(sid)
                if still is None or still["status"] != "running":
                    continue  # its recorder finished between our query and our lock
                self.rebuild_unfinished(sid)
                self.finalise_audio(sid)
                ended = max((p.stat().st_mtime for p in directory.iterdir()), default=time.time())
                if self.records.end_session(sid, "interrupted", ended, only_if_running=True):
                    recovered.append(sid)
            finally:
                lock.release()
        return recovered

    # -- queries ------------------------------------------------------------------------------

    def get(self, session_id: str, history: bool = True) -> dict[str, Any]:
        """The whole session as plain data: details, questions with feedback, and the timeline.

        Each question's ``feedback`` is the attempt that counts (the last graded one);
        ``attempts`` lists every graded attempt in order, with its turn and grade.
        """
        row = self._require(session_id)
        sid = row["id"]
        feedback = self.records.feedback(sid)
        attempts = self.records.attempts(sid)
        questions = []
        for q in json.loads(row["questions_json"]):
            turns = self.records.turns_of_question(sid, q["id"])
            questions.append({**q, "turns": turns, "feedback": feedback.get(q["id"]), "asked": bool(turns),
                              "attempts": attempts.get(q["id"], [])})
        doc = {
            "id": sid, "role": row["role"], "role_title": row["role_title"], "interviewer": row["interviewer"],
            "status": row["status"], "started_at": row["started_at"], "ended_at": row["ended_at"],
            "settings": json.loads(row["settings_json"]),
            "report": json.loads(row["report_json"]) if row["report_json"] else None,
            "questions": questions, "timeline": self.timeline(sid),
        }
        if history:
            doc["history"] = self.question_history([q["id"] for q in questions if q["asked"]])
        return doc

    def timeline(self, session_id: str) -> list[dict[str, Any]]:
        """Both voices in the order they happened: interviewer utterances and candidate answers."""
        sid = self._require(session_id)["id"]
        directory = self.session_dir(sid)
        items: list[tuple[int, dict[str, Any]]] = []
        for r in self.records.utterances(sid):
            duration = None
            if r["audio_file"]:
                path = directory / r["audio_file"]
                duration = wav_duration_s(path) if path.suffix == ".wav" else pcm_duration_s(path, r["sample_rate"])
            items.append((r["ord"], {
                "speaker": "interviewer", "name": r["name"], "turn_id": r["turn_id"],
                "question_id": r["question_id"], "kind": r["kind"], "text": r["text"],
                "audio": f"{r['name']}.wav" if r["audio_file"] else None, "duration_s": duration}))
        for r in self.records.answers(sid):
            question_id = r["question_id"] or self.records.question_of_turn(sid, r["turn_id"])
            items.append((r["ord"], {
                "speaker": "candidate", "name": r["turn_id"], "turn_id": r["turn_id"], "question_id": question_id,
                "kind": r["turn_kind"] or ("follow_up" if "f" in r["turn_id"] else "question"),
                "action": r["action"], "text": r["transcript"], "words": json.loads(r["words_json"]),
                "segments": json.loads(r["segments_json"]), "end_reason": r["end_reason"],
                "cut_short": _cut_short(r["end_reason"]),
                "finished": bool(r["finished"]), "audio": f"{r['turn_id']}.wav" if r["audio_file"] else None,
                "duration_s": r["duration_s"]}))
        return [item for _, item in sorted(items, key=lambda x: x[0])]

    def question_history(self, question_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """For each question, its score in every stored session, oldest first."""
        return {qid: [dict(r) for r in rows] for qid, rows in self.records.question_history(question_ids).items()}

    def progress(self, role: str | None = None) -> dict[str, Any]:
        """Progress across every stored session: see :func:`voice_interviewer.progress.summarise`."""
        from ..progress import Attempt, summarise

        attempts = []
        texts: dict[str, dict[str, str]] = {}
        for r in self.records.graded(role):
            if r["question_id"] not in texts:
                texts.update({q["id"]: {"text": q["text"], "round": q.get("round_title") or q["round"]}
                              for q in json.loads(r["questions_json"]) if q["id"] not in texts})
            attempts.append(Attempt(r["session_id"], r["role"], float(r["started_at"]), r["question_id"],
                                    float(r["overall"]), json.loads(r["feedback_json"])))
        return summarise(attempts, texts)

    def audio_path(self, session_id: str, name: str) -> Path:
        """The WAV of one candidate turn or interviewer utterance, made from the raw file if needed."""
        sid = self._require(session_id)["id"]
        name = validate_audio_name(name)
        candidate = bool(TURN_ID_PATTERN.fullmatch(name))
        row = self.records.audio_of(sid, name, candidate)
        if row is None or not row["audio_file"]:
            raise SessionNotFoundError(f"session {sid} has no audio for {name!r}; the timeline lists what it has")
        rate = self.options.candidate_sample_rate if candidate else row["sample_rate"]
        directory = self.session_dir(sid)
        wav = inside(directory, f"{name}.wav")
        pcm = inside(directory, f"{name}.pcm")
        if pcm.exists() and (not wav.exists() or wav.stat().st_mtime < pcm.stat().st_mtime):
            pcm_to_wav(pcm, wav, int(rate))
        if not wav.exists():
            raise SessionNotFoundError(f"the audio file for {name!r} of session {sid} is missing from {directory}")
        return wav

    def audio_files(self, session_id: str) -> list[Path]:
        """Every audio file of the session, in timeline order."""
        return [self.audio_path(session_id, item["name"]) for item in self.timeline(session_id) if item["audio"]]

    def delete(self, session_id: str) -> None:
        """Remove the session's rows and its audio directory."""
        row = self._require(session_id)
        sid = row["id"]
        if row["status"] == "running" and row.get("owner") and self.records.lease_alive(row["owner"]):
            raise StoreError(f"session {sid} is being recorded by a live server right now; stop it, then delete it")
        directory = self.session_dir(sid)
        if directory.exists():
            lock = SessionLock(directory)
            if not lock.acquire():
                raise StoreError(f"session {sid} is being recorded right now; stop it, then delete it")
            lock.release()
        self.records.delete(sid)
        shutil.rmtree(directory, ignore_errors=True)

    def list(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Stored sessions, newest first, with their overall score (one decimal) when graded."""
        out = []
        for r in self.records.summaries(limit):
            overall = r["overall"]
            out.append({"id": r["id"], "role": r["role"], "role_title": r["role_title"],
                        "interviewer": r["interviewer"], "status": r["status"], "started_at": r["started_at"],
                        "ended_at": r["ended_at"], "answers": r["answers"], "graded": r["graded"],
                        "overall": None if overall is None else round(float(overall), 1)})
        return out

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> "SessionStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cut_short(end_reason: str | None) -> str | None:
    """How playback labels an answer that did not end normally (worded once, in :mod:`end_reason`)."""
    reason = EndReason.parse(end_reason)
    return reason.cut_short if reason is not None else None
