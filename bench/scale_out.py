"""Scale-out on one machine: how many concurrent sessions keep end of answer → first audio p50 ≤ 1 s.

Two deployments, each of real ``voice-interviewer serve`` processes on loopback:

* **one process**: one server with local Whisper, sessions in SQLite;
* **two processes + speech server**: two servers sharing a private PostgreSQL (from
  ``tests/postgres.py``) and one audio folder, sessions split between them, finished
  answers transcribed by a faster-whisper-server process on the same tiny.en model
  (``tests/speech_server.py``); captions stay on each server's local model.

For each number of concurrent sessions, every session streams real read speech in real
time, sends ``end_answer`` and times the first byte of the interviewer's next audio
(as ``bench/turn_latency.py`` does); a session *meets the budget* when its own p50 is
≤ 1 s. All processes share this machine's cores (``os.cpu_count()``, two here), so the
second deployment shows what splitting the work costs or saves on the same hardware,
not what more machines would add.

    .venv/bin/python bench/scale_out.py [--sessions 1,2,4] [--turns 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.turn_latency import answer_pcm, pct, session  # noqa: E402
from tests.serving import free_port, start_serve  # noqa: E402

BUDGET_MS = 1000.0


def run_level(ports: list[int], count: int, turns: int, answer: bytes) -> list[float]:
    """``count`` concurrent sessions spread round-robin over ``ports``; each session's p50 (ms)."""

    async def many() -> list[list[dict]]:
        return await asyncio.gather(*(session(f"ws://127.0.0.1:{ports[i % len(ports)]}/ws", answer, turns,
                                              "pyttsx3") for i in range(count)))

    return [pct([r["client_ms"] for r in rows], 50) for rows in asyncio.run(many())]


def measure(label: str, ports: list[int], levels: list[int], turns: int, answer: bytes) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for count in levels:
        t0 = time.monotonic()
        p50s = run_level(ports, count, turns, answer)
        out[count] = p50s
        meeting = sum(p <= BUDGET_MS for p in p50s)
        print(f"  {label}: {count} concurrent → {meeting}/{count} sessions with p50 ≤ 1 s "
              f"(p50 per session: {', '.join(f'{p:.0f}' for p in p50s)} ms; {time.monotonic() - t0:.0f} s)",
              flush=True)
    return out


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", default="1,2,4", help="concurrent session counts to try (default 1,2,4)")
    ap.add_argument("--turns", type=int, default=3, help="turns measured per session (default 3)")
    ap.add_argument("--answer-seconds", type=float, default=6.0, help="length of each streamed answer")
    args = ap.parse_args()
    levels = [int(x) for x in args.sessions.split(",") if x.strip()]
    answer = answer_pcm(args.answer_seconds)
    cores = os.cpu_count() or 1
    print(f"{cores} cores shared by every process below (and by anything else running here); answers of "
          f"{len(answer) / 2 / 16000:.1f} s streamed in real time, {args.turns} turns per session", flush=True)
    work = Path(tempfile.mkdtemp(prefix="vi-scale-out-"))
    results: dict[str, dict[int, list[float]]] = {}

    port = free_port()
    procs = [start_serve(port, work / "one", None, "--max-sessions", str(max(levels)))]
    try:
        results["one process"] = measure("one process", [port], levels, args.turns, answer)
    finally:
        stop(procs)

    from tests import postgres, speech_server

    pg = postgres.start_postgres() if postgres.missing_requirement() is None else None
    url = pg.new_database() if pg else None
    speech = speech_server.start(work)
    procs = []
    try:
        ports = [free_port(), free_port()]
        shared = ("--audio-dir", str(work / "audio"), "--transcription-url", speech.url,
                  "--max-sessions", str(max(levels)))
        procs = [start_serve(p, work / f"server-{i}", url, *shared) for i, p in enumerate(ports)]
        label = "two processes + speech server"
        results[label] = measure(label, ports, levels, args.turns, answer)
        print(f"  (store: {'PostgreSQL' if pg else 'SQLite, PostgreSQL not installed'}; "
              f"the speech server answered {speech.requests()} transcriptions)")
    finally:
        stop(procs)
        speech.stop()
        if pg:
            pg.stop()

    print(f"\nsessions meeting end of answer → first audio p50 ≤ 1 s, on {cores} shared cores:")
    for label, by_level in results.items():
        best = max((n for n, p50s in by_level.items() if all(p <= BUDGET_MS for p in p50s)), default=0)
        print(f"  {label:<32} {best} at once (all of them within budget); "
              + ", ".join(f"{n}: {sum(p <= BUDGET_MS for p in p50s)}/{n}" for n, p50s in by_level.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
