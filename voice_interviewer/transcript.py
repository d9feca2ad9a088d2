"""Transcript types shared by speech (which produces them) and scoring (which reads them).

Kept apart from both so that scoring never imports the speech stack and a typed
answer (text mode) is just a :class:`Transcript` without word timings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognised word; times are seconds from the start of the answer audio."""

    text: str
    start_s: float
    end_s: float
    probability: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "probability": round(self.probability, 3)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Word":
        return cls(str(d["text"]), float(d["start_s"]), float(d["end_s"]), float(d.get("probability", 1.0)))


@dataclass(frozen=True)
class Segment:
    """A committed stretch of speech (between VAD pauses)."""

    text: str
    start_s: float
    end_s: float
    words: tuple[Word, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "words": [w.to_dict() for w in self.words]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Segment":
        return cls(str(d["text"]), float(d["start_s"]), float(d["end_s"]),
                   tuple(Word.from_dict(w) for w in d.get("words", ())))


@dataclass(frozen=True)
class Transcript:
    """What the candidate said in one answer.

    Attributes:
        text: The full text, fillers kept ("um", "uh") so delivery can count them.
        words: Word timings when the answer was spoken; empty for typed answers.
        segments: Committed segments when spoken; empty for typed answers.
        duration_s: Length of the answer audio (or time taken to type), if known.
        speech_start_s: When speech began within the audio (silence before it is not the answer).
    """

    text: str
    words: tuple[Word, ...] = ()
    segments: tuple[Segment, ...] = ()
    duration_s: float | None = None
    speech_start_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "words": [w.to_dict() for w in self.words],
                "segments": [s.to_dict() for s in self.segments], "duration_s": self.duration_s,
                "speech_start_s": self.speech_start_s}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Transcript":
        return cls(str(d.get("text", "")), tuple(Word.from_dict(w) for w in d.get("words", ())),
                   tuple(Segment.from_dict(s) for s in d.get("segments", ())),
                   d.get("duration_s"), d.get("speech_start_s"))

    @classmethod
    def join(cls, parts: "list[Transcript]") -> "Transcript":
        """Concatenate several answers (main + follow-ups), shifting word times so they stay ordered."""
        words: list[Word] = []
        segments: list[Segment] = []
        offset = 0.0
        total: float | None = 0.0
        for p in parts:
            words += [Word(w.text, w.start_s + offset, w.end_s + offset, w.probability) for w in p.words]
            segments += [Segment(s.text, s.start_s + offset, s.end_s + offset,
                                 tuple(Word(w.text, w.start_s + offset, w.end_s + offset, w.probability)
                                       for w in s.words)) for s in p.segments]
            if p.duration_s is None:
                total = None
            elif total is not None:
                total += p.duration_s
            offset += p.duration_s or (p.words[-1].end_s if p.words else 0.0)
        text = " ".join(p.text.strip() for p in parts if p.text.strip())
        return cls(text, tuple(words), tuple(segments), total, parts[0].speech_start_s if parts else None)



def word_char_ranges(text: str, words: "tuple[Word, ...] | list[Word]") -> list[tuple[int, int] | None]:
    """Character range in ``text`` of each timed word, aligned in order; None where a word is not found.

    The one aligner between a transcript's text and its word timings: evidence quotes,
    injection stripping and LLM quotes all need to know which seconds a span of text
    was spoken at. Punctuation on a word is ignored, and a word is only looked for a
    little ahead of the previous one, so a common word never jumps to a far match.
    """
    out: list[tuple[int, int] | None] = []
    cursor = 0
    lowered = text.lower()
    for w in words:
        needle = w.text.strip().lower().strip(".,!?;:\"'()")
        pos = lowered.find(needle, cursor) if needle else -1
        if pos < 0 or pos - cursor > 40 + len(needle) * 4:
            out.append(None)
            continue
        out.append((pos, pos + len(needle)))
        cursor = pos + len(needle)
    return out
