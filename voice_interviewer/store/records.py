"""Every query the store makes, named by what it does: the only module that writes SQL for sessions.

The recorder (writing a live session) and :class:`~.sessions.SessionStore` (reading,
recovering, deleting) both call these methods; neither touches the database
directly, so a query is written once and runs unchanged on SQLite and PostgreSQL.
JSON columns are encoded and decoded here too, so callers deal in plain values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..transcript import Segment, Transcript, Word
from .database import Database, Row

_SESSION_COLUMNS = ("id", "role", "role_title", "interviewer", "status", "started_at", "settings_json",
                    "questions_json", "recorded_in", "owner")


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


class Records:
    """Named reads and writes of sessions, turns, answers, segments, feedback and utterances."""

    def __init__(self, db: Database):
        self.db = db

    # -- sessions -------------------------------------------------------------------------

    def add_session(self, session_id: str, *, role: str, role_title: str, interviewer: str, started_at: float,
                    settings: Any, questions: list[dict[str, Any]], recorded_in: str,
                    owner: str | None = None) -> None:
        self.db.execute(self.db.dialect.insert("sessions", _SESSION_COLUMNS),
                        (session_id, role, role_title, interviewer, "running", started_at, _json(settings),
                         _json(questions), recorded_in, owner))

    def session(self, session_id: str) -> Row | None:
        rows = self.db.rows("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return rows[0] if rows else None

    def exists(self, session_id: str) -> bool:
        return bool(self.db.rows("SELECT 1 AS found FROM sessions WHERE id = ?", (session_id,)))

    def running(self, recorded_in: str) -> list[str]:
        """Sessions still marked running that were recorded in ``recorded_in`` (or before the column):
        the recording lock in their folder, visible on this host, tells whether the recorder lives."""
        return [r["id"] for r in self.db.rows(
            "SELECT id FROM sessions WHERE status = 'running' AND (recorded_in IS NULL OR recorded_in = ?)"
            " ORDER BY started_at", (recorded_in,))]

    def reopen_session(self, session_id: str, *, owner: str | None, recorded_in: str) -> bool:
        """An interrupted session becomes running again under ``owner``; False unless it was interrupted
        (one statement, so two servers asked to continue the same session cannot both win)."""
        return self.db.execute(
            "UPDATE sessions SET status = 'running', ended_at = NULL, report_json = NULL, owner = ?,"
            " recorded_in = ? WHERE id = ? AND status = 'interrupted'", (owner, recorded_in, session_id)) > 0

    def next_ord(self, session_id: str) -> int:
        """The highest position on the session's timeline so far (0 when empty)."""
        return self.db.rows(
            "SELECT MAX(o) AS o FROM (SELECT MAX(ord) AS o FROM answers WHERE session_id = ?"
            " UNION ALL SELECT MAX(ord) AS o FROM utterances WHERE session_id = ?) AS both_voices",
            (session_id, session_id))[0]["o"] or 0

    # -- leases ---------------------------------------------------------------------------

    def renew_lease(self, server_id: str, *, host: str, pid: int, lease_s: float) -> bool:
        """Push the server's lease ``lease_s`` past the database's now; False if the row had gone
        (the server had been judged dead), in which case it is written afresh."""
        if self.db.execute("UPDATE servers SET expires_at = {now} + ? WHERE id = ?", (lease_s, server_id)):
            return True
        self.db.execute("INSERT INTO servers (id, host, pid, started_at, expires_at)"
                        " VALUES (?, ?, ?, {now}, {now} + ?)", (server_id, host, pid, lease_s))
        return False

    def end_lease(self, server_id: str) -> None:
        self.db.execute("DELETE FROM servers WHERE id = ?", (server_id,))

    def lease_alive(self, server_id: str) -> bool:
        return bool(self.db.rows("SELECT 1 AS alive FROM servers WHERE id = ? AND expires_at >= {now}",
                                 (server_id,)))

    def orphaned(self) -> list[Row]:
        """Running sessions whose owner's lease ran out (or whose owner row is gone): ``id``, ``owner``."""
        return self.db.rows(
            "SELECT s.id, s.owner FROM sessions s LEFT JOIN servers v ON v.id = s.owner"
            " WHERE s.status = 'running' AND s.owner IS NOT NULL AND (v.id IS NULL OR v.expires_at < {now})"
            " ORDER BY s.started_at")

    def claim(self, session_id: str, *, dead_owner: str, owner: str) -> bool:
        """Take a running session from its dead owner; only one claimant can win."""
        return self.db.execute("UPDATE sessions SET owner = ? WHERE id = ? AND owner = ? AND status = 'running'",
                               (owner, session_id, dead_owner)) > 0

    def forget_dead_servers(self) -> None:
        """Lease rows that ran out and own no running session any more."""
        self.db.execute("DELETE FROM servers WHERE expires_at < {now} AND NOT EXISTS (SELECT 1 FROM sessions s"
                        " WHERE s.owner = servers.id AND s.status = 'running')")

    def end_session(self, session_id: str, status: str, ended_at: float, report: Any = None,
                    only_if_running: bool = False) -> bool:
        """Record how a session ended; with ``only_if_running`` a session already ended is left alone."""
        sql = "UPDATE sessions SET status = ?, ended_at = ?, report_json = ? WHERE id = ?"
        if only_if_running:
            sql += " AND status = 'running'"
        report_json = _json(report) if report is not None else None
        return self.db.execute(sql, (status, ended_at, report_json, session_id)) > 0

    def summaries(self, limit: int | None = None) -> list[Row]:
        """Sessions newest first, with how many answers and grades each has and the mean grade."""
        sql = ("SELECT s.id, s.role, s.role_title, s.interviewer, s.status, s.started_at, s.ended_at,"
               " (SELECT COUNT(*) FROM answers a WHERE a.session_id = s.id) AS answers,"
               " (SELECT COUNT(*) FROM feedback f WHERE f.session_id = s.id) AS graded,"
               " (SELECT AVG(f.overall) FROM feedback f WHERE f.session_id = s.id) AS overall"
               " FROM sessions s ORDER BY s.started_at DESC")
        return self.db.rows(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ())

    def delete(self, session_id: str) -> None:
        """The session's row; every other table follows it by ``ON DELETE CASCADE``."""
        self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- turns and utterances ---------------------------------------------------------------

    def add_utterance(self, session_id: str, name: str, *, turn_id: str | None, question_id: str | None,
                      kind: str, text: str, ord_: int) -> None:
        self.db.execute(self.db.dialect.insert(
            "utterances", ("session_id", "name", "turn_id", "question_id", "kind", "text", "ord")),
            (session_id, name, turn_id, question_id, kind, text, ord_))

    def add_turn(self, session_id: str, turn_id: str, *, question_id: str, kind: str, text: str,
                 ord_: int) -> None:
        """The interviewer's turn that an answer responds to; a repeated turn keeps its first record."""
        self.db.execute(self.db.dialect.insert(
            "turns", ("session_id", "turn_id", "question_id", "kind", "interviewer_text", "ord"),
            key=("session_id", "turn_id")), (session_id, turn_id, question_id, kind, text, ord_))

    def set_utterance_audio(self, session_id: str, name: str, audio_file: str | None,
                            sample_rate: int | None = None) -> None:
        self.db.execute("UPDATE utterances SET audio_file = ?, sample_rate = COALESCE(?, sample_rate)"
                        " WHERE session_id = ? AND name = ?", (audio_file, sample_rate, session_id, name))

    def utterances(self, session_id: str) -> list[Row]:
        return self.db.rows("SELECT * FROM utterances WHERE session_id = ? ORDER BY ord", (session_id,))

    def turns_of_question(self, session_id: str, question_id: str) -> list[str]:
        return [r["turn_id"] for r in self.db.rows(
            "SELECT turn_id FROM turns WHERE session_id = ? AND question_id = ? ORDER BY ord",
            (session_id, question_id))]

    def question_of_turn(self, session_id: str, turn_id: str) -> str | None:
        rows = self.db.rows("SELECT question_id FROM turns WHERE session_id = ? AND turn_id = ?",
                            (session_id, turn_id))
        return rows[0]["question_id"] if rows else None

    # -- answers and segments -----------------------------------------------------------------

    def add_answer(self, session_id: str, turn_id: str, *, question_id: str | None, ord_: int) -> None:
        """An answer row as soon as anything of it arrives; a second call for the turn changes nothing."""
        self.db.execute(self.db.dialect.insert("answers", ("session_id", "turn_id", "question_id", "ord"),
                                               key=("session_id", "turn_id")),
                        (session_id, turn_id, question_id, ord_))

    def set_answer_audio(self, session_id: str, turn_id: str, audio_file: str | None) -> None:
        self.db.execute("UPDATE answers SET audio_file = ? WHERE session_id = ? AND turn_id = ?",
                        (audio_file, session_id, turn_id))

    def add_segment(self, session_id: str, turn_id: str, segment: Segment) -> None:
        self.db.execute(self.db.dialect.insert(
            "segments", ("session_id", "turn_id", "text", "start_s", "end_s", "words_json")),
            (session_id, turn_id, segment.text, segment.start_s, segment.end_s,
             _json([w.to_dict() for w in segment.words])))

    def segments(self, session_id: str, turn_id: str) -> list[Segment]:
        """The committed segments of one answer, in the order they were committed."""
        return [Segment(r["text"], r["start_s"], r["end_s"],
                        tuple(Word.from_dict(w) for w in json.loads(r["words_json"])))
                for r in self.db.rows("SELECT * FROM segments WHERE session_id = ? AND turn_id = ? ORDER BY id",
                                      (session_id, turn_id))]

    def count_segments(self, session_id: str) -> int:
        return self.db.rows("SELECT COUNT(*) AS n FROM segments WHERE session_id = ?", (session_id,))[0]["n"]

    def finish_answer(self, session_id: str, turn_id: str, *, question_id: str | None, action: str,
                      transcript: Transcript, end_reason: str | None, duration_s: float | None,
                      audio_file: str | None = None, finished: bool = True) -> None:
        """The answer's final transcript; ``audio_file`` None keeps the file already recorded."""
        self.db.execute(
            "UPDATE answers SET question_id = COALESCE(?, question_id), action = ?, transcript = ?,"
            " words_json = ?, segments_json = ?, end_reason = ?, duration_s = ?, finished = ?,"
            " audio_file = COALESCE(?, audio_file) WHERE session_id = ? AND turn_id = ?",
            (question_id, action, transcript.text, _json([w.to_dict() for w in transcript.words]),
             _json([s.to_dict() for s in transcript.segments]), end_reason, duration_s, int(finished),
             audio_file, session_id, turn_id))

    def unfinished_answers(self, session_id: str) -> list[Row]:
        return self.db.rows("SELECT turn_id, audio_file FROM answers WHERE session_id = ? AND finished = 0"
                            " ORDER BY ord", (session_id,))

    def answers(self, session_id: str) -> list[Row]:
        """Answers with the kind of turn they respond to (None when the turn was never recorded)."""
        return self.db.rows("SELECT a.*, t.kind AS turn_kind FROM answers a LEFT JOIN turns t ON"
                            " t.session_id = a.session_id AND t.turn_id = a.turn_id WHERE a.session_id = ?"
                            " ORDER BY a.ord", (session_id,))

    def raw_audio(self, session_id: str) -> list[Row]:
        """Recordings still in raw form: ``name``, ``speaker`` and ``sample_rate`` (None: the candidate's rate)."""
        return self.db.rows(
            "SELECT turn_id AS name, 'candidate' AS speaker, NULL AS sample_rate FROM answers"
            " WHERE session_id = ? AND audio_file LIKE '%.pcm'", (session_id,)) + self.db.rows(
            "SELECT name, 'interviewer' AS speaker, sample_rate FROM utterances"
            " WHERE session_id = ? AND audio_file LIKE '%.pcm'", (session_id,))

    def audio_of(self, session_id: str, name: str, candidate: bool) -> Row | None:
        """``audio_file`` and ``sample_rate`` of a candidate turn or an interviewer utterance."""
        if candidate:
            rows = self.db.rows("SELECT audio_file FROM answers WHERE session_id = ? AND turn_id = ?",
                                (session_id, name))
            return {**rows[0], "sample_rate": None} if rows else None
        rows = self.db.rows("SELECT audio_file, sample_rate FROM utterances WHERE session_id = ? AND name = ?",
                            (session_id, name))
        return rows[0] if rows else None

    # -- feedback -------------------------------------------------------------------------------

    def put_feedback(self, session_id: str, question_id: str, overall: float | None, feedback: Any) -> None:
        """A question's grade; grading it again replaces the earlier one."""
        self.db.execute(self.db.dialect.insert(
            "feedback", ("session_id", "question_id", "overall", "feedback_json"),
            key=("session_id", "question_id"), replace=("overall", "feedback_json")),
            (session_id, question_id, overall, _json(feedback)))

    def feedback(self, session_id: str) -> dict[str, Any]:
        return {r["question_id"]: json.loads(r["feedback_json"])
                for r in self.db.rows("SELECT question_id, feedback_json FROM feedback WHERE session_id = ?",
                                      (session_id,))}

    def graded(self, role: str | None = None) -> list[Row]:
        """Every grade of every session (of one role), oldest session first, with the session's questions."""
        sql = ("SELECT f.session_id, s.role, s.started_at, f.question_id, f.overall, f.feedback_json,"
               " s.questions_json FROM feedback f JOIN sessions s ON s.id = f.session_id")
        if role is not None:
            return self.db.rows(sql + " WHERE s.role = ? ORDER BY s.started_at, f.session_id", (role,))
        return self.db.rows(sql + " ORDER BY s.started_at, f.session_id")
    def add_attempt(self, session_id: str, question_id: str, attempt: int, *, turn_id: str,
                    overall: float | None, feedback: Any) -> None:
        """One graded attempt at a question; every attempt keeps its own row (``feedback`` holds the latest)."""
        self.db.execute(self.db.dialect.insert(
            "attempts", ("session_id", "question_id", "attempt", "turn_id", "overall", "feedback_json"),
            key=("session_id", "question_id", "attempt"), replace=("turn_id", "overall", "feedback_json")),
            (session_id, question_id, attempt, turn_id, overall, _json(feedback)))

    def attempts(self, session_id: str) -> dict[str, list[dict[str, Any]]]:
        """Each question's graded attempts in order: ``attempt``, ``turn_id``, ``overall``, ``feedback``."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.db.rows("SELECT question_id, attempt, turn_id, overall, feedback_json FROM attempts"
                              " WHERE session_id = ? ORDER BY question_id, attempt", (session_id,)):
            out.setdefault(r["question_id"], []).append(
                {"attempt": r["attempt"], "turn_id": r["turn_id"], "overall": r["overall"],
                 "feedback": json.loads(r["feedback_json"])})
        return out

    def question_history(self, question_ids: Iterable[str]) -> dict[str, list[Row]]:
        """For each question, its grade in every stored session, oldest first."""
        return {qid: self.db.rows(
            "SELECT f.session_id, s.started_at, f.overall AS score FROM feedback f JOIN sessions s"
            " ON s.id = f.session_id WHERE f.question_id = ? ORDER BY s.started_at", (qid,))
            for qid in dict.fromkeys(question_ids)}
