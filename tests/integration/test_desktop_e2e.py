"""``voice-interviewer practice`` end to end on real PortAudio devices (a private PulseAudio server).

A real recording is played into the virtual microphone while the real command
runs: Whisper transcribes it, the offline grader grades it, the interviewer's
voice reaches the virtual speaker, and the session lands in the SQLite store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, UNIT_S
from tests.integration.pulse import (
    OutputWatcher,
    answer_wav,
    key_words,
    normalise,
    pulse,
    raw_level_dbfs,
    start_pulse,
    stop_pulse,
    was_heard,
)

__all__ = ["pulse"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.slow


def practice(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "voice_interviewer", "practice", *args], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def spoken_clips(speech_clips: list[dict], count: int) -> list[dict]:
    """The shortest read-speech clips that still carry several distinctive words."""
    usable = sorted((c for c in speech_clips if float(c["duration"]) >= 3.0 and len(key_words(c["reference"])) >= 3),
                    key=lambda c: float(c["duration"]))
    assert len(usable) >= count, "the shared speech data has too few clips of 3 s or more"
    return usable[:count]


def session_rows(data_dir: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(data_dir / "sessions.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM sessions").fetchall()
    finally:
        conn.close()


def test_spoken_answer_is_transcribed_graded_heard_and_stored(pulse, speech_clips, tmp_path):
    clips = spoken_clips(speech_clips, 2)
    # clips carry their own lead-in and trailing silence: keep the joins well under --end-silence 2
    wav = answer_wav(clips, tmp_path / "answer.wav", pause_s=0.5, trailing_silence_s=3.0)
    report_path, data_dir, speaker = tmp_path / "report.json", tmp_path / "data", tmp_path / "speaker.raw"
    recorder = pulse.record(speaker)
    proc = practice(pulse.env, "--questions", "1", "--no-keys", "--follow-ups", "0", "--end-silence", "2",
                    "--report", str(report_path), "--data-dir", str(data_dir))
    out = OutputWatcher(proc.stdout.fileno())
    try:
        out.wait_for("[listening", 60 * UNIT_S, proc=proc)
        player = pulse.play(wav)
        assert player.wait(timeout=60 * UNIT_S) == 0, player.stderr.read()
        assert proc.wait(timeout=60 * UNIT_S) == 0, out.text
    finally:
        if proc.poll() is None:
            proc.kill()
        recorder.terminate()
        recorder.wait(timeout=5 * UNIT_S)
    out.join(5 * UNIT_S)
    text = out.text

    assert "[answer ended: silence]" in text
    report = json.loads(report_path.read_text())
    (question,) = report["questions"]
    heard = normalise(" ".join(question["answers"]))
    expected = [w for c in clips for w in key_words(c["reference"])]
    found = [w for w in expected if was_heard(w, heard)]
    assert len(found) >= 0.7 * len(expected), f"heard {heard!r}; expected most of {expected}"
    assert question["feedback"]["key_points"] and question["score"] is not None
    assert f"score {question['score']:.0f}/100" in text  # the feedback was shown

    assert raw_level_dbfs(speaker) > -45.0, "nothing reached the speaker device"
    (row,) = session_rows(data_dir)
    assert row["status"] == "completed" and row["id"] == report["session_id"]
    stored = {p.name for p in (data_dir / "sessions" / row["id"]).iterdir()}
    assert "q1.wav" in stored and any(n.startswith("u") for n in stored)


def test_unknown_input_device_is_a_clear_error(pulse):
    proc = practice(pulse.env, "--questions", "1", "--input-device", "999")
    out, _ = proc.communicate(timeout=30 * UNIT_S)
    assert proc.returncode == 2
    msg = out.decode()
    assert "--input-device 999: no device has that index" in msg and "default" in msg


def test_unknown_round_is_rejected_before_anything_loads(pulse):
    proc = practice(pulse.env, "--rounds", "nonsense", "--no-record")
    out, _ = proc.communicate(timeout=30 * UNIT_S)
    msg = out.decode()
    assert proc.returncode == 2, msg
    assert "--rounds nonsense: no round 'nonsense'" in msg and "fundamentals" in msg
    assert "Loading the voice" not in msg  # rejected before the recogniser and the voice load


def _devices_without_sound_server() -> int:
    """How many devices PortAudio sees when the sound server is unreachable (0 on machines without
    sound hardware, such as CI; real hardware cannot be hidden from ALSA for the test)."""
    env = {**os.environ, "PULSE_SERVER": "unix:/nonexistent/voice-interviewer-test"}
    count = subprocess.run([sys.executable, "-c", "import sounddevice as sd; print(len(sd.query_devices()))"],
                           env=env, capture_output=True, text=True, timeout=30 * UNIT_S)
    return int(count.stdout.strip() or -1)


@pytest.mark.skipif(_devices_without_sound_server() != 0,
                    reason="this machine has sound hardware PortAudio reaches without a sound server")
def test_no_sound_server_means_no_input_device(tmp_path):
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path / 'nothing-here'}"}
    proc = practice(env, "--questions", "1")
    out, _ = proc.communicate(timeout=30 * UNIT_S)
    assert proc.returncode == 2
    assert "no input device found" in out.decode() and "--list-devices" in out.decode()


def test_device_list_shows_the_virtual_devices(pulse):
    proc = practice(pulse.env, "--list-devices")
    out, _ = proc.communicate(timeout=30 * UNIT_S)
    assert proc.returncode == 0
    assert "default" in out.decode() and "--input-device" in out.decode()


def test_sound_server_vanishing_mid_answer_fails_cleanly_and_keeps_the_session(speech_clips, tmp_path):
    server = start_pulse(tmp_path / "pulse")
    data_dir = tmp_path / "data"
    proc = None
    try:
        proc = practice(server.env, "--questions", "1", "--no-keys", "--follow-ups", "0",
                        "--data-dir", str(data_dir))
        out = OutputWatcher(proc.stdout.fileno())
        out.wait_for("[listening", 60 * UNIT_S, proc=proc)
        player = server.play(answer_wav(spoken_clips(speech_clips, 1), tmp_path / "a.wav"))
        out.wait_for("[speech started]", 20 * UNIT_S, proc=proc)
        time.sleep(0.5 * UNIT_S)
        server.process.kill()  # the device disappears mid-session
        server.process.wait()
        player.kill()
        out.wait_for("stopped delivering audio", 10 * UNIT_S, proc=proc)
        # exit waits for a speech decode already in flight (seconds on a busy machine)
        assert proc.wait(timeout=60 * UNIT_S) == 2, out.text
    finally:
        stop_pulse(server)
        if proc is not None and proc.poll() is None:
            proc.kill()
    out.join(5 * UNIT_S)
    assert "stopped delivering audio" in out.text and "--input-device" in out.text
    (row,) = session_rows(data_dir)
    assert row["status"] == "failed"
    answer_audio = data_dir / "sessions" / row["id"] / "q1.wav"
    assert answer_audio.exists() and answer_audio.stat().st_size > 44 + 16000  # over 0.5 s of the answer kept
