"""pyttsx3 (espeak-ng, SAPI5, NSSpeech) kept in its own process so its run loop cannot hang the server.

pyttsx3's ``runAndWait`` is known to never return in some states (reusing an engine
after an error, a second call on some drivers, an engine created before a fork),
and ``save_to_file`` sometimes writes nothing. So the engine lives in one worker
process (a fresh interpreter); every request has a timeout, and a worker that
times out, dies or writes no audio is replaced and the request retried once.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ...errors import AudioError, ConfigError, ModelUnavailableError
from ...wav import read_wav
from ..pcm import downmix_pcm16, resample_pcm16

log = logging.getLogger(__name__)

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
PYTTSX3_FIX = "pip install pyttsx3" + ("; apt-get install espeak-ng" if sys.platform.startswith("linux") else "")

PROBE_TEXT = "Ready."


class Pyttsx3Engine:
    """A pyttsx3 voice behind a restartable worker process.

    Args:
        voice: A voice id or name (case-insensitive; a unique substring of a name works), None = default.
        rate_wpm: Speaking rate in words per minute, None = the driver's default.
        request_timeout_s: Time allowed per request before the worker is declared stuck,
            plus ``timeout_per_char_s`` for each character of text.
        start_timeout_s: Time allowed for the worker to start and load the driver.
    """

    name = "pyttsx3"

    def __init__(self, voice: str | None = None, rate_wpm: int | None = None, *,
                 request_timeout_s: float = 10.0, timeout_per_char_s: float = 0.02,
                 start_timeout_s: float = 30.0):
        self.voice_id = voice or "default"
        self.rate_wpm = rate_wpm
        self.request_timeout_s = request_timeout_s
        self.timeout_per_char_s = timeout_per_char_s
        self.start_timeout_s = start_timeout_s
        self.restarts = 0
        self._voice = voice
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._tmpdir = Path(tempfile.mkdtemp(prefix="vi-tts-"))
        self._seq = 0
        try:
            self._start()
            pcm, self.sample_rate = self._request(PROBE_TEXT)
        except Exception:
            self.close()
            raise
        if not pcm:
            self.close()
            raise ModelUnavailableError("pyttsx3 produced no audio for a probe sentence; "
                                        "check that espeak-ng works: espeak-ng 'hello'")

    @property
    def worker_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def synthesize_pcm(self, text: str) -> bytes:
        pcm, rate = self._request(text)
        if rate != self.sample_rate:
            pcm = resample_pcm16(pcm, rate, self.sample_rate)
        return pcm

    def close(self) -> None:
        with self._lock:
            self._stop()
        shutil.rmtree(self._tmpdir, ignore_errors=True)

    def _request(self, text: str) -> tuple[bytes, int]:
        timeout_s = self.request_timeout_s + self.timeout_per_char_s * len(text)
        with self._lock:
            problem = ""
            for attempt in range(2):
                if self._proc is None or self._proc.poll() is not None:
                    self._restart(problem or "the worker was not running")
                self._seq += 1
                self._tmpdir.mkdir(parents=True, exist_ok=True)  # temp cleaners may have removed it
                path = self._tmpdir / f"u{self._seq}.wav"
                try:
                    self._send({"text": text, "path": str(path)})
                    reply = self._receive(timeout_s)
                    if reply is None:
                        problem = f"no answer within {timeout_s:.1f} s (pyttsx3 run loop stuck)"
                    elif reply.get("status") == "ok":
                        try:
                            pcm, rate, channels = read_wav(path)
                            return downmix_pcm16(pcm, channels), rate
                        finally:
                            path.unlink(missing_ok=True)
                    else:
                        problem = f"the worker failed: {reply.get('detail')}"
                except (EOFError, OSError) as exc:
                    problem = f"the worker died ({type(exc).__name__})"
                path.unlink(missing_ok=True)
                log.warning("pyttsx3 request %d failed, restarting the worker: %s", attempt + 1, problem)
                self._stop()
            raise AudioError(f"pyttsx3 could not synthesise {text[:60]!r} after a restart: {problem}")

    def _restart(self, reason: str) -> None:
        self._stop()
        self.restarts += 1
        log.info("starting a new pyttsx3 worker (%s)", reason)
        self._start()

    def _start(self) -> None:
        # A fresh interpreter (not fork: an engine inherited over fork hangs; not multiprocessing
        # spawn: it re-runs the caller's __main__, which breaks unguarded scripts).
        args = {"voice": self._voice, "rate_wpm": self.rate_wpm}
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PACKAGE_ROOT,
                                                                       os.environ.get("PYTHONPATH")])))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__, json.dumps(args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, text=True, encoding="utf-8", bufsize=1)
        self._replies = queue.Queue()
        threading.Thread(target=_read_lines, args=(self._proc.stdout, self._replies),
                         name="pyttsx3-worker-reader", daemon=True).start()
        reply = self._receive(self.start_timeout_s)
        status, detail = (reply or {}).get("status"), (reply or {}).get("detail", "")
        if status == "ready":
            return
        self._stop()
        if reply is None:
            raise ModelUnavailableError(f"the pyttsx3 worker did not start within {self.start_timeout_s:.0f} s; "
                                        f"{PYTTSX3_FIX}")
        if status == "bad-voice":
            raise ConfigError(detail)
        raise ModelUnavailableError(f"pyttsx3 cannot start: {detail} ({PYTTSX3_FIX})")

    def _send(self, message: dict) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def _receive(self, timeout_s: float) -> dict | None:
        """The worker's next reply, None on timeout; EOFError if the worker exited."""
        try:
            line = self._replies.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if line is None:
            raise EOFError("worker exited")
        return json.loads(line)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            assert proc.stdin is not None  # started with stdin=PIPE
            proc.stdin.close()  # a healthy worker exits on end of input
            proc.wait(0.5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(2.0)


def _read_lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line)
    out.put(None)


