"""Turn latency over loopback: end of answer → first byte of the interviewer's next audio.

A real server (real Whisper, real TTS, offline grader) runs in this process's
background thread; websocket clients stream a real recording in real time as
each answer and then send ``end_answer``. For every turn it records

* the client's view: ``end_answer`` sent → first binary (TTS) frame received, and
* the server's stage times carried on that ``say`` (``latency_ms``: finish = final
  transcript, decide = grading and policy, synth = TTS to first frame).

It prints p50/p95 for one session alone and for N concurrent sessions, so the
cost of sharing two cores shows as a ratio measured in the same run.

    .venv/bin/python bench/turn_latency.py [--turns 10] [--concurrent 4] [--voice-engine pyttsx3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_interviewer.server import InterviewServer, ServerOptions  # noqa: E402
from voice_interviewer.speech.audio_io import decode_file  # noqa: E402
from voice_interviewer.speech.pcm import float_to_pcm16  # noqa: E402

RATE_HZ = 16000
FRAME_S = 0.04


def shared_speech() -> Path:
    base = Path(os.environ.get("VI_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return base / "speech"


def answer_pcm(seconds: float) -> bytes:
    """Real read speech (mono clips joined with 0.6 s pauses) of about ``seconds``."""
    d = shared_speech()
    rows = [json.loads(x) for x in (d / "manifest.jsonl").read_text().splitlines() if x.strip()]
    parts, total = [], 0.0
    for r in sorted(rows, key=lambda r: r["id"]):
        if r.get("channels", 1) != 1 or r["duration"] > 8:
            continue
        parts += [decode_file(d / r["audio"], RATE_HZ), np.zeros(int(0.6 * RATE_HZ), np.float32)]
        total += r["duration"] + 0.6
        if total >= seconds:
            break
    return float_to_pcm16(np.concatenate(parts))


class Server:
    def __init__(self, options: ServerOptions):
        self.loop = asyncio.new_event_loop()
        self.server = InterviewServer(options)
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start())
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)


async def session(url: str, answer: bytes, turns: int, voice: str | None) -> list[dict]:
    """One interview answered by ``answer`` each turn until ``turns`` turns are measured."""
    results: list[dict] = []
    async with connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps({"type": "start", "role": "mlops-engineer", "questions": max(1, turns),
                                  "timer_s": 300, "sample_rate": RATE_HZ, "follow_ups": 1,
                                  "voice_engine": voice}))
        sent_end: float | None = None
        pending: dict | None = None
        stopping = False
        try:
            while True:
                data = await ws.recv()
                now = time.perf_counter()
                if isinstance(data, bytes):
                    if sent_end is not None and pending is not None:
                        results.append({"client_ms": (now - sent_end) * 1000, **(pending.get("latency_ms") or {})})
                        sent_end = None
                    continue
                msg = json.loads(data)
                if msg["type"] == "say":
                    pending = msg
                elif msg["type"] == "listening" and not msg.get("paused"):
                    if len(results) >= turns:
                        if not stopping:
                            stopping = True
                            await ws.send(json.dumps({"type": "stop"}))
                        continue
                    step = int(RATE_HZ * FRAME_S) * 2
                    t0 = time.perf_counter()
                    for i in range(0, len(answer), step):
                        await ws.send(answer[i:i + step])
                        await asyncio.sleep(max(0.0, t0 + (i + step) / 2 / RATE_HZ - time.perf_counter()))
                    await ws.send(json.dumps({"type": "end_answer"}))
                    sent_end = time.perf_counter()
                elif msg["type"] == "report":
                    return results
                elif msg["type"] == "error":
                    print(f"  server error: {msg['code']}: {msg['message']}", file=sys.stderr)
        except ConnectionClosed:
            return results


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(values, q))


def summarise(label: str, rows: list[dict]) -> float:
    client = [r["client_ms"] for r in rows]
    print(f"{label}: {len(rows)} turns  end→first audio  p50 {pct(client, 50):7.0f} ms  p95 {pct(client, 95):7.0f} ms")
    for stage in ("finish", "decide", "synth", "total"):
        vals = [r[stage] for r in rows if stage in r]
        if vals:
            print(f"    server {stage:<7} p50 {pct(vals, 50):7.0f} ms  p95 {pct(vals, 95):7.0f} ms  "
                  f"mean {statistics.mean(vals):7.0f} ms")
    return pct(client, 50)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=10, help="turns measured per session (default 10)")
    ap.add_argument("--concurrent", type=int, default=4, help="sessions in the concurrent run (default 4)")
    ap.add_argument("--concurrent-turns", type=int, default=4, help="turns per concurrent session (default 4)")
    ap.add_argument("--answer-seconds", type=float, default=6.0, help="length of each streamed answer")
    ap.add_argument("--voice-engine", choices=("piper", "pyttsx3"), default=None)
    args = ap.parse_args()

    answer = answer_pcm(args.answer_seconds)
    t = time.perf_counter()
    srv = Server(ServerOptions(port=0, voice_engine=args.voice_engine, max_sessions=args.concurrent + 1))
    print(f"server ready in {time.perf_counter() - t:.1f} s (voice {srv.server.synthesizers[args.voice_engine].name}); "
          f"answers of {len(answer) / 2 / RATE_HZ:.1f} s streamed in real time")
    url = f"ws://127.0.0.1:{srv.server.port}/ws"
    try:
        alone = asyncio.run(session(url, answer, args.turns, args.voice_engine))
        p50_alone = summarise("1 session", alone)

        async def many() -> list[dict]:
            runs = await asyncio.gather(*(session(url, answer, args.concurrent_turns, args.voice_engine)
                                          for _ in range(args.concurrent)))
            return [r for run in runs for r in run]

        together = asyncio.run(many())
        p50_many = summarise(f"{args.concurrent} sessions", together)
        print(f"concurrency cost: p50 ×{p50_many / p50_alone:.2f} with {args.concurrent} sessions")
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
