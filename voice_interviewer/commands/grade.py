"""``voice-interviewer grade IN.jsonl [-o OUT.jsonl] [--role ROLE]``: grade answers offline.

Each input line is a JSON object, either a bank question::

    {"question_id": "model-and-data-drift", "answer": "..."}

or an ad-hoc question with a reference answer::

    {"question": "...", "reference": "...", "answer": "..."}

optionally with ``"words"`` (``[{"text", "start_s", "end_s"}, ...]``) and
``"duration_s"`` for spoken answers. Each output line is the input's fields plus
``score`` (0..1) and ``feedback``. A bad line gets an ``error`` field naming the
line and the field, the other lines are still graded, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from ..bank import DEFAULT_ROLE, Bank, Question, load_role
from ..errors import ConfigError, VoiceInterviewerError
from ..transcript import Transcript, Word


class LineError(ValueError):
    """One input line cannot be graded; the message names the line and the field."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grade", help="grade answers from a JSONL file with the offline scorer")
    p.add_argument("input", metavar="IN.jsonl", help="one JSON object per line ('-' reads standard input)")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="where to write results (default: standard output)")
    p.add_argument("--role", default=DEFAULT_ROLE, help="bank for 'question_id' lines (default: %(default)s)")
    p.set_defaults(handler=_grade)


def _field(row: dict[str, Any], name: str, lineno: int, kind: type, required: bool = True) -> Any:
    if name not in row:
        if required:
            raise LineError(f"line {lineno}: field {name!r} is missing")
        return None
    value = row[name]
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise LineError(f"line {lineno}: field {name!r} must be {kind.__name__}, got {type(value).__name__} "
                        f"{json.dumps(value)[:60]}")
    return value


def _words(row: dict[str, Any], lineno: int) -> tuple[Word, ...]:
    raw = _field(row, "words", lineno, list, required=False) or []
    words = []
    for i, w in enumerate(raw):
        try:
            if not isinstance(w, dict):
                raise TypeError
            word = Word(str(w["text"]), float(w["start_s"]), float(w["end_s"]))
        except (KeyError, TypeError, ValueError):
            raise LineError(f"line {lineno}: field 'words[{i}]' must be an object with text, start_s and end_s "
                            f"(seconds), got {json.dumps(w)[:80]}") from None
        if word.end_s < word.start_s:
            raise LineError(f"line {lineno}: field 'words[{i}]' ends ({word.end_s}) before it starts "
                            f"({word.start_s})")
        words.append(word)
    return tuple(words)


def parse_line(row: Any, lineno: int, bank: Bank | None,
               role: str) -> tuple[Question, Transcript]:
    """The question and transcript of one input object, or a :class:`LineError` naming the field."""
    from ..scoring.reference import question_from_reference

    if not isinstance(row, dict):
        raise LineError(f"line {lineno}: expected a JSON object, got {type(row).__name__}")
    answer = _field(row, "answer", lineno, str)
    transcript = Transcript(answer, _words(row, lineno),
                            duration_s=_field(row, "duration_s", lineno, float, required=False))
    if "question_id" in row:
        qid = _field(row, "question_id", lineno, str)
        if bank is None:
            raise LineError(f"line {lineno}: field 'question_id' needs the bank of role {role!r}, which could "
                            "not be loaded (see the error above)")
        try:
            return bank.question(qid), transcript
        except ConfigError as exc:
            raise LineError(f"line {lineno}: field 'question_id': {exc}") from None
    if "question" in row or "reference" in row:
        question = _field(row, "question", lineno, str)
        reference = _field(row, "reference", lineno, str)
        try:
            return question_from_reference(question, reference, str(row.get("id", f"line-{lineno}"))), transcript
        except ConfigError as exc:
            raise LineError(f"line {lineno}: field 'reference': {exc}") from None
    raise LineError(f"line {lineno}: needs either 'question_id' (a bank question) or 'question' and 'reference'")


def grade_stream(lines: TextIO, out: TextIO, role: str) -> int:
    """Grade every line; return how many lines failed."""
    from ..scoring.grader import OfflineGrader

    bank: Bank | None = None
    bank_error = ""
    grader = OfflineGrader()
    failed = 0
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        text = line.rstrip("\r\n")  # else an error at the end of the line is placed on the next one, column 1
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            failed += 1
            end = ", the end of the line" if exc.pos >= len(text) else ""
            message = f"line {lineno}: not valid JSON ({exc.msg} at column {exc.colno}{end})"
            print(f"voice-interviewer grade: {message}", file=sys.stderr)
            out.write(json.dumps({"line": lineno, "error": message}) + "\n")
            continue
        if isinstance(row, dict) and "question_id" in row and bank is None and not bank_error:
            try:
                bank = load_role(role)
            except VoiceInterviewerError as exc:
                bank_error = str(exc)
                print(f"voice-interviewer grade: {bank_error}", file=sys.stderr)
        try:
            question, transcript = parse_line(row, lineno, bank, role)
            feedback = grader.grade_sync(question, [transcript])
            result = {**row, "score": feedback.score, "feedback": feedback.to_dict()}
        except LineError as exc:
            failed += 1
            print(f"voice-interviewer grade: {exc}", file=sys.stderr)
            result = {**row, "error": str(exc)} if isinstance(row, dict) else {"line": lineno, "error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return failed


def _grade(args: argparse.Namespace) -> int:
    if args.input != "-" and not Path(args.input).is_file():
        raise ConfigError(f"input file {args.input!r} does not exist; give a JSONL file with one answer per line")
    src = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                failed = grade_stream(src, out, args.role)
        else:
            failed = grade_stream(src, sys.stdout, args.role)
    finally:
        if src is not sys.stdin:
            src.close()
    if failed:
        print(f"voice-interviewer grade: {failed} line(s) could not be graded; see their 'error' field",
              file=sys.stderr)
        return 1
    return 0
