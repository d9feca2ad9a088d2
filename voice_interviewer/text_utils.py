"""Plain-text helpers shared by layers that must not depend on each other (channels, speech)."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def split_sentences(text: str) -> list[str]:
    """Split on sentence ends so long utterances can start playing after the first sentence."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
