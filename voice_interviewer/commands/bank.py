"""``voice-interviewer bank validate|list``."""

from __future__ import annotations

import argparse
import sys

from ..bank import available_banks, load_bank, load_role
from ..errors import BankError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bank", help="validate and list rubric banks")
    bsub = p.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    v = bsub.add_parser("validate", help="check bank files; report every problem with file, line and field")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.set_defaults(handler=_validate)
    ls = bsub.add_parser("list", help="show roles, rounds and questions")
    ls.add_argument("--role", help="only this role (file stem under rubrics/)")
    ls.add_argument("--ids", action="store_true", help="show question ids")
    ls.set_defaults(handler=_list)


def _validate(args: argparse.Namespace) -> int:
    failed = 0
    for f in args.files:
        try:
            bank = load_bank(f)
        except BankError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        print(f"{f}: ok — role {bank.role}, {len(bank.rounds)} rounds, {len(bank.questions)} questions")
    return 1 if failed else 0


def _list(args: argparse.Namespace) -> int:
    roles = [args.role] if args.role else list(available_banks())
    for role in roles:
        bank = load_role(role)
        print(f"{bank.role}: {bank.title} ({len(bank.questions)} questions)")
        for rnd in bank.rounds:
            qs = bank.in_round(rnd.id)
            print(f"  {rnd.id}: {rnd.title} ({len(qs)})")
            for q in qs:
                star = "*" if q.seed else " "
                ident = f"{q.id}: " if args.ids else ""
                print(f"   {star} {ident}{q.text} [{q.difficulty}, {q.answer_time_s}s]")
    print("(* = one of the role's most-asked questions)")
    return 0
