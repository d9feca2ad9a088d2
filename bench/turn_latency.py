"""Turn latency over loopback: end of answer → first byte of the interviewer's next audio.

A real server (real Whisper, real TTS, offline grader) runs in this process's
background thread; websocket clients stream a real recording in real time as
each answer and then send ``end_answer``. For every turn it records

* the client's view: ``end_answer`` sent → first binary (TTS) frame received, and
* the server's stage times carried on that ``say`` (``latency_ms``: finish = final
  transcript, decide = grading and policy, synth = TTS to first frame).

It prints p50/p95 for one session alone and for N concurrent sessions, so the
cost of sharing two cores shows as a ratio measured in the same run, and the
live captions' lag: a ``partial`` says how much of the answer it has heard
(``audio_s``), and the answer is streamed in real time from a known moment, so
lag = arrival − (start of streaming + ``audio_s``). If N sessions miss a p50 of
1 s, smaller classes are tried (bisection) to find the largest that meets it.

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
from typing import Any

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


TARGET_P50_MS = 1000.0


async def session(url: str, answer: bytes, turns: int, voice: str | None,
                  captions: list[float] | None = None) -> list[dict]:
    """One interview answered by ``answer`` each turn until ``turns`` turns are measured.

    Each live caption's lag (seconds) is appended to ``captions``.
    """
    results: list[dict] = []
    answer_t0: float | None = None
    async with connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps({"type": "start", "role": "mlops-engineer", "questions": max(1, turns),
                                  "timer_s": 300, "sample_rate": RATE_HZ, "follow_ups": 1,
                                  "voice_engine": voice}))
        sent_end: float | None = None
        pending: dict | None = None
        stopping = False
        streaming: asyncio.Task | None = None

        def ended(task: asyncio.Task) -> None:
            nonlocal sent_end
            if not task.cancelled() and task.exception() is None:
                sent_end = task.result()

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
                elif msg["type"] == "partial":
                    if captions is not None and answer_t0 is not None and msg.get("audio_s") is not None:
                        captions.append(now - (answer_t0 + msg["audio_s"]))
                elif msg["type"] == "listening" and not msg.get("paused"):
                    if len(results) >= turns:
                        if not stopping:
                            stopping = True
                            await ws.send(json.dumps({"type": "stop"}))
                        continue
                    answer_t0, pending = time.perf_counter(), None  # only a reply to this answer counts
                    streaming = asyncio.create_task(stream(ws, answer, answer_t0))
                    streaming.add_done_callback(ended)
                elif msg["type"] == "report":
                    return results
                elif msg["type"] == "error":
                    print(f"  server error: {msg['code']}: {msg['message']}", file=sys.stderr)
        except ConnectionClosed:
            return results
        finally:
            if streaming is not None and not streaming.done():
                streaming.cancel()


async def stream(ws: Any, answer: bytes, t0: float) -> float:
    """Send ``answer`` in real time from ``t0``, then ``end_answer``; return when that was sent.

    It runs beside the receiving loop, so a caption is timed when it arrives, not when
    the client finishes streaming (reading only after the answer made every caption
    look as late as the answer is long).
    """
    step = int(RATE_HZ * FRAME_S) * 2
    for i in range(0, len(answer), step):
        await ws.send(answer[i:i + step])
        await asyncio.sleep(max(0.0, t0 + (i + step) / 2 / RATE_HZ - time.perf_counter()))
    await ws.send(json.dumps({"type": "end_answer"}))
    return time.perf_counter()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(values, q))


def summarise(label: str, rows: list[dict], captions: list[float] | None = None) -> float:
    client = [r["client_ms"] for r in rows]
    print(f"{label}: {len(rows)} turns  end→first audio  p50 {pct(client, 50):7.0f} ms  p95 {pct(client, 95):7.0f} ms")
    if captions is not None:
        lag = [x * 1000 for x in captions]
        print(f"    caption lag   p50 {pct(lag, 50):7.0f} ms  p95 {pct(lag, 95):7.0f} ms  "
              f"({len(lag)} captions, {len(lag) / max(1, len(rows)):.1f} per turn)")
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
    ap.add_argument("--no-search", action="store_true",
                    help="skip the search for the largest class meeting the p50 target")
    args = ap.parse_args()

    answer = answer_pcm(args.answer_seconds)
    t = time.perf_counter()
    srv = Server(ServerOptions(port=0, voice_engine=args.voice_engine, max_sessions=args.concurrent + 1))
    print(f"server ready in {time.perf_counter() - t:.1f} s (voice {srv.server.synthesizers[args.voice_engine].name}); "
          f"answers of {len(answer) / 2 / RATE_HZ:.1f} s streamed in real time")
    url = f"ws://127.0.0.1:{srv.server.port}/ws"
    try:
        captions: list[float] = []
        alone = asyncio.run(session(url, answer, args.turns, args.voice_engine, captions))
        p50_alone = summarise("1 session", alone, captions)

        def concurrent(n: int) -> float:
            lags: list[float] = []

            async def many() -> list[dict]:
                runs = await asyncio.gather(*(session(url, answer, args.concurrent_turns, args.voice_engine, lags)
                                              for _ in range(n)))
                return [r for run in runs for r in run]

            return summarise(f"{n} sessions", asyncio.run(many()), lags)

        p50_many = concurrent(args.concurrent)
        print(f"concurrency cost: p50 ×{p50_many / p50_alone:.2f} with {args.concurrent} sessions")
        if not args.no_search:
            print(f"largest class meeting p50 ≤ {TARGET_P50_MS / 1000:g} s: "
                  f"{largest_meeting_target(args.concurrent, p50_many, p50_alone, concurrent)}")
        estimate = asyncio.run_coroutine_threadsafe(server_estimate(srv.server), srv.loop).result()
        print(f"the server's own start-up estimate: {estimate.describe()}")
        print(f"floor for {args.concurrent} answers ending together: the median waits "
              f"{estimate.median_wait_s(args.concurrent) * 1000:.0f} ms for its decode alone "
              f"(one session: {estimate.decode_s * 1000:.0f} ms unless the decode at the end of speech is reused)")
    finally:
        srv.stop()
    return 0


def largest_meeting_target(n: int, p50_n: float, p50_one: float, run: Any) -> str:
    """Bisect between 1 and ``n`` sessions for the largest class whose p50 meets the target."""
    if p50_n <= TARGET_P50_MS:
        return f"≥ {n} (the largest tried)"
    if p50_one > TARGET_P50_MS:
        return "none (one session alone misses it)"
    good, bad = 1, n
    while bad - good > 1:
        mid = (good + bad) // 2
        if run(mid) <= TARGET_P50_MS:
            good = mid
        else:
            bad = mid
    return f"{good} sessions"


async def server_estimate(server: Any) -> Any:
    """What the server would allow without ``--max-sessions`` (:mod:`voice_interviewer.capacity`)."""
    from voice_interviewer import capacity

    return await capacity.measure(server.engine, await server.synthesizer(server.options.voice_engine))


if __name__ == "__main__":
    sys.exit(main())
