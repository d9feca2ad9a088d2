"""``voice-interviewer say``: hear (or save) the interviewer's voice, to choose an engine, voice and rate."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..errors import AudioDeviceError, ConfigError
from ..wav import write_wav


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("say", help="speak a text with the interviewer's voice (or save it as a WAV file)")
    p.add_argument("text", nargs="?", help="what to say (default: read from standard input)")
    p.add_argument("-o", "--output", metavar="WAV", help="write a WAV file instead of playing it")
    p.add_argument("--voice-engine", choices=("piper", "pyttsx3"), default=None,
                   help="voice engine (default: piper if installed and working, else pyttsx3)")
    p.add_argument("--voice", metavar="VOICE", default=None,
                   help="piper: path to a .onnx voice (with .onnx.json beside it); pyttsx3: a voice id or name")
    p.add_argument("--rate", type=int, metavar="WPM", default=None, help="speaking rate in words per minute")
    p.add_argument("--list-engines", action="store_true", help="show which engines work here and exit")
    p.set_defaults(handler=_say)


def _say(args: argparse.Namespace) -> int:
    from ..speech.tts import VoiceOptions, available_engines, make_synthesizer

    if args.list_engines:
        for engine, status in available_engines().items():
            print(f"{engine}: {status}")
        return 0
    text = args.text if args.text is not None else sys.stdin.read()
    if not text.strip():
        raise ConfigError("nothing to say: give a text argument or pipe text on standard input")
    synth = make_synthesizer(VoiceOptions(engine=args.voice_engine, voice=args.voice, rate_wpm=args.rate))

    async def run():
        try:
            return await synth.synthesize(text.strip())
        finally:
            await synth.close()

    audio = asyncio.run(run())
    print(f"{synth.name}: {audio.duration_s:.2f} s at {audio.sample_rate} Hz", file=sys.stderr)
    if args.output:
        write_wav(args.output, audio.pcm16, audio.sample_rate)
        print(f"wrote {args.output}", file=sys.stderr)
        return 0
    _play(audio.pcm16, audio.sample_rate)
    return 0


def _play(pcm16: bytes, sample_rate: int) -> None:
    try:
        import numpy as np
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        raise AudioDeviceError(f"cannot play audio ({exc}); install PortAudio (apt-get install libportaudio2) "
                               "or save the audio with -o out.wav") from exc
    try:
        sd.play(np.frombuffer(pcm16, dtype="<i2"), sample_rate, blocking=True)
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"cannot play audio on the default output device ({exc}); "
                               "save it with -o out.wav instead") from exc
