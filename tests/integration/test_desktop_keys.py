"""Single-key commands of ``voice-interviewer practice`` through a real pseudo-terminal.

The command runs as a subprocess whose stdin/stdout is a pty, so keys are read in
cbreak mode exactly as at a real terminal; the microphone is the private
PulseAudio server's virtual one, fed with real recordings.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import termios
import time

import pytest

from tests.conftest import ROOT, UNIT_S
from tests.integration.pulse import OutputWatcher, answer_wav, key_words, normalise, pulse, was_heard

__all__ = ["pulse"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.slow


class PtyRun:
    """``voice-interviewer practice`` on a pseudo-terminal: type keys, watch the screen."""

    def __init__(self, env: dict[str, str], *args: str):
        self.master, self.slave = pty.openpty()
        self.attrs_before = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen([sys.executable, "-m", "voice_interviewer", "practice", *args],
                                     cwd=ROOT, env={**env, "TERM": "xterm", "COLUMNS": "100"},
                                     stdin=self.slave, stdout=self.slave, stderr=self.slave, close_fds=True)
        self.out = OutputWatcher(self.master)
        self.pos = 0

    def wait_for(self, text: str, timeout_s: float = 30 * UNIT_S) -> None:
        self.pos = self.out.wait_for(text, timeout_s, self.pos, self.proc)

    def press(self, key: str) -> None:
        os.write(self.master, key.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.slave)
        os.close(self.master)


def short_clips(speech_clips: list[dict]) -> tuple[dict, dict]:
    """Two short recordings with several distinctive words and none in common."""
    usable = sorted((c for c in speech_clips if 2.5 <= float(c["duration"]) <= 7.0
                     and len(key_words(c["reference"])) >= 3), key=lambda c: c["duration"])
    for a in usable:
        for b in usable:
            if a is not b and not set(key_words(a["reference"])) & set(key_words(b["reference"])):
                return a, b
    pytest.fail("the shared speech data has no two short clips with different words")


def test_enter_pause_skip_reveal_review_retry_quit_through_a_terminal(pulse, speech_clips, tmp_path):
    while_paused, answered = short_clips(speech_clips)
    paused_wav = answer_wav([while_paused], tmp_path / "paused.wav")
    answer = answer_wav([answered], tmp_path / "answer.wav")
    report_path = tmp_path / "report.json"
    run = PtyRun(pulse.env, "--questions", "4", "--follow-ups", "0", "--end-silence", "30",
                 "--report", str(report_path), "--data-dir", str(tmp_path / "data"))
    try:
        run.wait_for("[listening", 90 * UNIT_S)
        run.press("p")
        run.wait_for("[paused")
        assert pulse.play(paused_wav).wait(timeout=30 * UNIT_S) == 0  # said while paused: not an answer
        run.press("p")
        run.wait_for("[resumed]")
        assert pulse.play(answer).wait(timeout=30 * UNIT_S) == 0
        time.sleep(1.0 * UNIT_S)  # the sound server's latency; people also pause before pressing Enter
        run.press("\r")
        run.wait_for("[done]")
        run.wait_for("You said:")
        run.wait_for("Feedback — score", 60 * UNIT_S)
        # At a terminal the feedback is reviewed: t asks the question again; skipping that attempt
        # keeps the graded first one.
        run.wait_for("[Enter = next question · t = try this question again · q = end]", 30 * UNIT_S)
        run.press("t")
        run.wait_for("[listening", 60 * UNIT_S)
        run.press("s")
        run.wait_for("[skip]")

        run.wait_for("[listening", 60 * UNIT_S)
        run.press("t")  # means nothing while answering
        run.press("s")
        run.wait_for("[skip]")

        run.wait_for("[listening", 60 * UNIT_S)
        run.press("r")
        run.wait_for("What a strong answer covers", 60 * UNIT_S)
        run.wait_for("[Enter = next question", 30 * UNIT_S)
        run.press("\r")

        run.wait_for("[listening", 60 * UNIT_S)
        run.press("q")
        run.wait_for("[quit]")
        run.wait_for("Session report", 30 * UNIT_S)
        assert run.proc.wait(timeout=30 * UNIT_S) == 0
        restored = termios.tcgetattr(run.slave)
    finally:
        run.close()

    assert restored[3] == run.attrs_before[3], "terminal left in cbreak mode"
    # four questions, the first one twice (the report's "  Interviewer: offline rubric · …" line is indented)
    assert len(re.findall(r"(?m)^Interviewer:", run.out.text)) == 5
    first, skipped, revealed = json.loads(report_path.read_text())["questions"]  # the 4th was quit
    heard = normalise(" ".join(first["answers"])).split()
    expected = key_words(answered["reference"])
    assert sum(was_heard(w, heard) for w in expected) >= 0.5 * len(expected), (heard, expected)
    assert not any(w in heard for w in key_words(while_paused["reference"])), heard
    assert first["score"] is not None and not first["skipped"]
    assert first["attempts"] == [first["score"], None]
    assert skipped["skipped"] and skipped["score"] is None
    assert revealed["revealed"]
