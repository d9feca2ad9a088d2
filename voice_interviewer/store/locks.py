"""Which sessions are still being recorded: an advisory lock held by the recording process.

A session row says ``running`` until the recorder finishes it. If the process
died, the row still says ``running``, but the operating system has released the
process's lock, so the store can tell a crashed session from one another process
(the server, a desktop practice) is recording right now.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: fall back to the recorded process id
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".recording.lock"


class SessionLock:
    """Held for as long as a recorder writes into the session directory."""

    def __init__(self, directory: Path):
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False if a live process holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
        else:
            owner = os.read(fd, 32).decode(errors="ignore").strip()
            if owner.isdigit() and int(owner) != os.getpid() and _pid_alive(int(owner)):
                os.close(fd)
                return False
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        self.path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
