"""The store's database layer: one small protocol, a SQLite and a PostgreSQL implementation.

Everything above this layer (the queries in :mod:`.records`, the migrations in
:mod:`.schema`) is written once; the implementations differ only in how they
connect, how a transaction is held, and the :class:`~.dialect.Dialect` they carry.

Which one is used is decided by a store URL: none (the default) is a SQLite file in
the data folder; ``postgresql://…`` is a PostgreSQL database that many interview
servers can share. The URL comes from ``--store`` or ``$VOICE_INTERVIEWER_STORE``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError
from .dialect import Dialect

ENV_STORE = "VOICE_INTERVIEWER_STORE"
POSTGRES_SCHEMES = ("postgresql", "postgres")
URL_FORM = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"

Row = dict[str, Any]


class Transaction(Protocol):
    """Statements that commit together, or not at all."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement written with ``?`` parameters; returns the number of rows it changed."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one query; its rows as dicts keyed by column name."""


class Database(Protocol):
    """A connection (or pool of them) to the session database; safe to use from any thread.

    Attributes:
        dialect: How this engine spells what differs (placeholders, types, locks).
        location: Where the data is, for messages; never contains a password.
    """

    dialect: Dialect
    location: str

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Statements in the ``with`` block commit at its end, or roll back if it raises."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in a transaction of its own."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One query; its rows as dicts keyed by column name."""

    def close(self) -> None:
        """Release every connection; the object is unusable afterwards."""


def store_url(flag: str | None = None) -> str | None:
    """The store URL to use: the ``--store`` flag, else ``$VOICE_INTERVIEWER_STORE``, else None (SQLite)."""
    if flag:
        return flag
    return os.environ.get(ENV_STORE) or None


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``, safe to print."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)
        user = (parts.username or "") + ":***"
        return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))
    except ValueError:
        return "<unreadable URL>"


def open_database(url: str | None, sqlite_path: Path, *, busy_timeout_s: float, pool_max_size: int,
                  connect_timeout_s: float) -> Database:
    """The database a store URL names; ``None`` is the SQLite file at ``sqlite_path``.

    Raises:
        ConfigError: the URL is not one this program can use; the message says what was
            wrong and what is expected.
        StoreError: the database cannot be reached or opened.
    """
    if url is None:
        from .sqlite_db import SqliteDatabase

        return SqliteDatabase(sqlite_path, busy_timeout_s)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in POSTGRES_SCHEMES:
        raise ConfigError(
            f"store URL {redact(url)!r} is not supported: expected {URL_FORM} (from --store or {ENV_STORE}); "
            f"leave both unset to keep sessions in SQLite in the data folder"
        )
    from .postgres_db import PostgresDatabase

    return PostgresDatabase(url, pool_max_size=pool_max_size, connect_timeout_s=connect_timeout_s)
