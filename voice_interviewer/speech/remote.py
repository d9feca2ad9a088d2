"""Finished stretches of an answer transcribed by an OpenAI-compatible server, the local model standing by.

A fleet of interview servers can hand the decodes that make an answer's transcript to a
speech server (speaches, faster-whisper-server, vLLM, OpenAI itself) through
``POST /v1/audio/transcriptions``, so each interview server stays small. What must
react within milliseconds stays local: voice activity, endpointing and live captions.

The turn budget rules every choice here. A request that fails (refused, HTTP error,
unreadable reply) or takes longer than ``timeout_s`` returns None and the caller
decodes with the local model; after such a failure the server is left alone for
``retry_after_s``, so a dead or overloaded server costs one slow turn, not every
turn. Retries are off for the same reason. Each failure is logged once with its
reason, and :class:`RemoteCounts` says how requests ended.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from ..errors import ConfigError
from ..transcript import Word
from ..wav import write_wav
from .engine import SAMPLE_RATE, Decoded
from .pcm import float_to_pcm16

log = logging.getLogger(__name__)

ENV_URL = "VOICE_INTERVIEWER_TRANSCRIPTION_URL"
ENV_API_KEY = "VOICE_INTERVIEWER_TRANSCRIPTION_API_KEY"
URL_FORM = "http://HOST:PORT/v1"


@dataclass(frozen=True)
class RemoteOptions:
    """Where finished answers are transcribed, and how long a turn may wait for it.

    Attributes:
        url: Base URL of the OpenAI-compatible API (``http://speech:8000/v1``); the request
            goes to ``<url>/audio/transcriptions``.
        model: Model name sent with each request (``whisper-1`` for most local servers).
        api_key: Bearer key, for servers that want one ($VOICE_INTERVIEWER_TRANSCRIPTION_API_KEY).
        timeout_s: Longest wait for one transcription before the local model takes over.
            The end of an answer waits this long at worst, plus a local decode of its
            last seconds (a few hundred ms), once per ``retry_after_s``.
        connect_timeout_s: Longest wait to connect; a server that is down fails at once.
        retry_after_s: After a failure, how long every decode stays local before the
            server is tried again.
        language: Spoken language sent with each request (None lets the server detect it).
    """

    url: str
    model: str = "whisper-1"
    api_key: str | None = None
    timeout_s: float = 1.0
    connect_timeout_s: float = 0.5
    retry_after_s: float = 30.0
    language: str | None = "en"

    def validate(self) -> "RemoteOptions":
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"transcription URL {self.url!r} is not an http(s) URL; expected {URL_FORM} "
                              f"(the base of an OpenAI-compatible API, as for /v1/audio/transcriptions)")
        if not 0 < self.timeout_s <= 60 or not 0 < self.connect_timeout_s <= 60 or self.retry_after_s < 0:
            raise ConfigError(f"transcription timeout {self.timeout_s:g} s must be above 0 and at most 60 s "
                              f"(it is how long an answer's end may wait for the server)")
        return self

    @classmethod
    def from_env(cls, url: str | None = None, **overrides: Any) -> "RemoteOptions | None":
        """Options from ``--transcription-url``, else ``$VOICE_INTERVIEWER_TRANSCRIPTION_URL``; None if neither."""
        url = url or os.environ.get(ENV_URL) or None
        if url is None:
            return None
        key = overrides.pop("api_key", None) or os.environ.get(ENV_API_KEY) or None
        return cls(url.rstrip("/"), api_key=key, **{k: v for k, v in overrides.items() if v is not None}).validate()


@dataclass
class RemoteCounts:
    """How requests to the transcription server ended since start-up.

    From outside, a dead server and a working one look the same (the local model fills
    in), so these say whether the server really transcribed: logs, the bench and the
    tests read them.

    Attributes:
        requests: Transcriptions asked of the server.
        answered: Of those, how many came back usable.
        failed: How many failed or took longer than ``timeout_s``.
        skipped: Decodes kept local without asking, during a pause after a failure.
        last_error: The reason of the latest failure ("" when none).
    """

    requests: int = 0
    answered: int = 0
    failed: int = 0
    skipped: int = 0
    last_error: str = ""


def wav_bytes(audio: np.ndarray) -> bytes:
    """16 kHz mono float audio as a WAV file in memory (what every transcription server reads)."""
    out = io.BytesIO()
    write_wav(out, float_to_pcm16(audio), SAMPLE_RATE)
    return out.getvalue()


def words_of(reply: Any, audio_s: float) -> tuple[Word, ...]:
    """Timed words from a transcription reply: its word timings when it has them (OpenAI, speaches),
    else each segment's words spread evenly over the segment, else the text over the whole audio."""
    words = _field(reply, "words")
    if words:
        return tuple(Word(str(_field(w, "word")).strip(), float(_field(w, "start")), float(_field(w, "end")))
                     for w in words if str(_field(w, "word") or "").strip())
    spans = [(float(_field(s, "start")), float(_field(s, "end")), str(_field(s, "text") or ""))
             for s in (_field(reply, "segments") or ())]
    if not spans:
        spans = [(0.0, audio_s, str(_field(reply, "text") or ""))]
    out: list[Word] = []
    for start, end, text in spans:
        tokens = text.split()
        step = max(end - start, 0.0) / max(len(tokens), 1)
        out += [Word(t, round(start + i * step, 3), round(start + (i + 1) * step, 3)) for i, t in enumerate(tokens)]
    return tuple(out)


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class RemoteTranscriber:
    """Transcribes stretches of audio on an OpenAI-compatible server; thread-safe, blocking calls.

    :meth:`transcribe` returns None whenever the caller should decode locally instead.
    """

    def __init__(self, options: RemoteOptions):
        import openai

        self.options = options.validate()
        self.counts = RemoteCounts()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._client = openai.OpenAI(
            base_url=options.url, api_key=options.api_key or "local", max_retries=0,
            timeout=openai.Timeout(options.timeout_s, connect=options.connect_timeout_s))
        self._errors: tuple[type[BaseException], ...] = (openai.OpenAIError, ValueError, TypeError)

    @property
    def available(self) -> bool:
        """False during the pause after a failure: decodes then go straight to the local model."""
        return time.monotonic() >= self._paused_until

    def transcribe(self, audio: np.ndarray, prompt: str | None = None, *,
                   timeout_s: float | None = None) -> Decoded | None:
        """The server's transcript of 16 kHz mono ``audio`` (≤ 30 s); None to decode locally.

        ``timeout_s`` overrides ``options.timeout_s`` (start-up may wait for the server to load)."""
        if not self.available:
            with self._lock:
                self.counts.skipped += 1
            return None
        with self._lock:
            self.counts.requests += 1
        o = self.options
        extra: dict[str, Any] = {"language": o.language} if o.language else {}
        if prompt:
            extra["prompt"] = prompt
        started = time.monotonic()
        client = self._client if timeout_s is None else self._client.with_options(timeout=timeout_s)
        try:
            reply = client.audio.transcriptions.create(
                file=("answer.wav", wav_bytes(audio), "audio/wav"), model=o.model,
                response_format="verbose_json", timestamp_granularities=["word", "segment"], **extra)
            decoded = Decoded(words_of(reply, len(audio) / SAMPLE_RATE), len(audio) / SAMPLE_RATE)
        except self._errors as exc:
            self._failed(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
                         time.monotonic() - started)
            return None
        with self._lock:
            self.counts.answered += 1
        return decoded

    def _failed(self, reason: str, took_s: float) -> None:
        with self._lock:
            self.counts.failed += 1
            self.counts.last_error = reason
            self._paused_until = time.monotonic() + self.options.retry_after_s
        log.warning("transcription server %s failed after %.2f s (%s); answers are transcribed by the local "
                    "model for the next %g s", self.options.url, took_s, reason, self.options.retry_after_s)

    def probe(self, timeout_s: float = 30.0) -> str | None:
        """Transcribe half a second of near-silence now; the reason it failed, or None when it answered.

        Run at start-up, so that a wrong URL is reported before the first candidate speaks
        (the server still starts: the local model covers until the endpoint answers), and so
        that a server which loads its model on first use has loaded it. Waits up to ``timeout_s``."""
        quiet = (np.random.default_rng(0).standard_normal(SAMPLE_RATE // 2) * 0.001).astype(np.float32)
        self._paused_until = 0.0
        if self.transcribe(quiet, timeout_s=timeout_s) is None:
            return self.counts.last_error
        return None

    def close(self) -> None:
        self._client.close()
