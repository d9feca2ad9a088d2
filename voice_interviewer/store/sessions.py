"""``SessionStore``: the SQLite file, the audio directory beside it, and every query on them."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import SessionNotFoundError, StoreError
from ..transcript import Segment, Word
from .audio import pcm_duration_s, pcm_to_wav, wav_duration_s
from .locks import SessionLock
from .paths import TURN_ID_PATTERN, inside, resolve_data_dir, validate_audio_name, validate_session_id
from .recorder import StoreRecorder, finalise_pcm
from .schema import connect

DB_NAME = "sessions.db"
SESSIONS_DIR = "sessions"


@dataclass(frozen=True)
class StoreOptions:
    """How the store writes.

    Attributes:
        flush_interval_s: Longest time audio bytes stay in the process's buffer; a crash
            loses at most this much of the recording.
        busy_timeout_s: How long a writer waits for another process's transaction.
        candidate_sample_rate: Rate of the candidate's raw audio files (frames at other
            rates are resampled).
    """

    flush_interval_s: float = 0.5
    busy_timeout_s: float = 5.0
    candidate_sample_rate: int = 16000


class SessionStore:
    """Sessions on disk: ``<data>/sessions.db`` and ``<data>/sessions/<id>/`` for audio.

    Opening the store marks sessions whose recording process died as ``interrupted``
    and rebuilds their unfinished answers from the committed segments.
    """

    def __init__(self, data_dir: str | Path | None = None, options: StoreOptions = StoreOptions()):
        self.options = options
        self.data_dir = resolve_data_dir(data_dir)
        self.sessions_dir = self.data_dir / SESSIONS_DIR
        self.sessions_dir.mkdir(exist_ok=True)
        self.db_path = self.data_dir / DB_NAME
        self._lock = threading.RLock()
        self._conn = connect(self.db_path, options.busy_timeout_s)
        self.recovered: list[str] = self.recover_interrupted()

    # -- plumbing shared with the recorder --------------------------------------------------

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params))
            except sqlite3.Error as exc:
                raise StoreError(f"session database {str(self.db_path)!r} failed: {exc}") from None

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._execute(sql, params).fetchall()

    def _exists(self, session_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM sessions WHERE id = ?", (session_id,)))

    def _session_dir(self, session_id: str) -> Path:
        return inside(self.sessions_dir, validate_session_id(session_id))

    def _require(self, session_id: object) -> sqlite3.Row:
        sid = validate_session_id(session_id)
        rows = self._rows("SELECT * FROM sessions WHERE id = ?", (sid,))
        if not rows:
            raise SessionNotFoundError(f"no session {sid} in {self.data_dir}; "
                                       f"run 'voice-interviewer sessions list' to see the stored sessions")
        return rows[0]

    def _finalise_audio(self, session_id: str) -> None:
        """Give every raw recording of the session its WAV (the raw file is then removed)."""
        directory = self._session_dir(session_id)
        for row in self._rows("SELECT turn_id, audio_file FROM answers WHERE session_id = ? AND audio_file LIKE"
                              " '%.pcm'", (session_id,)):
            name = finalise_pcm(directory, row["turn_id"], self.options.candidate_sample_rate)
            self._execute("UPDATE answers SET audio_file = ? WHERE session_id = ? AND turn_id = ?",
                          (name, session_id, row["turn_id"]))
        for row in self._rows("SELECT name, sample_rate FROM utterances WHERE session_id = ? AND audio_file LIKE"
                              " '%.pcm'", (session_id,)):
            name = finalise_pcm(directory, row["name"], row["sample_rate"])
            self._execute("UPDATE utterances SET audio_file = ? WHERE session_id = ? AND name = ?",
                          (name, session_id, row["name"]))

    # -- recording ----------------------------------------------------------------------------

    def recorder(self, session_id: str | None = None) -> StoreRecorder:
        """A recorder for one new session.

        Its id comes from ``session_started``; pass ``session_id`` to have it checked now
        (so ``store.recorder`` can serve directly as a per-session recorder factory).
        """
        if session_id is not None:
            session_id = validate_session_id(session_id)
            if self._exists(session_id):
                raise StoreError(f"session {session_id} is already stored; a new session needs a new id")
        return StoreRecorder(self, session_id)

    def recover_interrupted(self) -> list[str]:
        """Mark sessions left ``running`` by a dead process as ``interrupted``; returns their ids."""
        recovered = []
        for row in self._rows("SELECT id FROM sessions WHERE status = 'running'"):
            sid = row["id"]
            directory = self._session_dir(sid)
            directory.mkdir(parents=True, exist_ok=True)
            lock = SessionLock(directory)
            if not lock.acquire():
                continue  # another live process is recording it
            try:
                still = self._rows("SELECT status FROM sessions WHERE id = ?", (sid,))
                if not still or still[0]["status"] != "running":
                    continue  # its recorder finished between our query and our lock
                self._rebuild_unfinished(sid, directory)
                self._finalise_audio(sid)
                ended = max((p.stat().st_mtime for p in directory.iterdir()), default=time.time())
                self._execute("UPDATE sessions SET status = 'interrupted', ended_at = ? WHERE id = ? AND"
                              " status = 'running'", (ended, sid))
                recovered.append(sid)
            finally:
                lock.release()
        return recovered

    def _rebuild_unfinished(self, sid: str, directory: Path, reason: str = "interrupted") -> None:
        """Answers that never got their final transcript get one from their committed segments."""
        for row in self._rows("SELECT turn_id, audio_file FROM answers WHERE session_id = ? AND finished = 0",
                              (sid,)):
            segments = self._segments(sid, row["turn_id"])
            words = [w for s in segments for w in s.words]
            duration = None
            if row["audio_file"]:
                duration = pcm_duration_s(directory / row["audio_file"], self.options.candidate_sample_rate)
            self._execute(
                "UPDATE answers SET transcript = ?, words_json = ?, segments_json = ?, end_reason = ?,"
                " action = ?, duration_s = ? WHERE session_id = ? AND turn_id = ?",
                (" ".join(s.text.strip() for s in segments if s.text.strip()),
                 json.dumps([w.to_dict() for w in words]), json.dumps([s.to_dict() for s in segments]),
                 reason, reason, duration, sid, row["turn_id"]))

    def _segments(self, sid: str, turn_id: str) -> list[Segment]:
        return [Segment(r["text"], r["start_s"], r["end_s"],
                        tuple(Word.from_dict(w) for w in json.loads(r["words_json"])))
                for r in self._rows("SELECT * FROM segments WHERE session_id = ? AND turn_id = ? ORDER BY id",
                                    (sid, turn_id))]

    # -- queries ------------------------------------------------------------------------------

    def list(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Stored sessions, newest first, with their overall score when graded."""
        sql = ("SELECT s.*, (SELECT COUNT(*) FROM answers a WHERE a.session_id = s.id) AS answers,"
               " (SELECT COUNT(*) FROM feedback f WHERE f.session_id = s.id) AS graded,"
               " (SELECT ROUND(AVG(f.overall), 1) FROM feedback f WHERE f.session_id = s.id) AS overall"
               " FROM sessions s ORDER BY started_at DESC")
        rows = self._rows(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ())
        out = []
        for r in rows:
            out.append({"id": r["id"], "role": r["role"], "role_title": r["role_title"],
                        "interviewer": r["interviewer"], "status": r["status"], "started_at": r["started_at"],
                        "ended_at": r["ended_at"], "answers": r["answers"], "graded": r["graded"],
                        "overall": r["overall"]})
        return out

    def get(self, session_id: str, history: bool = True) -> dict[str, Any]:
        """The whole session as plain data: details, questions with feedback, and the timeline."""
        row = self._require(session_id)
        sid = row["id"]
        feedback = {r["question_id"]: json.loads(r["feedback_json"])
                    for r in self._rows("SELECT * FROM feedback WHERE session_id = ?", (sid,))}
        questions = []
        for q in json.loads(row["questions_json"]):
            turns = [r["turn_id"] for r in self._rows(
                "SELECT turn_id FROM turns WHERE session_id = ? AND question_id = ? ORDER BY ord", (sid, q["id"]))]
            questions.append({**q, "turns": turns, "feedback": feedback.get(q["id"]), "asked": bool(turns)})
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
        directory = self._session_dir(sid)
        items: list[tuple[int, dict[str, Any]]] = []
        for r in self._rows("SELECT * FROM utterances WHERE session_id = ?", (sid,)):
            duration = None
            if r["audio_file"]:
                path = directory / r["audio_file"]
                duration = wav_duration_s(path) if path.suffix == ".wav" else pcm_duration_s(path, r["sample_rate"])
            items.append((r["ord"], {
                "speaker": "interviewer", "name": r["name"], "turn_id": r["turn_id"],
                "question_id": r["question_id"], "kind": r["kind"], "text": r["text"],
                "audio": f"{r['name']}.wav" if r["audio_file"] else None, "duration_s": duration}))
        for r in self._rows("SELECT a.*, t.kind AS turn_kind FROM answers a LEFT JOIN turns t ON"
                            " t.session_id = a.session_id AND t.turn_id = a.turn_id WHERE a.session_id = ?", (sid,)):
            question_id = r["question_id"] or self._question_of_turn(sid, r["turn_id"])
            items.append((r["ord"], {
                "speaker": "candidate", "name": r["turn_id"], "turn_id": r["turn_id"], "question_id": question_id,
                "kind": r["turn_kind"] or ("follow_up" if "f" in r["turn_id"] else "question"),
                "action": r["action"], "text": r["transcript"], "words": json.loads(r["words_json"]),
                "segments": json.loads(r["segments_json"]), "end_reason": r["end_reason"],
                "finished": bool(r["finished"]), "audio": f"{r['turn_id']}.wav" if r["audio_file"] else None,
                "duration_s": r["duration_s"]}))
        return [item for _, item in sorted(items, key=lambda x: x[0])]

    def _question_of_turn(self, sid: str, turn_id: str) -> str | None:
        rows = self._rows("SELECT question_id FROM turns WHERE session_id = ? AND turn_id = ?", (sid, turn_id))
        return rows[0]["question_id"] if rows else None

    def question_history(self, question_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """For each question, its score in every stored session, oldest first."""
        out: dict[str, list[dict[str, Any]]] = {}
        for qid in dict.fromkeys(question_ids):
            out[qid] = [{"session_id": r["session_id"], "started_at": r["started_at"], "score": r["overall"]}
                        for r in self._rows(
                            "SELECT f.session_id, f.overall, s.started_at FROM feedback f JOIN sessions s"
                            " ON s.id = f.session_id WHERE f.question_id = ? ORDER BY s.started_at", (qid,))]
        return out

    def audio_path(self, session_id: str, name: str) -> Path:
        """The WAV of one candidate turn or interviewer utterance, made from the raw file if needed."""
        sid = self._require(session_id)["id"]
        name = validate_audio_name(name)
        if TURN_ID_PATTERN.fullmatch(name):
            rows = self._rows("SELECT audio_file, NULL AS sample_rate FROM answers WHERE session_id = ? AND"
                              " turn_id = ?", (sid, name))
            rate = self.options.candidate_sample_rate
        else:
            rows = self._rows("SELECT audio_file, sample_rate FROM utterances WHERE session_id = ? AND name = ?",
                              (sid, name))
            rate = rows[0]["sample_rate"] if rows else None
        if not rows or not rows[0]["audio_file"]:
            raise SessionNotFoundError(f"session {sid} has no audio for {name!r}; the timeline lists what it has")
        directory = self._session_dir(sid)
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
        sid = self._require(session_id)["id"]
        directory = self._session_dir(sid)
        if directory.exists():
            lock = SessionLock(directory)
            if not lock.acquire():
                raise StoreError(f"session {sid} is being recorded right now; stop it, then delete it")
            lock.release()
        self._execute("DELETE FROM sessions WHERE id = ?", (sid,))
        shutil.rmtree(directory, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "SessionStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
