"""Typed answers in a terminal: the same interview, for scripting, tests and quiet rooms.

An answer is one or more lines ended by an empty line (or end of input). A line
that is only a command word acts on the question: ``skip``, ``reveal``, ``stop``.
In review sessions, after each question's feedback an empty line goes on and
``/retry`` (or ``retry``) answers the same question again.
Reading happens in a worker thread so the flow's event loop stays responsive.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from ..bank import Question
from ..end_reason import EndReason
from ..recording import Recorder
from ..report import SessionReport
from ..review import AttemptNote, ReviewChoice, ReviewRequest
from ..scoring.feedback import Feedback
from ..transcript import Transcript
from .base import (
    ListenRequest,
    Reply,
    ReplyAction,
    SessionInfo,
    Utterance,
    UtteranceKind,
    reply_action,
    utterance_sentences,
)
from .render import render_attempt, render_feedback, render_report, render_reveal, review_prompt

COMMANDS = {"skip": EndReason.SKIP, "reveal": EndReason.REVEAL, "stop": EndReason.STOP, "quit": EndReason.STOP}
REVIEW_WORDS = {"": ReviewChoice.NEXT, "next": ReviewChoice.NEXT, "/next": ReviewChoice.NEXT,
                "retry": ReviewChoice.RETRY, "/retry": ReviewChoice.RETRY,
                "stop": ReviewChoice.STOP, "quit": ReviewChoice.STOP}


class TextChannel:
    """Prints the interviewer's words and reads typed answers."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None):
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        self._eof = False

    def _print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def open(self, session: SessionInfo, recorder: Recorder) -> None:
        self._print(f"Mock interview: {session.role_title} — {len(session.questions)} question(s), "
                    f"interviewer: {session.interviewer}. Session {session.session_id}.")
        self._print("Type your answer; end it with an empty line. Commands: skip, reveal, stop.")
        if session.settings.get("review"):
            self._print("After each question's feedback: Enter goes on, /retry answers the question again.")

    async def say(self, utterance: Utterance) -> None:
        label = {UtteranceKind.QUESTION: "Interviewer", UtteranceKind.FOLLOW_UP: "Follow-up"}.get(
            utterance.kind, "Interviewer")
        text = " ".join([s async for s in utterance_sentences(utterance)]) or utterance.text
        self._print()
        self._print(f"{label}: {text}")

    async def listen(self, request: ListenRequest) -> Reply:
        self._print(f"[answer — suggested time {int(request.timer_s)} s; empty line to finish]")
        started = time.monotonic()
        lines: list[str] = []
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if line == "":
                self._eof = True
                break
            stripped = line.strip()
            if not lines and stripped.lower() in COMMANDS:
                reason = COMMANDS[stripped.lower()]
                return Reply(reply_action(reason), Transcript("", duration_s=time.monotonic() - started), reason)
            if not stripped:
                if lines:
                    break
                continue
            lines.append(stripped)
        text = " ".join(lines)
        action = ReplyAction.ANSWERED if text or not self._eof else ReplyAction.STOPPED
        reason = EndReason.TYPED if text else EndReason.STOP
        return Reply(action, Transcript(text, duration_s=time.monotonic() - started), reason)

    async def thinking(self) -> None:
        pass

    async def show_feedback(self, question: Question, feedback: Feedback, note: AttemptNote | None = None) -> None:
        self._print()
        if note is not None and note.comparison is not None:
            self._print(render_attempt(note))
        self._print(render_feedback(question, feedback))

    async def reveal(self, question: Question) -> None:
        self._print()
        self._print(render_reveal(question))

    async def review(self, request: ReviewRequest) -> ReviewChoice:
        self._print(review_prompt(request, "Enter", "/retry", "stop"))
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if line == "":
                self._eof = True
                return ReviewChoice.STOP
            choice = REVIEW_WORDS.get(line.strip().lower())
            if choice is not None:
                return choice
            self._print("Press Enter for the next question, type /retry to answer this one again, or stop.")

    async def close(self, report: SessionReport | None) -> None:
        self._print()
        self._print(render_report(report) if report else "Session ended before the first answer.")