def worker_main(args: dict) -> None:
    """The worker process: one engine, one request at a time; it exits after any failure."""
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 and drivers print ("Audio saved to ...") on stdout
    sys.stdout = open(os.devnull, "w")
    voice, rate_wpm = args.get("voice"), args.get("rate_wpm")

    def reply(status: str, detail: str = "") -> None:
        proto.write(json.dumps({"status": status, "detail": detail}) + "\n")

    try:
        engine, detail = _new_engine(voice, rate_wpm)
    except Exception as exc:  # the driver can fail with anything (ImportError, OSError, RuntimeError)
        reply("error", f"{type(exc).__name__}: {exc}")
        return
    if engine is None:
        reply("bad-voice", detail)
        return
    reply("ready")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if _save(engine, request["text"], request["path"]):
                reply("ok")
                continue
            reply("error", "the driver wrote no audio")
        except Exception as exc:  # whatever the driver raises, the reply must reach the parent
            reply("error", f"{type(exc).__name__}: {exc}")
        # pyttsx3.init() hands back the same cached engine, so the only fresh engine is a fresh process
        return


def _save(engine, text: str, path: str) -> bool:
    engine.save_to_file(text, path)
    engine.runAndWait()
    return os.path.exists(path) and os.path.getsize(path) > 44


def _new_engine(voice: str | None, rate_wpm: int | None):
    import pyttsx3

    engine = pyttsx3.init()
    if rate_wpm:
        engine.setProperty("rate", int(rate_wpm))
    if voice:
        voices = engine.getProperty("voices")
        wanted = voice.lower()
        exact = [v for v in voices if wanted in (str(v.id).lower(), str(v.name).lower())]
        partial = [v for v in voices if wanted in str(v.name).lower()]
        match = exact or (partial if len(partial) == 1 else [])
        if not match:
            names = ", ".join(sorted({str(v.name) for v in voices})[:40])
            return None, (f"unknown pyttsx3 voice {voice!r}; use a voice id or name such as: {names}")
        engine.setProperty("voice", match[0].id)
    return engine, "ok"


if __name__ == "__main__":
    worker_main(json.loads(sys.argv[1]))
