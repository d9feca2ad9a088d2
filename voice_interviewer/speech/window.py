"""Partial decodes take everything Whisper heard from one pass over its 30 s window.

A live caption (and an agreement hypothesis during unbroken speech) decodes audio cut
off mid-sentence. Whisper then leaves its last segment open, and faster-whisper drops
that segment and decodes the rest again from its start: a second pass over a new
30 s window (the encoder is most of a decode on a CPU) for a second or two of audio
the first pass had already transcribed. On the shared clips about a fifth of the
captions paid for two passes.

Inside :func:`one_window`, the model keeps the open segment's words, timed by the
same word alignment as the rest, and stops after the first window. Decodes that make
the transcript at a pause or at the end of an answer end in silence, where Whisper
closes its segments itself, and keep faster-whisper's behaviour.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_calls = threading.local()


@contextmanager
def one_window() -> Iterator[None]:
    """Model calls made by this thread inside the block decode one window only.

    Thread-local because the decode workers share one model: a caption on one worker
    must not change a final running on the other.
    """
    before = getattr(_calls, "one", False)
    _calls.one = True
    try:
        yield
    finally:
        _calls.one = before


def open_segment(tokens: list[int], consumed: int, timestamp_begin: int) -> list[int] | None:
    """The tokens Whisper left in an open segment after the ``consumed`` ones it closed, if any text."""
    rest = list(tokens[consumed:])
    return rest if any(t < timestamp_begin for t in rest) else None


def one_window_model_class() -> type:
    """faster-whisper's ``WhisperModel`` that, inside :func:`one_window`, keeps the open last segment.

    Built on demand so importing this module does not import faster-whisper. It overrides
    one private step (``_split_segments_by_timestamps``, faster-whisper 1.2; the version is
    locked); without it the model behaves exactly as faster-whisper's.
    """
    from faster_whisper import WhisperModel

    class OneWindowWhisperModel(WhisperModel):
        def _split_segments_by_timestamps(self, tokenizer: Any, tokens: list[int], time_offset: float,
                                          segment_size: int, segment_duration: float,
                                          seek: int) -> tuple[list[dict], int, bool]:
            segments, next_seek, closed = super()._split_segments_by_timestamps(
                tokenizer, tokens, time_offset, segment_size, segment_duration, seek)
            if closed or not getattr(_calls, "one", False):
                return segments, next_seek, closed
            rest = open_segment(tokens, sum(len(s["tokens"]) for s in segments), tokenizer.timestamp_begin)
            if rest is not None:
                first = rest[0] - tokenizer.timestamp_begin if rest[0] >= tokenizer.timestamp_begin else 0
                segments.append(dict(seek=seek, start=time_offset + first * self.time_precision,
                                     end=time_offset + segment_duration, tokens=rest))
            # "closed" also stops the word-timing step from seeking back to the last word
            return segments, seek + segment_size, True

    if not hasattr(WhisperModel, "_split_segments_by_timestamps"):
        return WhisperModel
    return OneWindowWhisperModel
