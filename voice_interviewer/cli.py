"""``voice-interviewer``: the command-line entry point.

Sub-commands live in :mod:`voice_interviewer.commands` (one module per area, each
with ``register(subparsers)``); this module only assembles them and turns the
product's deliberate errors into a clean message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import __version__, commands
from .errors import VoiceInterviewerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voice-interviewer",
        description="Offline-first voice mock interviewer: spoken questions, spoken answers, rubric feedback.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except VoiceInterviewerError as exc:
        print(f"voice-interviewer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nvoice-interviewer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
