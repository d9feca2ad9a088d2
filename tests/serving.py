"""Real ``voice-interviewer serve`` processes for tests: start one on a free port, wait until it is ready.

Each server runs in its own process, exactly as deployed, so a test can kill it with
SIGKILL and see what another process finds afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import UNIT_S


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(port: int, data_dir: Path, store_url: str | None, *extra: str) -> subprocess.Popen:
    """``voice-interviewer serve`` on ``port`` with the pyttsx3 voice; returns once it prints that it is ready."""
    return wait_ready(launch_serve(port, data_dir, store_url, *extra))


def start_serves(*servers: tuple) -> list[subprocess.Popen]:
    """Several servers, each given as :func:`start_serve`'s arguments, started side by side.

    Each start loads Whisper and the voice cold (seconds of one core); a test that needs two
    servers waits for the slower one, not for both in turn. If one fails, the others are stopped.
    """
    procs = [launch_serve(*args) for args in servers]
    try:
        return [wait_ready(proc) for proc in procs]
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        raise


def launch_serve(port: int, data_dir: Path, store_url: str | None, *extra: str) -> subprocess.Popen:
    """The serve process, not yet waited for (see :func:`wait_ready`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "voice_interviewer", "serve", "--port", str(port), "--data-dir", str(data_dir),
         "--voice-engine", "pyttsx3", *(["--store", store_url] if store_url else []), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_ready(proc: subprocess.Popen) -> subprocess.Popen:
    """``proc`` once it prints that it is ready; fails with what it printed if it exits or takes too long."""
    assert proc.stdout is not None
    deadline = time.monotonic() + 120 * UNIT_S
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"server exited early: {''.join(seen)}")
        seen.append(line)
        if "is ready" in line:
            return proc
    proc.kill()
    raise AssertionError(f"server not ready in time: {''.join(seen)}")
