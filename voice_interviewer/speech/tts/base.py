"""What every speech engine produces and promises, independent of the engine.

Channels (browser, desktop) only ever see these types, so switching between the
neural Piper voice and the pyttsx3/espeak-ng voice changes nothing for them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

ENGINES = ("piper", "pyttsx3")
ENV_ENGINE = "VOICE_INTERVIEWER_VOICE_ENGINE"
ENV_VOICE = "VOICE_INTERVIEWER_VOICE"


@dataclass(frozen=True)
class SpeechAudio:
    """One piece of synthesised speech.

    Attributes:
        text: The text that was spoken.
        pcm16: Mono little-endian signed 16-bit PCM samples.
        sample_rate: Samples per second of ``pcm16`` (Hz).
    """

    text: str
    pcm16: bytes
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self.pcm16) / 2 / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class VoiceOptions:
    """How the interviewer should sound.

    Attributes:
        engine: "piper" (neural, natural), "pyttsx3" (espeak-ng on Linux, SAPI5/NSSpeech
            elsewhere) or None for automatic: Piper when it is installed and its voice loads,
            else pyttsx3. Env ``VOICE_INTERVIEWER_VOICE_ENGINE`` applies when None.
        voice: For piper, the path to a ``.onnx`` voice with its ``.onnx.json`` beside it
            (None = the bundled joe-us voice); for pyttsx3, a voice id or name
            (None = the system default). Env ``VOICE_INTERVIEWER_VOICE`` applies when None.
        rate_wpm: Speaking rate in words per minute (None = the engine's natural rate,
            about 160-180 wpm). Useful range 80-400.
        cache_entries: How many synthesised texts to keep in memory (LRU); 0 disables the cache.
    """

    engine: str | None = None
    voice: str | None = None
    rate_wpm: int | None = None
    cache_entries: int = 256

    def resolved(self) -> "VoiceOptions":
        """Apply the environment variables to the fields left as None."""
        engine = self.engine if self.engine is not None else (os.environ.get(ENV_ENGINE) or None)
        voice = self.voice if self.voice is not None else (os.environ.get(ENV_VOICE) or None)
        return VoiceOptions(engine=engine.strip().lower() if engine else None, voice=voice,
                            rate_wpm=self.rate_wpm, cache_entries=self.cache_entries)


class Synthesizer(Protocol):
    """Turns interviewer text into PCM; one per server/desktop process, shared by sessions.

    ``name`` is the engine actually in use ("piper" or "pyttsx3") and ``sample_rate``
    the rate (Hz) of every :class:`SpeechAudio` it returns.
    """

    name: str
    sample_rate: int

    async def synthesize(self, text: str) -> SpeechAudio:
        """The whole text as one piece of audio; cached by (engine, voice, rate, text)."""

    def stream(self, text: str) -> AsyncIterator[SpeechAudio]:
        """The text sentence by sentence: the first chunk is yielded as soon as it is ready."""

    def prepare(self, texts: Sequence[str]) -> None:
        """Pre-synthesise ``texts`` in the background (live requests go first); returns at once."""

    async def close(self) -> None:
        """Stop background work and release the engine."""
