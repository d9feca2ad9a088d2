"""The bookkeeping behind streaming transcription: the open tail and what may be committed.

Whisper sees 30 s at a time and costs the same to run on 2 s as on 30 s of audio,
so an answer of several minutes must never be re-transcribed from the start. The
listener keeps only the *open tail* (audio since the last commit) and closes it
in two ways:

* at a VAD pause the whole tail becomes one committed segment (the usual case:
  people breathe every few seconds);
* when someone speaks on without a pause, the longest common prefix of two
  consecutive hypotheses is committed (whisper_streaming's LocalAgreement-2) and
  the tail is cut after its last word, so the tail stays well under 30 s.

Nothing here calls a model or reads a clock; the listener does that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..transcript import Segment, Word
from .vocabulary import TERMS_IN_PROMPT

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class StreamOptions:
    """How often the open tail is decoded and when it is committed.

    Attributes:
        partial_interval_s: Audio seconds between partial decodes of the open tail
            (live captions and LocalAgreement both come from these).
        live_partials: Decode partials for live captions. When off (batch transcription),
            partials run only once the tail is long enough for LocalAgreement to need
            them, which saves most model calls and changes no committed text path.
        agreement_after_s: Tail length after which agreed words are committed even
            without a pause; below it the tail is simply committed at the next pause.
        max_tail_s: Tail length after which the hypothesis is committed up to
            ``edge_guard_s`` before the tail end even without agreement (Whisper's
            window is 30 s; the tail must never reach it).
        edge_guard_s: Words ending this close to the end of the decoded audio are never
            committed by agreement: they may still be cut off mid-word.
        lead_silence_s: Silence kept before speech in the tail (Whisper needs a little
            onset; long silent lead-ins invite hallucinated text).
        cut_keep_s: Silence kept at the start of the next tail after a pause commit.
        min_segment_speech_s: A closed tail with less VAD speech than this (a click, a
            breath) is dropped, not decoded: Whisper invents words for such noise.
        reuse_margin_s: A partial hypothesis whose audio extends this far past the last
            speech of a closed tail is committed as is instead of decoding the tail again
            (at finish this removes the final decode from the end-of-answer latency).
        speculate_after_silence_s: Silence after speech at which the tail is decoded at
            once (live mode), so the pause commit or a "done" that follows finds the text
            ready. Above the gaps between words (~0.3 s), below ``commit_pause_s``, and at
            least ``reuse_margin_s`` so the result can be reused.
        prime_prompt: Prime decoding with a disfluent example so "um"/"uh" are kept.
        terms_in_prompt: Add the role's vocabulary to the priming prompt. Off by default: it
            spells jargon the prompt's way but costs ordinary words (see ``vocabulary``).
        context_chars: Characters of committed text passed as decoding context.
    """

    partial_interval_s: float = 1.0
    live_partials: bool = True
    agreement_after_s: float = 8.0
    max_tail_s: float = 20.0
    edge_guard_s: float = 1.0
    lead_silence_s: float = 0.5
    cut_keep_s: float = 0.2
    min_segment_speech_s: float = 0.1
    reuse_margin_s: float = 0.3
    speculate_after_silence_s: float = 0.4
    prime_prompt: bool = True
    terms_in_prompt: bool = TERMS_IN_PROMPT
    context_chars: int = 200


_NORM = re.compile(r"[^\w']+")


def norm_word(text: str) -> str:
    """A word as compared between hypotheses: lower case, no punctuation."""
    return _NORM.sub("", text.lower())


def agreed_prefix(previous: Sequence[Word], current: Sequence[Word]) -> list[Word]:
    """The longest common prefix of two hypotheses, by normalised text (taken from ``current``)."""
    n = 0
    for a, b in zip(previous, current):
        if norm_word(a.text) != norm_word(b.text):
            break
        n += 1
    return list(current[:n])


TRAILING_WORD_MIN_PROBABILITY = 0.15
"""Below this, a word at the very end of a decode that starts after the speech ended is dropped."""


SILENT_WORD_SLACK_S = 1.0  # a word starting this long after the VAD's last speech was heard in silence
LOOP_MIN_REPEATS = 3
LOOP_MAX_NGRAM = 6


def _trailing_loop_start(words: Sequence[Word]) -> int:
    """Index where a trailing repetition loop begins ("a little bit of a little bit of a little
    bit of"), or ``len(words)`` when the words do not end in one. Whisper falls into such loops
    over silence; people do not say the same phrase three times running to end an answer."""
    texts = [w.text.strip().lower().strip(".,!?") for w in words]
    for n in range(1, LOOP_MAX_NGRAM + 1):
        gram = texts[-n:] if len(texts) >= n else None
        repeats, at = 0, len(texts)
        while gram and at - n >= 0 and texts[at - n:at] == gram:
            repeats, at = repeats + 1, at - n
        if repeats >= LOOP_MIN_REPEATS:
            return at
    return len(words)


KNOWN_PHANTOMS: frozenset[str] = frozenset({
    "thank you", "thank you very much", "thank you so much", "thanks", "thanks for watching",
    "thank you for watching", "thanks for listening", "thank you for listening",
    "see you next time", "well see you next time", "see you in the next video",
    "ill see you in the next video", "please subscribe", "subscribe to my channel",
    "like and subscribe", "thats it", "bye bye",
})
"""Phrases Whisper is known to produce over silence and noise (its training data's video
endings), normalised like :func:`phrase_key`. Real candidates say some of them too ("thank you"
to close an answer), so a phrase from this list is only dropped where the VAD heard no speech
(see :func:`drop_trailing_hallucinations`). Single common words ("you", "so", "bye") are not
listed: a real last word of that kind also starts just before the speech ends; the timing and
probability rules catch them when they are invented."""

PHANTOM_LEADS = frozenset({"and", "so", "okay", "well", "um", "uh"})
"""Connectives Whisper puts before a phantom phrase ("and we'll see you next time")."""

PHANTOM_MAX_WORDS = 7
PHANTOM_SPEECH_OVERLAP_S = 0.3
"""A phantom phrase must start at least this long before the VAD's last speech to count as
heard: a real closing "thank you" starts some 0.5 s before the speech ends, while the invented
one is placed after it (or squeezed into the last few hundred milliseconds of audio)."""

PHANTOM_MIN_PROBABILITY = 0.5
"""Below this mean word probability a known phantom phrase is dropped wherever it starts."""


def phrase_key(words: Sequence[Word]) -> str:
    """Words as compared with :data:`KNOWN_PHANTOMS`: lower case, no punctuation or apostrophes."""
    return " ".join(norm_word(w.text).replace("'", "") for w in words).strip()


def _trailing_phantom_start(words: Sequence[Word], speech_end_s: float) -> int:
    """Index where a trailing known phantom phrase begins, or ``len(words)`` if there is none.

    The longest match wins, with its leading connectives; it counts as a phantom when it starts
    where the VAD heard no speech or the model was unsure of it.
    """
    n_words = len(words)
    for n in range(min(PHANTOM_MAX_WORDS, n_words), 0, -1):
        tail = words[n_words - n:]
        if phrase_key(tail) not in KNOWN_PHANTOMS:
            continue
        at = n_words - n
        while at > 0 and norm_word(words[at - 1].text) in PHANTOM_LEADS:
            at -= 1
        unheard = tail[0].start_s >= speech_end_s - PHANTOM_SPEECH_OVERLAP_S
        unsure = sum(w.probability for w in tail) / n < PHANTOM_MIN_PROBABILITY
        if unheard or unsure:
            return at
    return n_words


def drop_trailing_hallucinations(words: Sequence[Word], speech_end_s: float,
                                 slack_s: float = 0.3) -> tuple[Word, ...]:
    """Remove the words Whisper invents after the last word.

    Four kinds, all at the end of a decode that runs into silence: words that start well
    after the VAD last heard speech (``SILENT_WORD_SLACK_S``), a repetition loop, a known phantom
    phrase ("Thank you.", "and we'll see you next time.") that the VAD did not hear, and
    improbable single words ("in.", "And...") that start near or after the end of speech. Only
    trailing words are candidates, so a quiet real word in the middle is never touched. Repeated
    until nothing changes: a phantom may hide another ("Thank you. Bye.").
    """
    out = list(words)
    while True:
        before = len(out)
        while out and out[-1].start_s >= speech_end_s + SILENT_WORD_SLACK_S:
            out.pop()
        out = out[:_trailing_loop_start(out)]
        out = out[:_trailing_phantom_start(out, speech_end_s)]
        while (out and out[-1].probability < TRAILING_WORD_MIN_PROBABILITY
               and out[-1].start_s >= speech_end_s - slack_s):
            out.pop()
        if len(out) == before:
            return tuple(out)


def shift(words: Sequence[Word], offset_s: float) -> tuple[Word, ...]:
    """Words moved from tail time to answer time."""
    return tuple(Word(w.text, w.start_s + offset_s, w.end_s + offset_s, w.probability) for w in words)


def join_words(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def make_segment(words: Sequence[Word]) -> Segment:
    return Segment(join_words(words), words[0].start_s, words[-1].end_s, tuple(words))


@dataclass(frozen=True)
class TailJob:
    """A closed stretch of the tail waiting to be decoded and committed.

    Attributes:
        audio: 16 kHz mono float samples.
        start_s: Answer time of the first sample.
        generation: Tail generation it was cut from (hypotheses of that generation cover it).
        speech_end_s: Answer time the VAD last heard speech in it: a hypothesis decoded on
            audio reaching a little past this already heard every word, and is reused.
        final: The last job of the answer (created by ``finish``).
    """

    audio: np.ndarray
    start_s: float
    generation: int
    speech_end_s: float
    final: bool = False


class TailBuffer:
    """Audio since the last commit, positioned in answer time."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._n = 0
        self.start_s = 0.0
        self.generation = 0
        self.speech_s = 0.0  # VAD speech inside the tail

    @property
    def duration_s(self) -> float:
        return self._n / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def append(self, audio: np.ndarray) -> None:
        if len(audio):
            self._chunks.append(np.asarray(audio, dtype=np.float32))
            self._n += len(audio)

    def audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.float32)

    def cut(self, at_s: float, speech_end_s: float) -> TailJob:
        """Close the tail up to ``at_s``; what follows becomes the next tail (a new generation)."""
        data = self.audio()
        k = int(round((min(max(at_s, self.start_s), self.end_s) - self.start_s) * SAMPLE_RATE))
        job = TailJob(data[:k].copy(), self.start_s, self.generation, speech_end_s)
        self._drop(k)
        return job

    def drop_before(self, at_s: float, *, new_generation: bool = True) -> None:
        """Forget audio before ``at_s`` (already committed, or silence before speech)."""
        k = int(round((min(max(at_s, self.start_s), self.end_s) - self.start_s) * SAMPLE_RATE))
        if k:
            self._drop(k, new_generation=new_generation)

    def _drop(self, k: int, *, new_generation: bool = True) -> None:
        data = self.audio()
        rest = data[k:].copy()
        self._chunks = [rest] if len(rest) else []
        self._n = len(rest)
        self.start_s += k / SAMPLE_RATE
        if new_generation:
            self.generation += 1
            self.speech_s = 0.0
