"""Caching, sentence streaming and background preparation around one blocking engine.

One worker thread owns the engine, so engines never run concurrently (they are not
thread-safe, and the machine's cores are needed for transcription). Work is
ordered by the same :class:`~voice_interviewer.speech.workers.PriorityWorkers` the
speech decoder uses: a live request is taken before any queued pre-synthesis, so
``prepare()`` never delays a turn by more than the one sentence already being
synthesised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from ...errors import AudioError
from ...text_utils import split_sentences
from ..pcm import resample_pcm16
from ..workers import PriorityWorkers
from .audio import silence, trim_silence
from .base import SpeechAudio

log = logging.getLogger(__name__)

LIVE, BACKGROUND = 0, 1
SENTENCE_GAP_S = 0.25  # pause between sentences, replacing the padding trimmed from each


class Engine(Protocol):
    """A blocking text-to-PCM engine; called from one thread only."""

    name: str
    voice_id: str
    rate_wpm: int | None
    sample_rate: int

    def synthesize_pcm(self, text: str) -> bytes: ...

    def close(self) -> None: ...


class LruCache:
    """A thread-safe LRU map; ``max_entries`` 0 keeps nothing."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._data: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple, value: bytes) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: tuple) -> bool:
        return key in self._data


class EngineSynthesizer:
    """The :class:`~voice_interviewer.speech.tts.base.Synthesizer` for any :class:`Engine`.

    Audio is cached per sentence under (engine, voice, rate, sentence), so a question
    prepared in the background is a cache hit when spoken whole or streamed.
    ``engine_calls`` counts real syntheses (for tests and benchmarks).
    ``fallback`` builds a second engine, used for any sentence the first one fails on.
    """

    def __init__(self, engine: Engine, *, cache_entries: int = 256,
                 fallback: Callable[[], Engine] | None = None):
        self.engine = engine
        self.name = engine.name
        self.sample_rate = engine.sample_rate
        self.engine_calls = 0
        self.cache = LruCache(cache_entries)
        self._fallback_factory = fallback
        self._fallback: Engine | None = None
        self._pending: dict[tuple, cf.Future] = {}
        self._pending_lock = threading.RLock()  # a call finished at once runs _forget inside _submit
        self._closed = False
        self._workers = PriorityWorkers(1, f"tts-{engine.name}")

    def key(self, sentence: str) -> tuple:
        return (self.engine.name, self.engine.voice_id, self.engine.rate_wpm, sentence)

    async def synthesize(self, text: str) -> SpeechAudio:
        sentences = _sentences(text)
        futures = [self._submit(s, LIVE) for s in sentences]
        parts = [await _result(f) for f in futures]
        return SpeechAudio(text, self._join(parts), self.sample_rate)

    async def stream(self, text: str) -> AsyncIterator[SpeechAudio]:
        sentences = _sentences(text)
        futures = [self._submit(s, LIVE) for s in sentences]
        for i, (sentence, fut) in enumerate(zip(sentences, futures)):
            pcm = await _result(fut)
            if i < len(sentences) - 1:
                pcm += silence(SENTENCE_GAP_S, self.sample_rate)
            yield SpeechAudio(sentence, pcm, self.sample_rate)

    def prepare(self, texts: Sequence[str]) -> None:
        for text in texts:
            for sentence in _sentences(text):
                if self.cache.get(self.key(sentence)) is None:
                    self._submit(sentence, BACKGROUND)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._workers.shutdown,
                                AudioError("the synthesizer was closed before this text was spoken"), 30.0)
        with self._pending_lock:
            self._pending.clear()
        await asyncio.to_thread(self.engine.close)
        if self._fallback is not None:
            await asyncio.to_thread(self._fallback.close)

    def _join(self, parts: list[bytes]) -> bytes:
        return silence(SENTENCE_GAP_S, self.sample_rate).join(parts)

    def _submit(self, sentence: str, priority: int) -> cf.Future:
        if self._closed:
            raise AudioError("the synthesizer is closed; create a new one with make_synthesizer()")
        key = self.key(sentence)
        done: cf.Future = cf.Future()
        cached = self.cache.get(key)
        if cached is not None:
            done.set_result(cached)
            return done
        with self._pending_lock:
            fut = self._pending.get(key)
            if fut is None or fut.done():
                fut = self._workers.submit(priority, self._synthesize_cached, sentence)
                self._pending[key] = fut
                fut.add_done_callback(functools.partial(self._forget, key))
            elif priority == LIVE:  # the sentence was being prepared in the background: needed now
                self._workers.promote(fut, LIVE)
        return fut

    def _forget(self, key: tuple, fut: cf.Future) -> None:
        with self._pending_lock:
            if self._pending.get(key) is fut:
                del self._pending[key]

    def _synthesize_cached(self, sentence: str) -> bytes:
        key = self.key(sentence)
        pcm = self.cache.get(key)
        if pcm is None:
            pcm = self._synthesize_now(sentence)
            self.cache.put(key, pcm)
        return pcm

    def _synthesize_now(self, sentence: str) -> bytes:
        self.engine_calls += 1
        try:
            pcm = self.engine.synthesize_pcm(sentence)
        except Exception as exc:
            if self._fallback_factory is None:
                raise
            log.warning("%s failed on %r (%s); using the fallback voice", self.name, sentence[:60], exc)
            if self._fallback is None:
                self._fallback = self._fallback_factory()
            raw = self._fallback.synthesize_pcm(sentence)
            pcm = resample_pcm16(raw, self._fallback.sample_rate, self.sample_rate)
        return trim_silence(pcm, self.sample_rate)


def _sentences(text: str) -> list[str]:
    return split_sentences(text)


async def _result(fut: cf.Future) -> bytes:
    """Await shared work; shielded so one cancelled caller does not cancel it for the others."""
    return await asyncio.shield(asyncio.wrap_future(fut))
