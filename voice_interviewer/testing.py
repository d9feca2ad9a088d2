"""A scripted channel for driving the real interview flow without a person.

Used by unit tests of the flow and by examples; integration tests use the real
channels. It records everything the interviewer does, in order, so a test can
assert the conversation as a candidate would have experienced it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .bank import Question
from .channels.base import (
    ListenRequest,
    QuestionPlace,
    Reply,
    ReplyAction,
    SessionInfo,
    Utterance,
    reply_action,
    utterance_sentences,
)
from .end_reason import EndReason
from .recording import Recorder
from .report import SessionReport
from .review import AttemptNote, ReviewChoice, ReviewRequest
from .scoring.feedback import Feedback
from .transcript import Transcript


@dataclass
class ScriptedChannel:
    """Answers each :meth:`listen` with the next scripted reply.

    Script items are a :class:`Reply`, a plain string (an answered, typed reply), or
    one of "skip", "reveal", "stop". Running out of script stops the interview.
    ``reviews`` are the choices made at each review ("next", "retry", "stop"), in
    order; running out of them continues.
    """

    script: list[Reply | str]
    events: list[tuple[str, object]] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)
    session: SessionInfo | None = None
    places: list[tuple[str, QuestionPlace]] = field(default_factory=list)  # (question id, place) as asked
    timers: dict[str, float] = field(default_factory=dict)  # turn id → the timer its listen request carried

    @classmethod
    def answering(cls, answers: Iterable[Reply | str]) -> "ScriptedChannel":
        return cls(list(answers))

    async def open(self, session: SessionInfo, recorder: Recorder) -> None:
        self.session = session
        self.events.append(("open", session.session_id))

    async def say(self, utterance: Utterance) -> None:
        text = " ".join([s async for s in utterance_sentences(utterance)]) or utterance.text
        self.events.append((utterance.kind.value, text))
        if utterance.place is not None:
            self.places.append((utterance.question_id or "", utterance.place))

    async def listen(self, request: ListenRequest) -> Reply:
        self.events.append(("listen", request.turn_id))
        self.timers[request.turn_id] = request.timer_s
        if not self.script:
            return Reply(ReplyAction.STOPPED, Transcript(""), EndReason.STOP)
        item = self.script.pop(0)
        if isinstance(item, Reply):
            return item
        if item in ("skip", "reveal", "stop"):
            reason = EndReason(item)
            return Reply(reply_action(reason), Transcript(""), reason)
        return Reply(ReplyAction.ANSWERED, Transcript(item), EndReason.TYPED)

    async def thinking(self) -> None:
        self.events.append(("thinking", None))

    async def show_feedback(self, question: Question, feedback: Feedback, note: AttemptNote | None = None) -> None:
        self.events.append(("feedback", feedback))
        if note is not None:
            self.events.append(("attempt", note))

    async def reveal(self, question: Question) -> None:
        self.events.append(("reveal", question.id))

    async def review(self, request: ReviewRequest) -> ReviewChoice:
        self.events.append(("review", request))
        return ReviewChoice(self.reviews.pop(0)) if self.reviews else ReviewChoice.NEXT

    async def close(self, report: SessionReport | None) -> None:
        self.events.append(("close", report))

    def said(self, kind: str) -> list[str]:
        return [str(v) for k, v in self.events if k == kind]
