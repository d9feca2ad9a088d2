"""The session database as one SQLite file in WAL mode: the default, for one machine.

One connection is shared by every thread behind a re-entrant lock: the recorder
writes from audio threads and the event loop, and SQLite serialises writers anyway.
WAL lets other processes (``sessions list`` while a server records) read meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .database import Row
from .dialect import SQLITE


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row)}


class SqliteTransaction:
    """Statements on the shared connection while the database's lock is held."""

    def __init__(self, db: "SqliteDatabase"):
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db._run(sql, params).rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db._run(sql, params).fetchall()


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    """Put the file in WAL mode, waiting out other processes that open it at the same moment.

    Changing the journal mode of a new file needs an exclusive lock, and SQLite may answer
    "database is locked" at once instead of calling the busy handler, so servers starting
    together would fail at random; retry for as long as the busy timeout allows.
    """
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class SqliteDatabase:
    """A SQLite file opened in WAL mode with foreign keys on."""

    dialect = SQLITE

    def __init__(self, path: Path, busy_timeout_s: float):
        self.path = path
        self.location = str(path)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(path, timeout=busy_timeout_s, check_same_thread=False,
                                         isolation_level=None)
            self._conn.row_factory = _dict_row
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            _switch_to_wal(self._conn, busy_timeout_s)
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the session database {self.location!r}: {exc}; if the file is damaged, move it "
                f"aside (sessions in it will no longer be listed) or choose another --data-dir"
            ) from None

    def _run(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._conn.execute(self.dialect.sql(sql), tuple(params))
        except sqlite3.Error as exc:
            raise StoreError(f"session database {self.location!r} failed: {exc}") from None

    @contextmanager
    def transaction(self) -> Iterator[SqliteTransaction]:
        # IMMEDIATE takes the write lock up front: two processes cannot both read, then
        # both try to write and have one fail half-way.
        with self._lock:
            self._run("BEGIN IMMEDIATE", ())
            try:
                yield SqliteTransaction(self)
            except BaseException:
                self._conn.rollback()
                raise
            self._run("COMMIT", ())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._run(sql, params).rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return self._run(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
