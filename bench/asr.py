"""Speech benchmark: accuracy, speed and end-of-answer latency of the streaming path.

Run from the repository root::

    .venv/bin/python bench/asr.py [--manifest PATH] [--runs 5] [--model M]

Prints, on the shared clips (text normalised: lower case, no punctuation):

* WER of the streaming path (live settings) and of plain offline faster-whisper
  with the same model, and of streaming without the priming prompt;
* real-time factor (wall seconds per audio second) of both, and CPU seconds per
  audio second (``time.process_time``, all threads) of streaming ÷ offline;
* latency from ``finish()`` to the final transcript for ~90 s answers built from
  the clips joined with 1–3 s pauses (p50 over ``--runs`` runs), and how much
  audio ``finish()`` still had to decode;
* WER with and without the prompt on espeak-ng sentences full of jargon and
  fillers, and how many of the spoken fillers survive.

Streaming runs replay audio as fast as the model keeps up, waiting after each
frame for the decodes it scheduled (see ``listener.replay``), so CPU and results
are those of a live answer; the figures are noisy when other work shares the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_interviewer.speech.audio_io import decode_file  # noqa: E402
from voice_interviewer.speech.engine import SAMPLE_RATE, SpeechEngine, TranscriberOptions  # noqa: E402
from voice_interviewer.speech.listener import AnswerListener, EndpointOptions, StreamOptions, replay, transcribe_audio  # noqa: E402
from voice_interviewer.speech.wer import corpus_wer, normalize, wer  # noqa: E402

SPOKEN = [
    ("We track experiments in MLflow and serve with KServe on Kubernetes", False),
    ("Um, so, uh, I think we would put the features in a feature store like Feast, and uh, "
     "orchestrate the pipeline with Airflow.", True),
    ("Um, I think, uh, the main risk is, um, data drift, so uh we monitor it with Evidently.", True),
    ("We fine tuned the model with LoRA in PyTorch and tracked precision and recall per class.", False),
]
TERMS = ("MLflow", "KServe", "Kubernetes", "feature store", "Feast", "Airflow", "data drift", "Evidently",
         "LoRA", "PyTorch", "precision", "recall")
FILLERS = {"um", "uh"}


def offline(engine: SpeechEngine, audio: np.ndarray) -> str:
    segments, _ = engine.model.transcribe(audio, language=engine.options.language,
                                          beam_size=engine.options.beam_size)
    return " ".join(s.text.strip() for s in segments)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def clips_bench(engine: SpeechEngine, clips: list[dict]) -> None:
    live, unprimed = StreamOptions(), replace(StreamOptions(), prime_prompt=False)
    rows = []
    total = {"audio": 0.0, "off_wall": 0.0, "off_cpu": 0.0, "st_wall": 0.0, "st_cpu": 0.0}
    for clip in clips:
        audio = clip["audio16k"]
        off_text, off_wall, off_cpu = timed(lambda: offline(engine, audio))
        st, st_wall, st_cpu = timed(lambda: asyncio.run(transcribe_audio(engine, audio, stream=live)))
        plain = asyncio.run(transcribe_audio(engine, audio, stream=unprimed))
        rows.append((clip["id"], clip["reference"], st.text, off_text, plain.text))
        total["audio"] += len(audio) / SAMPLE_RATE
        total["off_wall"] += off_wall
        total["off_cpu"] += off_cpu
        total["st_wall"] += st_wall
        total["st_cpu"] += st_cpu
        print(f"  {clip['id'][:44]:44s} stream {wer(clip['reference'], st.text):.3f}  "
              f"offline {wer(clip['reference'], off_text):.3f}  no-prompt {wer(clip['reference'], plain.text):.3f}",
              flush=True)
    a = total["audio"]
    print(f"clips: {len(clips)}, {a:.1f} s of audio")
    print(f"WER streaming (prompted):   {corpus_wer([(r, s) for _, r, s, _, _ in rows]):.4f}")
    print(f"WER offline faster-whisper: {corpus_wer([(r, o) for _, r, _, o, _ in rows]):.4f}")
    print(f"WER streaming, no prompt:   {corpus_wer([(r, p) for _, r, _, _, p in rows]):.4f}")
    print(f"RTF streaming {total['st_wall'] / a:.3f}  offline {total['off_wall'] / a:.3f} (wall s per audio s)")
    print(f"CPU s per audio s: streaming {total['st_cpu'] / a:.3f}  offline {total['off_cpu'] / a:.3f}  "
          f"ratio streaming/offline {total['st_cpu'] / total['off_cpu']:.2f}")


def long_answer(clips: list[dict], rng: np.random.Generator, done_after_s: float,
                min_s: float = 90.0) -> tuple[np.ndarray, str]:
    """Clips in random order with 1–3 s pauses; the answer ends ``done_after_s`` after the last clip."""
    parts, refs, t = [np.zeros(int(0.5 * SAMPLE_RATE), np.float32)], [], 0.5
    while t < min_s:
        for i in rng.permutation(len(clips)):
            if t >= min_s:
                break
            clip = clips[i]
            pause = np.zeros(int(rng.uniform(1.0, 3.0) * SAMPLE_RATE), np.float32)
            parts += [clip["audio16k"], pause]
            refs.append(clip["reference"])
            t += (len(clip["audio16k"]) + len(pause)) / SAMPLE_RATE
    parts[-1] = np.zeros(int(done_after_s * SAMPLE_RATE), np.float32)
    return np.concatenate(parts), " ".join(refs)


def latency_bench(engine: SpeechEngine, clips: list[dict], runs: int) -> None:
    rng = np.random.default_rng(2024)
    latencies, cpus, worst, tails, wers, durations, segments = [], [], [], [], [], [], []
    for run in range(runs):
        # even runs: "done" pressed the moment the last clip's audio ends (the worst case, the open
        # tail holds the last sentence); odd runs: 0.5 s later, when a pause commit may have run
        done_after_s = 0.0 if run % 2 == 0 else 0.5
        audio, reference = long_answer(clips, rng, done_after_s)

        async def go():
            listener = AnswerListener(engine, sample_rate=SAMPLE_RATE, timer_s=600,
                                      endpoint=EndpointOptions(end_silence_s=float("inf")))
            await replay(listener, audio)
            t0, c0 = time.perf_counter(), time.process_time()
            transcript = await listener.finish()
            return time.perf_counter() - t0, time.process_time() - c0, listener, transcript

        took, cpu, listener, transcript = asyncio.run(go())
        cpus.append(cpu)
        latencies.append(took)
        if done_after_s == 0.0:
            worst.append(took)
        tails.append(listener.finish_audio_s)
        wers.append(wer(reference, transcript.text))
        durations.append(len(audio) / SAMPLE_RATE)
        segments.append(len(transcript.segments))
        print(f"  answer {durations[-1]:.1f} s, done +{done_after_s:.1f} s: finish {took * 1000:.0f} ms "
              f"({cpu * 1000:.0f} ms CPU), decoded at finish "
              f"{tails[-1]:.1f} s, {segments[-1]} segments, {listener.decodes} decodes, WER {wers[-1]:.3f}",
              flush=True)
    print("end-of-answer latency (finish() → final transcript), "
          f"{runs} answers of ~{statistics.mean(durations):.0f} s: "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
          f"audio decoded at finish p50 {statistics.median(tails):.1f} s; long-answer WER p50 "
          f"{statistics.median(wers):.4f}")
    print(f"  of which 'done' at the very end of the last word's clip: p50 {statistics.median(worst) * 1000:.0f} ms; "
          f"CPU spent in finish() p50 {statistics.median(cpus) * 1000:.0f} ms (wall time includes waiting for "
          "a CPU on a shared machine)")


def prompt_bench(engine: SpeechEngine) -> None:
    batch = StreamOptions(live_partials=False)
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for i, (text, _) in enumerate(SPOKEN):
            path = Path(tmp) / f"s{i}.wav"
            subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
            audio = decode_file(path, SAMPLE_RATE)
            primed = asyncio.run(transcribe_audio(engine, audio, prompt_terms=TERMS, stream=batch)).text
            plain = asyncio.run(transcribe_audio(engine, audio, stream=replace(batch, prime_prompt=False))).text
            results.append((text, primed, plain))
            print(f"  prompt:    {primed}\n  no prompt: {plain}")
    print(f"espeak-ng jargon/filler sentences: WER with prompt {corpus_wer([(r, p) for r, p, _ in results]):.4f}, "
          f"without {corpus_wer([(r, q) for r, _, q in results]):.4f}")
    spoken = sum(sum(w in FILLERS for w in normalize(r)) for r, _, _ in results)
    kept = sum(min(sum(w in FILLERS for w in normalize(r)), sum(w in FILLERS for w in normalize(p)))
               for r, p, _ in results)
    kept_plain = sum(min(sum(w in FILLERS for w in normalize(r)), sum(w in FILLERS for w in normalize(q)))
                     for r, _, q in results)
    print(f"fillers kept (um/uh): with prompt {kept}/{spoken}, without {kept_plain}/{spoken}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=ROOT.parent / "shared/data/speech/manifest.jsonl")
    parser.add_argument("--runs", type=int, default=6, help="long answers for the latency figure (>= 5)")
    parser.add_argument("--model", help="model directory or cached name (default: embedded tiny.en)")
    parser.add_argument("--skip", nargs="*", default=(), choices=("clips", "latency", "prompt"))
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.manifest.read_text().splitlines() if line.strip()]
    for r in rows:
        r["audio16k"] = decode_file(args.manifest.parent / r["audio"], SAMPLE_RATE)
    (engine, load_s, _) = timed(lambda: SpeechEngine.load(TranscriberOptions(model=args.model)))
    print(f"model {engine.model_name} loaded and warmed up in {load_s:.1f} s "
          f"(beam {engine.options.beam_size}, {engine.options.compute_type})")
    if "clips" not in args.skip:
        clips_bench(engine, rows)
    if "latency" not in args.skip:
        latency_bench(engine, rows, args.runs)
    if "prompt" not in args.skip:
        prompt_bench(engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
