"""Cut a token stream into complete sentences, so speech can start on the first one.

Pure and incremental: feed text deltas as they arrive and take the sentences that
have become complete. A question mark ends a sentence at once (the interviewer
stops after its first question, so there is nothing to wait for); a full stop or
exclamation mark needs the following whitespace, so "3.5" and "e.g." inside a
sentence are not cut; a newline always ends a sentence.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "mr.", "ms.", "dr.")
_END = re.compile(r"\?|[.!](?=\s)|\n")


class SentenceBuffer:
    """Accumulates deltas; :meth:`feed` returns sentences completed by each one."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, delta: str) -> list[str]:
        self._pending += delta
        out: list[str] = []
        start = 0
        for match in _END.finditer(self._pending):
            end = match.end()
            candidate = self._pending[start:end]
            if match.group() == "." and candidate.rstrip().lower().endswith(_ABBREVIATIONS):
                continue
            if candidate.strip():
                out.append(" ".join(candidate.split()))
            start = end
        self._pending = self._pending[start:]
        return out

    def flush(self) -> list[str]:
        """The unfinished remainder when the stream ends (may be empty)."""
        rest, self._pending = " ".join(self._pending.split()), ""
        return [rest] if rest else []
