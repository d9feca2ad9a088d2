"""The decoding prompt: a disfluent example, optionally the role's vocabulary, and committed context.

Whisper imitates the style and spelling of its prompt. Trained mostly on clean
subtitles, it drops "um"/"uh" unless the prompt itself is disfluent, and it
spells jargon ("MLflow", "KServe") the way the prompt does. But a list of jargon
in the prompt also pulls ordinary words towards odd spellings ("as dinosaurs" →
"as a nurse or as"), and candidates mostly say ordinary words: measured with
``bench/asr.py`` (``docs/decisions.md``, *Speech*), the role's terms in the prompt
raised the word errors on general speech to 1.8x plain offline Whisper while the
disfluent example alone stayed below it and kept the same jargon-sentence WER. So
by default the prompt carries the disfluent example and the committed context
only; the terms are an opt-in (``transcribe --terms``, ``StreamOptions.terms_in_prompt``).

The prompt is kept short: faster-whisper keeps only the last ~220 prompt tokens, a
long prompt slows every decode, and a small model given a long list starts to repeat it.
"""

from __future__ import annotations

from collections.abc import Sequence

FILLER_EXAMPLE = "Um, so, uh, I think, um, yeah."
"""Disfluent opening that keeps fillers in the transcript. No ellipsis: Whisper copies it."""
MAX_TERMS = 16
TERMS_IN_PROMPT = False
"""Whether the role's terms join the prompt by default (see the module docstring for why not)."""
MAX_TERMS_CHARS = 160


def clean_terms(terms: Sequence[str]) -> list[str]:
    """Unique, non-empty terms in their given order, capped in number and length."""
    seen: set[str] = set()
    out: list[str] = []
    used = 0
    for term in terms:
        t = " ".join(str(term).split())
        key = t.lower()
        if not t or key in seen:
            continue
        if len(out) >= MAX_TERMS or used + len(t) > MAX_TERMS_CHARS:
            break
        seen.add(key)
        out.append(t)
        used += len(t) + 2
    return out


def build_prompt(terms: Sequence[str], committed_text: str, *, prime: bool = True,
                 terms_in_prompt: bool = TERMS_IN_PROMPT, context_chars: int = 200) -> str | None:
    """The ``initial_prompt`` for the next decode, or ``None`` when there is nothing to say.

    Priming (disfluent example, then the terms when ``terms_in_prompt``) comes first; the
    most recent committed text comes last, because Whisper reads the prompt as the text
    just before the audio.
    """
    parts: list[str] = []
    if prime:
        vocab = clean_terms(terms) if terms_in_prompt else []
        parts.append(FILLER_EXAMPLE)
        if vocab:
            parts.append(f"We use {', '.join(vocab)}.")
    context = committed_text.strip()
    if context and context_chars > 0:
        if len(context) > context_chars:
            cut = context[-context_chars:]
            space = cut.find(" ")
            context = cut[space + 1:] if 0 <= space < len(cut) - 1 else cut
        parts.append(context)
    return " ".join(parts) if parts else None
