"""``voice-interviewer practice``: a mock interview at this computer, spoken or typed."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import sys
from contextlib import nullcontext

from ..errors import ConfigError
from ..factory import add_interview_args, add_store_args, make_grader, make_policy, open_store, settings_for_bank
from ..interview import Interview


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("practice", help="practise an interview at this computer: spoken (default) or typed (--text)")
    add_interview_args(p)
    p.add_argument("--text", action="store_true", help="type answers instead of speaking them")
    p.add_argument("--report", metavar="PATH", help="also write the session report as JSON to PATH")
    add_store_args(p)
    p.add_argument("--no-record", action="store_true",
                   help="do not store this session (nothing is written to the data folder)")
    audio = p.add_argument_group("spoken practice (microphone and speakers)")
    audio.add_argument("--list-devices", action="store_true", help="list sound devices and exit")
    audio.add_argument("--input-device", metavar="DEVICE", default=None,
                       help="microphone: index or part of the name from --list-devices (default: system default)")
    audio.add_argument("--output-device", metavar="DEVICE", default=None,
                       help="speakers: index or part of the name from --list-devices (default: system default)")
    audio.add_argument("--no-keys", action="store_true",
                       help="do not read keys; answers end on a long silence or the timer (for scripts)")
    audio.add_argument("--end-silence", type=float, default=3.0, metavar="SECONDS",
                       help="silence after speech that ends an answer (default: %(default)s)")
    audio.add_argument("--voice-engine", choices=("piper", "pyttsx3"), default=None,
                       help="interviewer voice engine (default: piper if installed, else pyttsx3)")
    audio.add_argument("--voice", metavar="VOICE", default=None,
                       help="piper: path to a .onnx voice; pyttsx3: a voice id or name")
    p.set_defaults(handler=_practice)


def _end_silence(value: float) -> float:
    if not (math.isfinite(value) and 0.5 <= value <= 60):
        raise ConfigError(f"--end-silence must be 0.5..60 seconds, got {value:g}; about 3 s suits most "
                          "people (shorter cuts off thinking pauses)")
    return value


def _practice(args: argparse.Namespace) -> int:
    if args.list_devices:
        from ..channels.desktop_session import list_devices  # imported late: needs PortAudio

        return list_devices(sys.stdout)
    settings, bank = settings_for_bank(args)  # a typo is rejected before devices or models are touched
    if args.review is None:
        # Review waits for a key or a line: only where someone can give one. A script piping
        # answers in, or a spoken session without keys, keeps the uninterrupted flow.
        interactive = sys.stdin.isatty() and (args.text or not args.no_keys)
        settings = dataclasses.replace(settings, review=interactive)
    if not args.text:
        from ..channels.desktop import DesktopOptions
        from ..channels.desktop_session import run_desktop_session

        options = DesktopOptions(end_silence_s=_end_silence(args.end_silence), keys=not args.no_keys)
        run_desktop_session(settings, bank, input_device=args.input_device, output_device=args.output_device,
                            options=options, voice_engine=args.voice_engine, voice=args.voice,
                            data_dir=args.data_dir, store_url=args.store, report_path=args.report,
                            record=not args.no_record)
        return 0
    report = _practice_typed(args, settings, bank)
    if args.report and report is not None:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(report.to_dict(), f, indent=2)
    return 0


def _practice_typed(args: argparse.Namespace, settings, bank):
    """Typed sessions are stored too, so progress across sessions includes them."""
    from ..channels.text import TextChannel
    from ..recording import NullRecorder

    with (open_store(args) if not args.no_record else nullcontext()) as store:
        recorder = store.recorder() if store is not None else NullRecorder()
        interview = Interview(bank, settings, TextChannel(), make_policy(settings.interviewer),
                              make_grader(settings.interviewer), recorder=recorder)
        return asyncio.run(interview.run())
