"""Speech benchmark: accuracy, speed and end-of-answer latency of the streaming path.

Run from the repository root::

    .venv/bin/python bench/asr.py [--manifest PATH] [--runs 5] [--model M] [--skip latency ...] [--choices 0 1]

Prints, on the shared clips (text normalised: lower case, no punctuation):

* WER of the streaming path (live settings, the role's vocabulary handed over as the
  server does) and of plain offline faster-whisper with the same model, and of
  streaming without the priming prompt;
* real-time factor (wall seconds per audio second) of both, and CPU seconds per
  audio second (``time.process_time``, all threads) of streaming ÷ offline;
* latency from ``finish()`` to the final transcript for ~90 s answers built from
  the clips joined with 1–3 s pauses (p50 over ``--runs`` runs), and how much
  audio ``finish()`` still had to decode;
* WER with and without the opt-in terms prompt on espeak-ng sentences full of jargon
  and fillers, and how many of the spoken fillers survive;
* each biasing choice (no prompt, the disfluent example, the role's terms in the prompt
  or as faster-whisper hotwords, only the current question's terms): streaming WER on
  the clips, its ratio to offline, WER and fillers kept on the jargon sentences
  (``--choices`` picks some);
* phantom words (``wer.inserted_words``) in the transcript and the worst live caption
  on a long answer with 3–5 s pauses, on 60 s of silence and on 60 s of room noise.

Streaming runs replay audio as fast as the model keeps up, waiting after each
frame for the decodes it scheduled (see ``listener.replay``), so CPU and results
are those of a live answer; the figures are noisy when other work shares the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_interviewer.bank import Bank, Question, load_bank  # noqa: E402
from voice_interviewer.speech.audio_io import decode_file  # noqa: E402
from voice_interviewer.speech.engine import SAMPLE_RATE, Decoded, SpeechEngine, TranscriberOptions  # noqa: E402
from voice_interviewer.speech.listener import (  # noqa: E402
    AnswerListener,
    EndpointOptions,
    ListenerEvent,
    StreamOptions,
    replay,
    transcribe_audio,
)
from voice_interviewer.speech.signals import answer_with_pauses, room_noise, silence  # noqa: E402
from voice_interviewer.speech.vocabulary import build_prompt, clean_terms  # noqa: E402
from voice_interviewer.speech.wer import corpus_wer, inserted_words, normalize, wer  # noqa: E402

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
SPOKEN_QUESTIONS = ("design-ml-platform", "feature-store", "model-and-data-drift",
                    "monitoring-beyond-service-metrics")
"""The bank question each SPOKEN sentence answers, for the question-relevant choices."""
BANK = ROOT / "rubrics" / "mlops-engineer.yaml"


def offline(engine: SpeechEngine, audio: np.ndarray) -> str:
    segments, _ = engine.model.transcribe(audio, language=engine.options.language,
                                          beam_size=engine.options.beam_size)
    return " ".join(s.text.strip() for s in segments)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def clips_bench(engine: SpeechEngine, clips: list[dict], vocabulary: Sequence[str]) -> None:
    """The product's defaults (the role's vocabulary handed over as the server does) against offline."""
    live, unprimed = StreamOptions(), replace(StreamOptions(), prime_prompt=False)
    rows = []
    total = {"audio": 0.0, "off_wall": 0.0, "off_cpu": 0.0, "st_wall": 0.0, "st_cpu": 0.0}
    for clip in clips:
        audio = clip["audio16k"]
        off_text, off_wall, off_cpu = timed(lambda: offline(engine, audio))
        st, st_wall, st_cpu = timed(lambda: asyncio.run(transcribe_audio(engine, audio, prompt_terms=vocabulary,
                                                                          stream=live)))
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
    print(f"WER streaming (defaults):   {corpus_wer([(r, s) for _, r, s, _, _ in rows]):.4f}")
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
    """The opt-in terms prompt (``transcribe --terms``) against no prompt on the jargon sentences."""
    batch = StreamOptions(live_partials=False, terms_in_prompt=True)
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


def question_terms(question: Question, vocabulary: Sequence[str]) -> list[str]:
    """The vocabulary terms the question itself uses (text, key points, strong answer), in vocabulary
    order: the jargon an answer to it is likely to contain."""
    text = " ".join([question.text, question.strong_answer,
                     *(f"{kp.statement} {' '.join(kp.phrasings)}" for kp in question.key_points)])
    return [t for t in vocabulary if t.strip()
            and re.search(rf"(?<!\w){re.escape(t.strip())}(?!\w)", text, re.IGNORECASE)]


@dataclass(frozen=True)
class Choice:
    """One way to bias decoding towards the role's jargon (and towards keeping fillers).

    Attributes:
        fillers: The disfluent example opens the prompt (keeps "um"/"uh").
        terms: ``""`` no terms, ``"prompt"`` the terms as a sentence in the prompt (``We use …``),
            ``"hotwords"`` the bare terms as faster-whisper hotwords.
        question: Only the terms the current question uses, instead of the role's list.
    """

    name: str
    fillers: bool
    terms: str = ""
    question: bool = False

    def __post_init__(self) -> None:
        if self.terms == "prompt" and not self.fillers:
            raise ValueError(f"choice {self.name!r}: a terms prompt is built with the fillers (build_prompt)")

    def bias(self, vocabulary: Sequence[str], question: Sequence[str]) -> tuple[str | None, str | None]:
        """``(prompt prefix, hotwords)`` for decodes of an answer to a question with these terms."""
        terms = clean_terms(question if self.question else vocabulary)
        # The prompt's wording of terms lives in build_prompt alone; every prompt choice has the fillers.
        prefix = (build_prompt(terms if self.terms == "prompt" else (), "", terms_in_prompt=True)
                  if self.fillers else None)
        return prefix, ", ".join(terms) if self.terms == "hotwords" and terms else None


CHOICES = (
    Choice("none", fillers=False),
    Choice("fillers only", fillers=True),
    Choice("today: fillers+terms prompt", fillers=True, terms="prompt"),
    Choice("fillers + hotwords", fillers=True, terms="hotwords"),
    Choice("hotwords only", fillers=False, terms="hotwords"),
    Choice("fillers + question prompt", fillers=True, terms="prompt", question=True),
    Choice("fillers + question hotwords", fillers=True, terms="hotwords", question=True),
)


class BiasedEngine(SpeechEngine):
    """The shared model, decoding with one choice's prefix and hotwords in front of the listener's
    own prompt. Listeners run unprimed, so their prompt is the committed context alone and the
    choice decides all the biasing; ``today`` then sends exactly what the product sends."""

    def __init__(self, base: SpeechEngine):
        super().__init__(base.model, base.options, base.model_name)
        self.prefix: str | None = None
        self.hotwords: str | None = None

    def decode(self, audio: np.ndarray, prompt: str | None = None, *, hotwords: str | None = None,
               one_pass: bool = False) -> Decoded:
        text = " ".join(p for p in (self.prefix, prompt) if p) or None
        return super().decode(audio, text, hotwords=self.hotwords, one_pass=one_pass)


def stream_with(engine: BiasedEngine, audio: np.ndarray, choice: Choice, vocabulary: Sequence[str],
                question: Sequence[str], stream: StreamOptions,
                on_event=None) -> str:
    engine.prefix, engine.hotwords = choice.bias(vocabulary, question)
    unprimed = replace(stream, prime_prompt=False)
    return asyncio.run(transcribe_audio(engine, audio, stream=unprimed, on_event=on_event)).text


def espeak_sentences(tmp: Path) -> list[np.ndarray]:
    out = []
    for i, (text, _) in enumerate(SPOKEN):
        path = tmp / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
        out.append(decode_file(path, SAMPLE_RATE))
    return out


def fillers_kept(pairs: list[tuple[str, str]]) -> tuple[int, int]:
    """(fillers kept, fillers spoken) over ``(reference, hypothesis)`` pairs."""
    def count(text: str) -> int:
        return sum(w in FILLERS for w in normalize(text))
    return sum(min(count(r), count(h)) for r, h in pairs), sum(count(r) for r, _ in pairs)


def bias_bench(base: SpeechEngine, clips: list[dict], bank: Bank, choices: Sequence[Choice]) -> None:
    """Each biasing choice on the general clips (live streaming) and on the jargon sentences."""
    engine = BiasedEngine(base)
    live, batch = StreamOptions(), StreamOptions(live_partials=False)
    vocabulary = bank.vocabulary
    asked = [question_terms(q, vocabulary) for q in bank.questions]
    offline_texts = [offline(base, c["audio16k"]) for c in clips]
    off = corpus_wer([(c["reference"], o) for c, o in zip(clips, offline_texts)])
    with tempfile.TemporaryDirectory() as tmp:
        spoken_audio = espeak_sentences(Path(tmp))
    spoken_terms = [question_terms(bank.question(q), TERMS) for q in SPOKEN_QUESTIONS]
    print(f"biasing choices; general clips: the bank's vocabulary ({len(clean_terms(vocabulary))} terms reach "
          "the prompt), question terms of the bank's questions in turn; jargon sentences: the bench's TERMS")
    print(f"offline faster-whisper on the general clips: WER {off:.4f}")
    print(f"{'choice':30s} {'general WER':>11s} {'÷ offline':>9s} {'jargon WER':>10s} {'fillers':>7s}  seconds")
    for choice in choices:
        t0 = time.perf_counter()
        general = [stream_with(engine, c["audio16k"], choice, vocabulary, asked[i % len(asked)], live)
                   for i, c in enumerate(clips)]
        g = corpus_wer([(c["reference"], h) for c, h in zip(clips, general)])
        jargon = [(text, stream_with(engine, a, choice, TERMS, q, batch))
                  for (text, _), a, q in zip(SPOKEN, spoken_audio, spoken_terms)]
        kept, spoken = fillers_kept(jargon)
        print(f"{choice.name:30s} {g:11.4f} {g / off:8.2f}x {corpus_wer(jargon):10.4f} {kept:4d}/{spoken:<2d} "
              f"{time.perf_counter() - t0:7.0f}", flush=True)
        for c, h, o in zip(clips, general, offline_texts):
            if wer(c["reference"], h) > wer(c["reference"], o):
                print(f"    worse than offline on {c['id'][:40]}: {h!r}")
        for _, h in jargon:
            print(f"    jargon: {h}")
    engine.close()


def phantom_bench(base: SpeechEngine, clips: list[dict], bank: Bank, choices: Sequence[Choice]) -> None:
    """Words invented on a long answer with 3–5 s pauses, and on 60 s of silence and of room noise.

    Streaming path with live captions, ended by "done"; counted in the transcript and in the
    worst caption (``wer.inserted_words``). Target: 0 everywhere.
    """
    engine = BiasedEngine(base)
    chosen = sorted(clips, key=lambda c: c["duration"])[:6]
    answer, reference = answer_with_pauses([(c["audio16k"], c["reference"]) for c in chosen], (3.0, 5.0), seed=11)
    signals = (("answer, 3-5 s pauses", answer, reference), ("60 s silence", silence(60.0), ""),
               ("60 s room noise", room_noise(60.0), ""))
    terms = question_terms(bank.questions[0], bank.vocabulary)
    print(f"phantom words (inserted words: transcript / worst caption); answer of {len(answer) / SAMPLE_RATE:.0f} s")
    for choice in choices:
        cells = []
        for _, audio, ref in signals:
            captions: list[str] = []

            async def on_event(event: ListenerEvent, captions: list[str] = captions) -> None:
                if event.kind == "partial":
                    captions.append(event.text)

            engine.prefix, engine.hotwords = choice.bias(bank.vocabulary, terms)

            async def go(audio: np.ndarray = audio) -> str:
                listener = AnswerListener(engine, sample_rate=SAMPLE_RATE, timer_s=600, on_event=on_event,
                                          endpoint=EndpointOptions(end_silence_s=float("inf")),
                                          stream=StreamOptions(prime_prompt=False))
                await replay(listener, audio)
                return (await listener.finish()).text

            text = asyncio.run(go())
            invented = inserted_words(ref, text)
            worst = max((len(inserted_words(ref, c)) for c in captions), default=0)
            cells.append(f"{len(invented)} / {worst}")
            if invented:
                print(f"    {choice.name}: invented {invented}")
        print(f"  {choice.name:30s} " + "   ".join(f"{n}: {c}" for (n, _, _), c in zip(signals, cells)), flush=True)
    engine.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=ROOT.parent / "shared/data/speech/manifest.jsonl")
    parser.add_argument("--runs", type=int, default=6, help="long answers for the latency figure (>= 5)")
    parser.add_argument("--model", help="model directory or cached name (default: embedded tiny.en)")
    parser.add_argument("--skip", nargs="*", default=(),
                        choices=("clips", "latency", "prompt", "bias", "phantoms"))
    parser.add_argument("--choices", nargs="*", metavar="N", type=int,
                        help="biasing choices to compare, by number: " +
                             ", ".join(f"{i} {c.name}" for i, c in enumerate(CHOICES)) + " (default: all)")
    args = parser.parse_args(argv)
    choices = [CHOICES[i] for i in args.choices] if args.choices else list(CHOICES)
    bank = load_bank(BANK)
    rows = [json.loads(line) for line in args.manifest.read_text().splitlines() if line.strip()]
    for r in rows:
        r["audio16k"] = decode_file(args.manifest.parent / r["audio"], SAMPLE_RATE)
    (engine, load_s, _) = timed(lambda: SpeechEngine.load(TranscriberOptions(model=args.model)))
    print(f"model {engine.model_name} loaded and warmed up in {load_s:.1f} s "
          f"(beam {engine.options.beam_size}, {engine.options.compute_type})")
    if "clips" not in args.skip:
        clips_bench(engine, rows, bank.vocabulary)
    if "latency" not in args.skip:
        latency_bench(engine, rows, args.runs)
    if "prompt" not in args.skip:
        prompt_bench(engine)
    if "bias" not in args.skip:
        bias_bench(engine, rows, bank, choices)
    if "phantoms" not in args.skip:
        phantom_bench(engine, rows, bank, choices)
    return 0


if __name__ == "__main__":
    sys.exit(main())
