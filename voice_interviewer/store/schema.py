"""The schema, its version, and the ordered migrations that build it on SQLite and PostgreSQL alike.

Each migration's SQL is written once; the column types that differ between the
engines are named in braces (``{float}``, ``{id}``) and filled in by the database's
:class:`~.dialect.Dialect`. Applied versions are rows of ``schema_migrations``, and
each migration runs in one transaction together with its row, so a database is never
left half-migrated and two servers starting at once migrate it once. Add migrations
at the end; never edit one that has shipped.
"""

from __future__ import annotations

import time

from ..errors import StoreError
from .database import Database, Transaction

MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, the questions' turns, answers, committed segments, feedback.
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        role_title TEXT NOT NULL DEFAULT '',
        interviewer TEXT NOT NULL DEFAULT 'rubric',
        status TEXT NOT NULL CHECK (status IN ('running','completed','stopped','failed','interrupted')),
        started_at {timestamp} NOT NULL,
        ended_at {timestamp},
        settings_json TEXT NOT NULL DEFAULT '{{}}',
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
        duration_s {float},
        finished INTEGER NOT NULL DEFAULT 0,
        ord INTEGER NOT NULL,
        PRIMARY KEY (session_id, turn_id)
    );
    CREATE TABLE segments (
        id {id},
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        turn_id TEXT NOT NULL,
        text TEXT NOT NULL,
        start_s {float} NOT NULL,
        end_s {float} NOT NULL,
        words_json TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX segments_by_turn ON segments(session_id, turn_id, id);
    CREATE TABLE feedback (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        overall {float},
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
    # 3: which recording process's audio folder a session lives in ("host:/data/folder"). With
    # many servers on one database, a server may only judge a running session to be crashed
    # when it can see that session's recording lock, i.e. in its own folder on its own host.
    """
    ALTER TABLE sessions ADD COLUMN recorded_in TEXT
    """,
    # 4: every graded attempt at a question (a candidate may answer a question again after its
    # feedback); ``feedback`` keeps one row per question, the attempt that counts.
    """
    CREATE TABLE attempts (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        turn_id TEXT NOT NULL,
        overall {float},
        feedback_json TEXT NOT NULL,
        PRIMARY KEY (session_id, question_id, attempt)
    )
    """,
    # 5: leases. Each serving process keeps a row in ``servers`` whose ``expires_at`` it pushes
    # forward every few seconds (on the database's clock), and names itself as the ``owner`` of
    # the sessions it records; any server may take over a running session whose owner's lease
    # ran out, so a dead server's sessions no longer wait for that server to come back.
    """
    CREATE TABLE servers (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at {timestamp} NOT NULL,
        expires_at {timestamp} NOT NULL
    );
    ALTER TABLE sessions ADD COLUMN owner TEXT;
    CREATE INDEX sessions_by_status ON sessions(status, owner)
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_MIGRATIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        applied_at {timestamp} NOT NULL
    )
"""


def _statements(sql: str) -> list[str]:
    return [s for s in sql.split(";") if s.strip()]


def _version(tx: Transaction) -> int:
    return tx.rows("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")[0]["v"]


def _prepare(db: Database, tx: Transaction) -> int:
    """Create the migrations table, adopting a version kept the old way; returns the current version."""
    if db.dialect.schema_lock:
        tx.execute(db.dialect.schema_lock)
    legacy = tx.rows(db.dialect.legacy_version)[0] if db.dialect.legacy_version else None
    tx.execute(db.dialect.ddl(_MIGRATIONS_TABLE))
    version = _version(tx)
    if version == 0 and legacy is not None:
        # A file from before the migrations table: its PRAGMA user_version says how far it got.
        old = int(next(iter(legacy.values())))
        for number in range(1, old + 1):
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (number, time.time()))
        version = old
    return version


def migrate(db: Database, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to ``target``, one migration per transaction; returns the version reached.

    Raises:
        StoreError: the database was written by a newer version of this program.
    """
    with db.transaction() as tx:
        version = _prepare(db, tx)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{db.location!r} has schema version {version}, newer than this program's {SCHEMA_VERSION}; "
            f"upgrade voice-interviewer or use another --data-dir or --store"
        )
    for number in range(version + 1, target + 1):
        with db.transaction() as tx:
            if db.dialect.schema_lock:
                tx.execute(db.dialect.schema_lock)
            if _version(tx) >= number:
                continue  # another process applied it while we waited for the lock
            for statement in _statements(db.dialect.ddl(MIGRATIONS[number - 1])):
                tx.execute(statement)
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (number, time.time()))
    return max(version, target)


def schema_version(db: Database) -> int:
    """The newest migration applied to ``db``."""
    return db.rows("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")[0]["v"]
