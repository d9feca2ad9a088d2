"""A private PostgreSQL server from Debian's package, for running the store's tests on PostgreSQL.

The server lives in a temporary folder: ``initdb`` makes a cluster there, and
``pg_ctl`` starts it listening only on a unix socket in that folder (no TCP port, so
it can never clash with another server), with durability switched off because the
data is thrown away. PostgreSQL refuses to run as root, so when the tests run as
root the folder is given to the ``postgres`` user (which Debian's package creates)
and every server command runs as that user through ``runuser``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import UNIT_S

SETUP_HINT = "run `bash scripts/setup.sh --test` (it installs the postgresql package and psycopg, as CI does)"
PORT = 5439  # names the socket file only: the server listens on no TCP port
# pg_ctl hands these to the server through a shell, hence the quoted empty address list.
SERVER_OPTIONS = ("-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                  " -c max_connections=200")


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl``."""
    candidates = [d for d in Path("/usr/lib/postgresql").glob("*/bin")
                  if (d / "initdb").is_file() and (d / "pg_ctl").is_file()]
    return max(candidates, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0, default=None)


def missing_requirement() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    if find_bin_dir() is None:
        return f"PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; {SETUP_HINT}"
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        return f"psycopg or psycopg-pool is not installed ({exc}); {SETUP_HINT}"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return f"running as root but there is no 'postgres' user to run the server as; {SETUP_HINT}"
    return None


@dataclass
class PostgresServer:
    """A running private server; :meth:`new_database` gives each test an empty database."""

    bin_dir: Path
    root: Path
    as_postgres: bool
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def run(self, *cmd: str, timeout_s: float = 60 * UNIT_S) -> subprocess.CompletedProcess:
        """Run a server binary (as ``postgres`` when we are root); raise with its output if it fails."""
        argv = [str(self.bin_dir / cmd[0]), *cmd[1:]]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, cwd=self.root)
        if proc.returncode != 0:
            log = (self.root / "server.log").read_text() if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")
        return proc

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={PORT}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        name = f"vi_test_{next(self._names)}"
        self.run("createdb", "-h", str(self.socket_dir), "-p", str(PORT), "-U", "postgres", name)
        return self.url(name)

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb a cluster in a new temporary folder and start a server on it; raise with its log if it fails."""
    bin_dir = find_bin_dir()
    assert bin_dir is not None, SETUP_HINT
    # Not under pytest's tmp folder: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="vi-postgres-"))
    (root / "socket").mkdir()
    as_postgres = os.geteuid() == 0
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(root / "socket", "postgres", "postgres")
    server = PostgresServer(bin_dir, root, as_postgres)
    try:
        server.run("initdb", "-D", str(server.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--no-instructions")
        options = f"-k {server.socket_dir} -p {PORT} {SERVER_OPTIONS}"
        server.run("pg_ctl", "-D", str(server.data_dir), "-l", str(root / "server.log"), "-w",
                   "-t", str(int(60 * UNIT_S)), "-o", options, "start")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server
