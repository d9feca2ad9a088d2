"""A private PulseAudio server with virtual devices, for desktop tests on real PortAudio streams.

The server loads two null sinks: ``vi_speaker`` (the default sink: what the
interviewer says goes there, and its monitor can be recorded) and ``vi_mic``
(whose monitor is the default source, so whatever is played into ``vi_mic`` is
what the program hears from its "microphone"). PortAudio reaches it through
the ALSA ``pulse`` plugin (Debian: libasound2-plugins), pointed at this server
by ``PULSE_SERVER``; the daemon lives in its own runtime directory so it never
touches a desktop's sound server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import UNIT_S
from voice_interviewer.wav import write_wav

CONFIG = """\
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name=vi_speaker rate=44100
load-module module-null-sink sink_name=vi_mic rate=44100
set-default-sink vi_speaker
set-default-source vi_mic.monitor
"""


@dataclass
class PulseServer:
    """A running private server; ``env`` is what a subprocess needs to use it."""

    process: subprocess.Popen
    runtime_dir: Path
    env: dict[str, str]

    def run(self, *cmd: str, timeout_s: float = 10 * UNIT_S) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout_s)

    def play(self, wav: Path, sink: str = "vi_mic") -> subprocess.Popen:
        """Start playing a WAV file into a sink (into the virtual microphone by default)."""
        return subprocess.Popen(["paplay", f"--device={sink}", str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def record(self, raw_path: Path, source: str = "vi_speaker.monitor", rate_hz: int = 16000) -> subprocess.Popen:
        """Start recording a source as raw mono PCM16 into ``raw_path`` (terminate it to stop)."""
        return subprocess.Popen(["parec", f"--device={source}", "--format=s16le", f"--rate={rate_hz}",
                                 "--channels=1", "--raw", str(raw_path)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_pulse(runtime_dir: Path) -> PulseServer:
    """Start a private daemon and wait until it answers; raise with its log if it does not."""
    if not shutil.which("pulseaudio") or not shutil.which("pactl"):
        pytest.fail("pulseaudio and pulseaudio-utils are needed for the desktop tests "
                    "(apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2)")
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    socket = runtime_dir / "native"
    conf = runtime_dir / "vi.pa"
    conf.write_text(CONFIG.format(socket=socket))
    log = runtime_dir / "pulse.log"
    env = {**os.environ, "PULSE_SERVER": f"unix:{socket}", "PULSE_RUNTIME_PATH": str(runtime_dir),
           "XDG_RUNTIME_DIR": str(runtime_dir), "HOME": str(runtime_dir),
           "PULSE_COOKIE": str(runtime_dir / "cookie")}
    proc = subprocess.Popen(
        ["pulseaudio", "-n", "-F", str(conf), "--daemonize=no", "--exit-idle-time=-1",
         "--use-pid-file=no", "--disable-shm=yes", f"--log-target=file:{log}", "--log-level=warning"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = PulseServer(proc, runtime_dir, env)
    deadline = time.monotonic() + 10 * UNIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if server.run("pactl", "info").returncode == 0:
            return server
        time.sleep(0.1)
    stop_pulse(server)
    pytest.fail(f"private PulseAudio did not start: {log.read_text() if log.exists() else 'no log'}")


def stop_pulse(server: PulseServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=5 * UNIT_S)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory):
    """A private PulseAudio server with ``vi_mic`` and ``vi_speaker`` for the whole test session."""
    server = start_pulse(tmp_path_factory.mktemp("pulse"))
    yield server
    stop_pulse(server)


def raw_level_dbfs(raw_path: Path) -> float:
    """RMS level of a raw mono PCM16 recording (-120 for silence or an empty file)."""
    data = np.frombuffer(raw_path.read_bytes() if raw_path.exists() else b"", dtype="<i2")
    if data.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean((data.astype(np.float64) / 32768.0) ** 2)))
    return 20 * np.log10(rms) if rms > 0 else -120.0


class OutputWatcher:
    """Collects a child's output from a pipe or pty in a thread, so tests can wait for text in it."""

    def __init__(self, fd: int):
        import threading

        self.fd = fd
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 4096)
            except OSError:  # a pty reports EIO once the child has exited
                return
            if not data:
                return
            with self._lock:
                self._chunks.append(data)

    @property
    def text(self) -> str:
        with self._lock:
            return b"".join(self._chunks).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout_s: float, after: int = 0, proc: subprocess.Popen | None = None) -> int:
        """Wait until ``needle`` appears at or after offset ``after``; return the offset just past it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.text
            at = text.find(needle, after)
            if at >= 0:
                return at + len(needle)
            if proc is not None and proc.poll() is not None:
                time.sleep(0.2)
                if needle in self.text[after:]:
                    continue
                break
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} did not appear within {timeout_s:g} s; output so far:\n{self.text}")

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


def answer_wav(clips: list[dict], out: Path, pause_s: float = 1.0, trailing_silence_s: float = 0.0) -> Path:
    """Real recordings joined with pauses into one 16 kHz mono WAV (what a candidate says)."""
    from faster_whisper import decode_audio

    rate = 16000
    parts: list[np.ndarray] = []
    for i, clip in enumerate(clips):
        if i:
            parts.append(np.zeros(int(pause_s * rate), dtype=np.float32))
        parts.append(decode_audio(clip["path"], sampling_rate=rate))
    parts.append(np.zeros(int(trailing_silence_s * rate), dtype=np.float32))
    pcm = (np.clip(np.concatenate(parts), -1, 1) * 32767).astype("<i2").tobytes()
    write_wav(out, pcm, rate)
    return out


def key_words(reference: str, min_len: int = 5) -> list[str]:
    """Distinctive words of a reference transcript (long ones, lower case, no punctuation)."""
    words = ["".join(ch for ch in w.lower() if ch.isalnum() or ch == "'") for w in reference.split()]
    return sorted({w for w in words if len(w) >= min_len})


def normalise(text: str) -> str:
    return " ".join("".join(ch for ch in w.lower() if ch.isalnum() or ch == "'") for w in text.split())


def was_heard(word: str, heard: str | list[str]) -> bool:
    """A key word counts as heard when a heard word shares its first five letters.

    Spelling and inflection vary between recognisers and references ("counselled" /
    "counseled", "stuff" / "stuffed"); the tests check that the answer arrived, not spelling.
    """
    words = heard.split() if isinstance(heard, str) else heard
    return any(h[:5] == word[:5] for h in words)
