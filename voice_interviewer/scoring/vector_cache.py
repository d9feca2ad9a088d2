"""Rubric vectors kept on disk between runs, so a new process grades its first answer at once.

A question's rubric (statements, phrasings, explanations, misconception wordings and their right
versions) is several times larger than an answer: embedding it takes most of a second per question
on a two-core machine, every time a process starts (``grade`` on the command line, a restarted
server). Its vectors depend only on the rubric's words and the model, so they are stored once per
(model, texts) under ``$VOICE_INTERVIEWER_CACHE`` (else ``$XDG_CACHE_HOME/voice-interviewer``, else
``~/.cache/voice-interviewer``). Only rubric text is stored, never an answer. A file that is missing,
unreadable or of the wrong shape is recomputed; a cache folder that cannot be written costs speed, never
a grade.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .embed import Embedder

log = logging.getLogger(__name__)
ENV_CACHE = "VOICE_INTERVIEWER_CACHE"


def cache_dir() -> Path:
    """Where rubric vectors are kept (see the module docstring)."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voice-interviewer"


def vector_file(embedder: Embedder, texts: Sequence[str]) -> Path:
    """The file for these texts under this model: named by a hash of both, so a changed rubric or
    model never reads stale vectors."""
    digest = hashlib.sha256("\x1f".join((embedder.identity, *texts)).encode("utf-8")).hexdigest()[:32]
    return cache_dir() / "vectors" / f"{digest}.npy"


def load_or_embed(embedder: Embedder, texts: Sequence[str]) -> None:
    """Put the vectors of ``texts`` in the embedder's memory cache: from disk when stored, else
    computed and stored for the next process."""
    texts = list(dict.fromkeys(texts))
    if not texts:
        return
    path = vector_file(embedder, texts)
    try:
        vecs = np.load(path, allow_pickle=False)
        if vecs.shape == (len(texts), embedder.dim):
            embedder.remember(texts, vecs.astype(np.float32, copy=False))
            return
        log.warning("rubric vectors in %s have shape %s, expected %s; recomputing", path, vecs.shape,
                    (len(texts), embedder.dim))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("cannot read rubric vectors from %s (%s); recomputing", path, exc)
    vecs = embedder.embed(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            np.save(tmp, vecs, allow_pickle=False)
        os.replace(tmp.name, path)  # readers see the old file or the whole new one, never half
    except OSError as exc:
        log.info("rubric vectors not kept on disk (%s): %s", path.parent, exc)
