"""A recording process killed with SIGKILL mid-answer loses at most ~1 s of audio and no committed segment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import wave
from pathlib import Path

import pytest

from tests.conftest import ROOT, UNIT_S
from voice_interviewer.store import SessionStore

pytestmark = pytest.mark.slow

SESSION_ID = "c0ffee0000000001"
BYTES_PER_S = 16000 * 2

RECORDING_PROCESS = textwrap.dedent("""
    import sys, time, wave
    from voice_interviewer.channels.base import SessionInfo, Utterance, UtteranceKind
    from voice_interviewer.store import SessionStore
    from voice_interviewer.transcript import Segment, Word

    data_dir, clip, url = sys.argv[1], sys.argv[2], (sys.argv[3:] or [None])[0]
    with wave.open(clip, "rb") as w:
        pcm = w.readframes(w.getnframes())
    store = SessionStore(data_dir, url=url)
    rec = store.recorder()
    rec.session_started(SessionInfo(%(sid)r, "crash-role", "Crash Role", ()))
    rec.utterance(Utterance("Tell me about a failure.", UtteranceKind.QUESTION, "failure", "q1"))
    frame = 640  # 20 ms at 16 kHz
    sent = segments = 0
    next_segment = 16000  # commit a segment every half second of audio
    start = time.monotonic()
    position = 0
    while True:  # frames arrive in real time, as from a microphone, until the process is killed
        chunk = pcm[position:position + frame] or pcm[:frame]
        position = position + frame if position + frame < len(pcm) else 0
        rec.candidate_audio("q1", chunk, 16000)
        sent += len(chunk)
        if sent >= next_segment:
            end_s = sent / 32000
            rec.segment_committed("q1", Segment(f"part {segments}", end_s - 0.5, end_s,
                                                (Word("part", end_s - 0.5, end_s - 0.3),
                                                 Word(str(segments), end_s - 0.3, end_s))))
            segments += 1
            next_segment += 16000
            print(f"committed {segments} sent {sent}", flush=True)
        time.sleep(max(0.0, start + sent / 32000 - time.monotonic()))
""") % {"sid": SESSION_ID}


def test_sigkill_mid_answer_keeps_audio_and_segments(tmp_path: Path, speech_dir: Path,
                                                     store_url: str | None) -> None:
    clip = speech_dir / "pocketsphinx_librivox" / "sense_and_sensibility_01_austen_64kb-0870.wav"
    script = tmp_path / "record.py"
    script.write_text(RECORDING_PROCESS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    store_args = [store_url] if store_url else []
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "data"), str(clip), *store_args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    committed, sent = 0, 0
    deadline = time.monotonic() + 30 * UNIT_S
    try:
        while committed < 7:  # 3.5 s of answer, then the crash
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"recording process ended early: {proc.stderr.read()}")
            _, committed_s, _, sent_s = line.split()
            committed, sent = int(committed_s), int(sent_s)
            assert time.monotonic() < deadline, "recording process too slow"
        time.sleep(0.3)  # die between segment commits, mid-frame-stream
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10 * UNIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    directory = tmp_path / "data" / "sessions" / SESSION_ID
    raw = directory / "q1.pcm"
    assert raw.exists() and not (directory / "q1.wav").exists()
    on_disk = raw.stat().st_size

    store = SessionStore(tmp_path / "data", url=store_url)
    assert store.recovered == [SESSION_ID]
    doc = store.get(SESSION_ID)
    assert doc["status"] == "interrupted" and doc["ended_at"] is not None
    answer = next(i for i in doc["timeline"] if i["speaker"] == "candidate")
    texts = [s["text"] for s in answer["segments"]]
    assert texts[:committed] == [f"part {n}" for n in range(committed)]  # every committed segment survived
    assert answer["text"].startswith(" ".join(f"part {n}" for n in range(committed)))
    assert len(answer["words"]) == 2 * len(texts) and answer["end_reason"] == "interrupted"
    # At most ~1 s lost: what was sent by the last report (plus 0.3 s more before the kill) is on disk.
    assert on_disk >= sent - BYTES_PER_S
    with wave.open(str(store.audio_path(SESSION_ID, "q1")), "rb") as w:
        assert w.getframerate() == 16000 and w.getnframes() * 2 == on_disk // 2 * 2
    assert abs(answer["duration_s"] - on_disk / BYTES_PER_S) < 0.001
    assert not raw.exists()
    assert SessionStore(tmp_path / "data", url=store_url).recovered == []
