"""The SQLite schema, its version (``PRAGMA user_version``) and the ordered migrations.

Each migration moves the file from version ``n - 1`` to ``n`` inside one
transaction, so a file is never left half-migrated. Add migrations at the end;
never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, the questions' turns, answers, committed segments, feedback.
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        role_title TEXT NOT NULL DEFAULT '',
        interviewer TEXT NOT NULL DEFAULT 'rubric',
        status TEXT NOT NULL CHECK (status IN ('running','completed','stopped','failed','interrupted')),
        started_at REAL NOT NULL,
        ended_at REAL,
        settings_json TEXT NOT NULL DEFAULT '{}',
        questions_json TEXT NOT NULL DEFAULT '[]',
        report_json TEXT
    );
    CREATE TABLE turns (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        turn_id TEXT NOT NULL,
        question_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('question','follow_up')),
        interviewer_text TEXT NOT NULL,
        ord INTEGER NOT NULL,
        PRIMARY KEY (session_id, turn_id)
    );
    CREATE TABLE answers (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        turn_id TEXT NOT NULL,
        question_id TEXT,
        action TEXT,
        transcript TEXT NOT NULL DEFAULT '',
        words_json TEXT NOT NULL DEFAULT '[]',
        segments_json TEXT NOT NULL DEFAULT '[]',
        end_reason TEXT,
        audio_file TEXT,
        duration_s REAL,
        finished INTEGER NOT NULL DEFAULT 0,
        ord INTEGER NOT NULL,
        PRIMARY KEY (session_id, turn_id)
    );
    CREATE TABLE segments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        turn_id TEXT NOT NULL,
        text TEXT NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        words_json TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX segments_by_turn ON segments(session_id, turn_id, id);
    CREATE TABLE feedback (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        overall REAL,
        feedback_json TEXT NOT NULL,
        PRIMARY KEY (session_id, question_id)
    );
    """,
    # 2: every interviewer utterance with its own audio file; progress queries by question.
    """
    CREATE TABLE utterances (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        turn_id TEXT,
        question_id TEXT,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        audio_file TEXT,
        sample_rate INTEGER,
        ord INTEGER NOT NULL,
        PRIMARY KEY (session_id, name)
    );
    CREATE INDEX feedback_by_question ON feedback(question_id);
    CREATE INDEX sessions_by_start ON sessions(started_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def connect(db_path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """Open the database in WAL mode with foreign keys on, migrated to :data:`SCHEMA_VERSION`."""
    try:
        conn = sqlite3.connect(db_path, timeout=busy_timeout_s, check_same_thread=False,
                               isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, db_path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"cannot open the session database {str(db_path)!r}: {exc}; if the file is damaged, move it "
            f"aside (sessions in it will no longer be listed) or choose another --data-dir"
        ) from None
    return conn


def migrate(conn: sqlite3.Connection, db_path: Path, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations after the file's version, each in its own transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{str(db_path)!r} has schema version {version}, newer than this program's {SCHEMA_VERSION}; "
            f"upgrade voice-interviewer or use another --data-dir"
        )
    for number in range(version + 1, target + 1):
        statements = [s for s in MIGRATIONS[number - 1].split(";") if s.strip()]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return max(version, target)
