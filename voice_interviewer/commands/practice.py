"""``voice-interviewer practice``: a mock interview at this computer."""

from __future__ import annotations

import argparse
import asyncio
import json

from ..bank import load_role
from ..factory import add_interview_args, make_grader, make_policy, settings_from_args
from ..interview import Interview


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("practice", help="practise an interview in this terminal (typed with --text)")
    add_interview_args(p)
    p.add_argument("--text", action="store_true", help="type answers instead of speaking them")
    p.add_argument("--report", metavar="PATH", help="also write the session report as JSON to PATH")
    p.set_defaults(handler=_practice)


def _practice(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    bank = load_role(settings.role)
    if not args.text:
        from ..channels.desktop import run_desktop_practice  # imported late: needs PortAudio

        return run_desktop_practice(args, settings, bank)
    from ..channels.text import TextChannel

    interview = Interview(bank, settings, TextChannel(), make_policy(settings.interviewer),
                          make_grader(settings.interviewer))
    report = asyncio.run(interview.run())
    if args.report and report is not None:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(report.to_dict(), f, indent=2)
    return 0
