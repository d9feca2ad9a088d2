"""Wiring: interview settings from CLI flags, the policy and grader a session uses, and the store.

Every entry point (text practice, desktop practice, the server, the sessions
commands) builds its collaborators here, so a new interviewer, grader or store
setting is added in one place.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .bank import DEFAULT_ROLE
from .errors import ConfigError
from .interviewer.base import InterviewerPolicy
from .plan import ORDERS, InterviewSettings
from .scoring.base import Grader

if TYPE_CHECKING:
    from .bank import Bank
    from .store import SessionStore

INTERVIEWERS = ("rubric", "llm")
# How the command line spells each setting, so a rejected value is reported by the flag the user typed.
CLI_NAMES = {"rounds": "--rounds", "questions": "--questions", "order": "--order", "timer_s": "--timer",
             "max_follow_ups": "--follow-ups", "question_ids": "--question-id"}


def add_store_args(p: argparse.ArgumentParser) -> None:
    """``--data-dir``, ``--store`` and ``--audio-dir``: where sessions are kept, for every command that touches them."""
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="where recordings (and the SQLite session database) are kept (default: "
                        "$VOICE_INTERVIEWER_DATA, else $XDG_DATA_HOME/voice-interviewer, else "
                        "~/.local/share/voice-interviewer)")
    p.add_argument("--store", metavar="URL", default=None,
                   help="keep sessions in PostgreSQL, shared by many servers: "
                        "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (default: $VOICE_INTERVIEWER_STORE, "
                        "else SQLite in the data folder)")
    p.add_argument("--audio-dir", metavar="DIR", default=None,
                   help="where session audio is kept; servers sharing a --store must share this folder "
                        "(default: $VOICE_INTERVIEWER_AUDIO_DIR, else the data folder's sessions/)")


def open_store(args: argparse.Namespace) -> "SessionStore":
    """The session store that ``--data-dir``, ``--store`` and ``--audio-dir`` name (opened, migrated, recovered)."""
    from .store import SessionStore

    return SessionStore(args.data_dir, url=args.store, audio_dir=args.audio_dir)


def add_interview_args(p: argparse.ArgumentParser) -> None:
    """The session choices every interactive entry point accepts."""
    p.add_argument("--role", default=DEFAULT_ROLE, help="bank role id (default: %(default)s)")
    p.add_argument("--rounds", default="", help="comma-separated round ids (default: all)")
    p.add_argument("--questions", type=int, default=4, help="number of questions (default: %(default)s)")
    p.add_argument("--order", choices=ORDERS, default="by-round")
    p.add_argument("--timer", type=float, default=None, metavar="SECONDS",
                   help="answer time limit (default: each question's suggested time)")
    p.add_argument("--follow-ups", type=int, default=1, help="follow-up budget per question (default: 1)")
    p.add_argument("--question-id", action="append", default=[], metavar="ID",
                   help="ask exactly this question (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="random seed for question choice")
    p.add_argument("--interviewer", choices=INTERVIEWERS, default="rubric",
                   help="rubric (offline, default) or llm (needs an OpenAI-compatible endpoint)")
    p.add_argument("--review", action=argparse.BooleanOptionalAction, default=None,
                   help="after each question's feedback, wait to go on or to try the question again "
                        "(default: on when keys or typed lines can be read from a terminal)")


def settings_from_args(args: argparse.Namespace) -> InterviewSettings:
    settings = InterviewSettings(
        role=args.role,
        rounds=tuple(r.strip() for r in args.rounds.split(",") if r.strip()),
        questions=args.questions, order=args.order, timer_s=args.timer,
        max_follow_ups=args.follow_ups, question_ids=tuple(args.question_id), seed=args.seed,
        interviewer=args.interviewer, review=bool(getattr(args, "review", None)),
    )
    settings.validate(CLI_NAMES)
    return settings


def settings_for_bank(args: argparse.Namespace) -> tuple[InterviewSettings, "Bank"]:
    """Settings from flags and the bank they name, both checked before anything slow is loaded."""
    from .bank import load_role

    settings = settings_from_args(args)
    bank = load_role(settings.role)
    settings.check_bank(bank, CLI_NAMES)
    return settings, bank


def make_grader(kind: str = "rubric") -> Grader:
    """The offline scorer by default; the LLM grader wraps it when asked for."""
    from .scoring.grader import OfflineGrader

    offline = OfflineGrader()
    if kind == "rubric":
        return offline
    if kind == "llm":
        from .scoring.llm import LlmGrader

        return LlmGrader(offline)
    raise ConfigError(f"unknown grader {kind!r}; choose one of {', '.join(INTERVIEWERS)}")


def make_policy(kind: str = "rubric") -> InterviewerPolicy:
    from .interviewer.rubric import RubricInterviewer

    if kind == "rubric":
        return RubricInterviewer()
    if kind == "llm":
        from .interviewer.llm import LlmInterviewer

        return LlmInterviewer(fallback=RubricInterviewer())
    raise ConfigError(f"unknown interviewer {kind!r}; choose one of {', '.join(INTERVIEWERS)}")
