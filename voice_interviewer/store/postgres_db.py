"""The session database on a PostgreSQL server, shared by any number of interview servers.

psycopg 3 with a :class:`psycopg_pool.ConnectionPool`: each statement or transaction
borrows a connection and gives it back, so audio threads, the event loop's helper
threads and the HTTP API can all use the store at once. Connections are checked
before they are lent, so a restarted database server costs a reconnect, not an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import ConfigError, StoreError
from .database import URL_FORM, Row, redact
from .dialect import POSTGRESQL

INSTALL_HINT = "install them with: pip install 'voice-interviewer[postgres]'"


def _psycopg() -> Any:
    """Import psycopg late: only a PostgreSQL store needs it, and it is an optional extra."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401 - checked here so the error names both packages
    except ImportError as exc:
        raise ConfigError(f"a postgresql:// store needs the psycopg and psycopg-pool packages ({exc}); "
                          f"{INSTALL_HINT}") from None
    return psycopg


class PostgresTransaction:
    """Statements on one borrowed connection inside ``BEGIN … COMMIT``."""

    def __init__(self, db: "PostgresDatabase", conn: Any):
        self._db = db
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db._run(self._conn, sql, params).rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db._run(self._conn, sql, params).fetchall()


class PostgresDatabase:
    """A pool of connections to the database a ``postgresql://`` URL names."""

    dialect = POSTGRESQL

    def __init__(self, url: str, *, pool_max_size: int = 4, connect_timeout_s: float = 10.0):
        psycopg = _psycopg()
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.location = redact(url)
        self._error = psycopg.Error
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ConfigError(f"store URL {self.location!r} cannot be read: {self._reason(exc, url)}; "
                              f"expected {URL_FORM}") from None
        # One direct connection first: it fails with the server's own reason (wrong password,
        # no such database, nothing listening), which a pool would only report as a timeout.
        try:
            psycopg.connect(url, connect_timeout=max(1, int(connect_timeout_s))).close()
        except psycopg.Error as exc:
            reason = self._reason(exc, url)
            raise StoreError(f"cannot connect to the session database {self.location!r}: {reason}; "
                             f"check the server is running and the URL ({URL_FORM}) is right") from None
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max(1, pool_max_size), open=False, timeout=connect_timeout_s,
            kwargs={"autocommit": True, "row_factory": dict_row}, check=ConnectionPool.check_connection,
            name="voice-interviewer-store")
        self._pool.open(wait=True, timeout=connect_timeout_s)

    def _reason(self, exc: Exception, url: str) -> str:
        """The first line of a driver error, with the URL (and so any password) redacted."""
        text = str(exc).strip().replace(url, self.location)
        return text.splitlines()[0] if text else type(exc).__name__

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        try:
            return conn.execute(self.dialect.sql(sql), tuple(params))
        except self._error as exc:
            raise StoreError(f"session database {self.location!r} failed: {str(exc).strip()}") from None

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A connection borrowed from the pool; driver errors outside a statement (no connection free
        in time, a failed commit) become :class:`StoreError` like those of the statements."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except self._error as exc:
            raise StoreError(f"session database {self.location!r} failed: {str(exc).strip()}; "
                             f"if every connection was busy, raise StoreOptions.pool_max_size") from None

    @contextmanager
    def transaction(self) -> Iterator[PostgresTransaction]:
        with self._connection() as conn, conn.transaction():
            yield PostgresTransaction(self, conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._connection() as conn:
            return self._run(conn, sql, params).rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._connection() as conn:
            return self._run(conn, sql, params).fetchall()

    def close(self) -> None:
        self._pool.close()
