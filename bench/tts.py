"""Speech synthesis speed, both engines side by side.

Prints, per engine: time to load the voice; time to first audio for a typical
question (cold, then cached); the real-time factor (synthesis time / audio
duration, lower is faster) over questions of the real bank; and time to first
audio of a live question while the whole bank is being prepared in the
background, against the same measure when idle (the ratio shows whether
preparation delays a live turn).

    python bench/tts.py [--rubric rubrics/mlops-engineer.yaml] [--questions 12]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voice_interviewer.bank import load_bank  # noqa: E402
from voice_interviewer.errors import VoiceInterviewerError  # noqa: E402
from voice_interviewer.speech.tts import VoiceOptions, available_engines, make_synthesizer  # noqa: E402

FALLBACK_QUESTIONS = [
    "Walk me through how you would take a trained model from a notebook to a production service.",
    "How would you detect that a model in production has started to drift?",
    "Tell me about a time a deployment went wrong. What did you do?",
    "How do you version data, code and models so a training run can be reproduced?",
    "What would you put in a CI pipeline for a machine learning project?",
    "How would you roll out a new model version safely?",
]
TYPICAL = "How would you detect that a model in production has started to drift, and what would you do about it?"


def bank_questions(path: Path, limit: int) -> tuple[list[str], str]:
    try:
        bank = load_bank(path)
    except VoiceInterviewerError as exc:
        return FALLBACK_QUESTIONS[:limit], f"fixed questions ({str(exc).splitlines()[0]})"
    texts = [q.text for q in bank.questions][:limit]
    return texts, f"{len(texts)} questions of {path}"


async def first_audio_s(synth, text: str) -> float:
    t0 = time.perf_counter()
    agen = synth.stream(text)
    await agen.__anext__()
    elapsed = time.perf_counter() - t0
    await agen.aclose()
    return elapsed


async def bench_engine(engine: str, questions: list[str]) -> dict[str, float]:
    t0 = time.perf_counter()
    synth = make_synthesizer(VoiceOptions(engine=engine))
    load_s = time.perf_counter() - t0
    try:
        cold_s = await first_audio_s(synth, TYPICAL)
        await synth.synthesize(TYPICAL)
        cached_s = await first_audio_s(synth, TYPICAL)
        rtfs, synth_total, audio_total = [], 0.0, 0.0
        for q in questions:
            t = time.perf_counter()
            audio = await synth.synthesize(q)
            dt = time.perf_counter() - t
            rtfs.append(dt / audio.duration_s)
            synth_total += dt
            audio_total += audio.duration_s
        idle_s = await first_audio_s(synth, "Before we begin, can you hear me clearly?")
        synth.cache.clear()  # forget, so preparation has real work
        synth.prepare(questions)
        busy_s = await first_audio_s(synth, "Before we continue, can you still hear me clearly?")
    finally:
        await synth.close()
    return {"load_s": load_s, "cold_s": cold_s, "cached_s": cached_s, "rtf_mean": statistics.mean(rtfs),
            "rtf_max": max(rtfs), "synth_s": synth_total, "audio_s": audio_total, "idle_first_s": idle_s,
            "busy_first_s": busy_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rubric", type=Path, default=Path(__file__).resolve().parent.parent
                        / "rubrics" / "mlops-engineer.yaml")
    parser.add_argument("--questions", type=int, default=12, help="how many bank questions (default: %(default)s)")
    args = parser.parse_args()
    questions, source = bank_questions(args.rubric, args.questions)
    print(f"TTS benchmark over {source}")
    print(f"typical question: {TYPICAL!r}")
    results = {}
    for engine, status in available_engines().items():
        if status != "ok":
            print(f"{engine}: skipped ({status})")
            continue
        results[engine] = asyncio.run(bench_engine(engine, questions))
    rows = [
        ("voice load (s)", "load_s", 3), ("first audio, cold (s)", "cold_s", 3),
        ("first audio, cached (ms)", "cached_s", 3), ("real-time factor, mean", "rtf_mean", 4),
        ("real-time factor, worst", "rtf_max", 4), ("synthesis time, total (s)", "synth_s", 2),
        ("audio produced, total (s)", "audio_s", 1), ("first audio, idle (s)", "idle_first_s", 3),
        ("first audio, while preparing (s)", "busy_first_s", 3),
    ]
    names = list(results)
    print(f"{'':34}" + "".join(f"{n:>12}" for n in names))
    for label, key, digits in rows:
        scale = 1000 if "(ms)" in label else 1
        print(f"{label:34}" + "".join(f"{results[n][key] * scale:>12.{digits}f}" for n in names))
    for n in names:
        r = results[n]
        print(f"{n}: cached/cold first audio = {r['cached_s'] / r['cold_s']:.1e}; "
              f"first audio while preparing / idle = {r['busy_first_s'] / r['idle_first_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
