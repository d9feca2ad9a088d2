"""The small protocol every channel implements, and the value types that cross it.

The interview flow talks only to this protocol, so the same flow drives typed
answers in a terminal, a browser over a websocket and a desktop microphone.
A voice channel owns its transcriber and synthesizer: it returns a finished
:class:`~voice_interviewer.transcript.Transcript`, never raw audio, to the flow.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..end_reason import EndReason
from ..text_utils import split_sentences
from ..transcript import Transcript

if TYPE_CHECKING:  # imported for annotations only: channels must not pull in heavy modules
    from ..bank import Question
    from ..recording import Recorder
    from ..report import SessionReport
    from ..review import AttemptNote, ReviewChoice, ReviewRequest
    from ..scoring.feedback import Feedback


class UtteranceKind(str, enum.Enum):
    GREETING = "greeting"
    QUESTION = "question"
    FOLLOW_UP = "follow_up"
    TRANSITION = "transition"
    CLOSING = "closing"


@dataclass(frozen=True)
class QuestionPlace:
    """Where a question stands in the session, as the flow planned it, for channels that show it.

    Attributes:
        number: The question's place in the plan, from 1.
        total: Questions planned in the session.
        timer_s: The main answer's time limit (the one its ``ListenRequest`` will carry).
    """

    number: int
    total: int
    timer_s: float


@dataclass(frozen=True)
class Utterance:
    """Something the interviewer says.

    ``text`` is always the complete text. When ``sentences`` is set (an LLM streaming
    its reply), a voice channel speaks each sentence as it arrives instead of waiting
    for the whole text; ``text`` then holds what was known when the utterance was made
    and the channel uses what the stream yields. ``place`` is set on ``QUESTION`` utterances.
    """

    text: str
    kind: UtteranceKind
    question_id: str | None = None
    turn_id: str | None = None
    sentences: AsyncIterator[str] | None = None
    place: QuestionPlace | None = None


class ReplyAction(str, enum.Enum):
    ANSWERED = "answered"   # the candidate answered (ended by done, silence or timer)
    SKIPPED = "skipped"     # the candidate skipped this question
    REVEALED = "revealed"   # the candidate asked to see what a strong answer covers
    STOPPED = "stopped"     # the candidate ended the interview


def reply_action(reason: EndReason) -> ReplyAction:
    """What the flow does with an answer that ended for ``reason`` (the same for every channel)."""
    if reason is EndReason.SKIP:
        return ReplyAction.SKIPPED
    if reason is EndReason.REVEAL:
        return ReplyAction.REVEALED
    if reason.ends_session:
        return ReplyAction.STOPPED
    return ReplyAction.ANSWERED


@dataclass(frozen=True)
class ListenRequest:
    """Ask the channel for one answer.

    Attributes:
        turn_id: Stable id of this turn within the session ("q1", "q1f1", ...).
        timer_s: Time limit for the answer; the channel ends the answer when it runs out.
    """

    question_id: str
    turn_id: str
    timer_s: float
    is_follow_up: bool = False


@dataclass(frozen=True)
class Reply:
    """The channel's answer to a :class:`ListenRequest`.

    ``end_reason`` says what ended the answer; ``action`` is usually
    ``reply_action(end_reason)`` (a typed answer cut off by the end of input is ``STOPPED``
    with its words kept).
    """

    action: ReplyAction
    transcript: Transcript
    end_reason: EndReason


@dataclass(frozen=True)
class SessionInfo:
    """What a channel learns when the session opens (for pre-synthesis and display)."""

    session_id: str
    role: str
    role_title: str
    questions: tuple["Question", ...]
    interviewer: str = "rubric"
    resume_token: str | None = None
    settings: dict = field(default_factory=dict)
    round_titles: dict[str, str] = field(default_factory=dict)  # round id → title, for display and the store
    grader: str = "offline"

    def round_title(self, round_id: str) -> str:
        return self.round_titles.get(round_id, round_id)

    def texts_to_prepare(self) -> list[str]:
        """Every fixed sentence the interviewer may say, in the order it is likely needed."""
        texts: list[str] = []
        for q in self.questions:
            texts.append(q.text)
        for q in self.questions:
            texts.extend(f.text for f in q.follow_ups)
        return texts


class Channel(Protocol):
    """How one interview reaches one person."""

    async def open(self, session: SessionInfo, recorder: "Recorder") -> None:
        """The session starts: show it, pre-synthesise ``session.texts_to_prepare()``."""

    async def say(self, utterance: Utterance) -> None:
        """Speak/show the interviewer's words; returns when the words have been sent/played."""

    async def listen(self, request: ListenRequest) -> Reply:
        """Collect one answer (handling pause/resume internally) and return its transcript."""

    async def thinking(self) -> None:
        """The interviewer is preparing the next turn (grading, deciding): show that state."""

    async def show_feedback(self, question: "Question", feedback: "Feedback",
                            note: "AttemptNote | None" = None) -> None:
        """Show the grade of one question's answer.

        ``note`` is given in review sessions only: which attempt this was and, from the
        second on, how it compares with the previous graded attempt.
        """

    async def reveal(self, question: "Question") -> None:
        """Show what a strong answer covers."""

    async def review(self, request: "ReviewRequest") -> "ReviewChoice":
        """The candidate reads the feedback, then continues, retries the question or stops.

        Called only in review sessions, after the feedback (and reveal). A channel that
        cannot ask (no keys to read) answers ``NEXT`` at once.
        """

    async def close(self, report: "SessionReport | None") -> None:
        """The session ended (report is None if it ended before any answer was graded)."""


async def utterance_sentences(utterance: Utterance) -> AsyncIterator[str]:
    """Yield an utterance sentence by sentence, whether it is streamed or fixed text."""
    if utterance.sentences is None:
        for sentence in split_sentences(utterance.text):
            yield sentence
        return
    async for sentence in utterance.sentences:
        if sentence.strip():
            yield sentence.strip()
