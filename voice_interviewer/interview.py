"""The interview flow: ask → listen → (follow up → listen)* → grade → [review → retry?] → next → report.

This is the one place the shape of an interview is visible. It decides nothing
itself: the plan chose the questions, the policy chooses follow-ups, the grader
grades, the recorder stores, and the channel speaks and listens. Every channel
(text, websocket, desktop) runs through this same coroutine.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace

from .bank import Bank, Question
from .channels.base import (
    Channel,
    ListenRequest,
    QuestionPlace,
    Reply,
    ReplyAction,
    SessionInfo,
    Utterance,
    UtteranceKind,
)
from .end_reason import EndReason
from .interviewer.base import InterviewerPolicy, TurnContext
from .plan import InterviewSettings, plan_questions
from .recording import NullRecorder, Recorder
from .report import QuestionResult, SessionReport, build_report
from .review import AttemptNote, ReviewChoice, ReviewRequest, attempt_turn_id
from .scoring.attempts import compare_attempts
from .scoring.base import Grader
from .scoring.feedback import Feedback


@dataclass
class Interview:
    """One session's collaborators; :meth:`run` plays it to the end."""

    bank: Bank
    settings: InterviewSettings
    channel: Channel
    policy: InterviewerPolicy
    grader: Grader
    recorder: Recorder = NullRecorder()
    session_id: str = ""
    resume_token: str | None = None
    asked: frozenset[str] = frozenset()
    prior_results: tuple[QuestionResult, ...] = ()
    """``asked`` and ``prior_results`` continue an interrupted session: questions already asked
    are not asked again, and what was graded then counts in this session's report."""

    def __post_init__(self) -> None:
        self.session_id = self.session_id or uuid.uuid4().hex[:12]
        self.questions: list[Question] = plan_questions(self.bank, self.settings)
        self.results: list[QuestionResult] = list(self.prior_results)
        self.end_reason: EndReason | None = None  # the end reason of the answer that stopped the session

    def session_info(self) -> SessionInfo:
        return SessionInfo(
            session_id=self.session_id, role=self.bank.role, role_title=self.bank.title,
            questions=tuple(self.questions), interviewer=self.policy.name,
            resume_token=self.resume_token, grader=self.grader.name,
            round_titles={r.id: r.title for r in self.bank.rounds},
            settings={"rounds": list(self.settings.rounds), "questions": len(self.questions),
                      "order": self.settings.order, "timer_s": self.settings.timer_s,
                      "max_follow_ups": self.settings.max_follow_ups, "review": self.settings.review},
        )

    async def run(self) -> SessionReport | None:
        """Run the whole session; the report is None if the candidate left before the first question."""
        info = self.session_info()
        self.recorder.session_started(info)
        await self.channel.open(info, self.recorder)
        status = "failed"
        try:
            stopped = False
            # Turn ids (q1, q2, …) keep each question's place in the plan, also when a continued
            # session skips the questions its first sitting asked.
            pending = [(i, q) for i, q in enumerate(self.questions) if q.id not in self.asked]
            for n, (index, question) in enumerate(pending):
                following = pending[n + 1] if n + 1 < len(pending) else None
                stopped = await self._ask_question(index, question, following)
                if stopped:
                    break
            status = "stopped" if stopped else "completed"
        finally:
            report = build_report(self.session_id, self.bank, self.results, self.policy.name,
                                  grader=self.grader.name, planned=self.questions, status=status,
                                  end_reason=self.end_reason or (EndReason.ERROR if status == "failed" else None)) \
                if self.results else None
            # Off the event loop: it turns the session's raw audio into WAV files and writes the
            # database, and the report is sent only once the session is on record.
            await asyncio.to_thread(self.recorder.session_finished, report, status)
        await self.channel.close(report)
        return report

    async def _say(self, text: str, kind: UtteranceKind, question: Question, turn_id: str,
                   sentences=None, place: QuestionPlace | None = None) -> None:
        utterance = Utterance(text, kind, question.id, turn_id, sentences, place)
        self.recorder.utterance(utterance)
        await self.channel.say(utterance)

    def _timer_s(self, question: Question, follow_up: bool) -> float:
        """An answer's time limit: the session's, else the question's; follow-ups are narrower
        (half the time, at least a minute)."""
        timer = self.settings.timer_s or question.answer_time_s
        return float(max(60.0, timer / 2) if follow_up else timer)

    async def _listen(self, question: Question, turn_id: str, follow_up: bool) -> Reply:
        request = ListenRequest(question.id, turn_id, self._timer_s(question, follow_up), follow_up)
        reply = await self.channel.listen(request)
        self.recorder.answer(question, turn_id, reply)
        return reply

    async def _ask_question(self, index: int, question: Question, following: tuple[int, Question] | None) -> bool:
        """Ask one question, again each time the candidate asks to retry it; True if the candidate stopped.

        ``following`` is the next question to ask and its place in the plan, if any."""
        next_q = following[1] if following else None
        scores: list[float | None] = []
        graded: list[tuple[int, Feedback]] = []  # (attempt, grade) of every graded attempt, in order
        results_before = len(self.results)
        while True:
            attempt = len(scores) + 1
            place = QuestionPlace(index + 1, len(self.questions), self._timer_s(question, follow_up=False))
            outcome = await self._attempt(question, place, next_q, attempt_turn_id(index + 1, attempt), attempt,
                                          graded)
            result = outcome.result
            scores.append(result.feedback.overall if result is not None and result.feedback is not None else None)
            if result is not None and result.feedback is not None:
                graded.append((attempt, result.feedback))
            self._keep(results_before, result, scores)
            if outcome.stopped:
                return True
            reviewable = result is not None and (result.feedback is not None or result.revealed)
            if not (self.settings.review and reviewable):
                break
            choice = await self.channel.review(ReviewRequest(question.id, attempt, last=next_q is None))
            if choice is ReviewChoice.STOP:
                return True
            if choice is ReviewChoice.NEXT:
                break
        if following is not None and outcome.bridge is not None:
            next_index, next_q = following
            bridge = await self.policy.transition(outcome.bridge)
            if bridge:
                await self._say(bridge, UtteranceKind.TRANSITION, next_q, f"q{next_index + 1}")
        return False

    def _keep(self, results_before: int, result: QuestionResult | None, scores: list[float | None]) -> None:
        """Put an attempt's result in the session's results: the last graded attempt counts.

        A retry that was skipped or stopped before a word was said leaves the earlier
        graded attempt in place; every attempt's score is kept beside it.
        """
        current = self.results[results_before] if len(self.results) > results_before else None
        if result is not None and (current is None or result.feedback is not None or current.feedback is None):
            current = result
        if current is None:
            return
        current = replace(current, attempt_scores=tuple(scores) if len(scores) > 1 else ())
        if len(self.results) > results_before:
            self.results[results_before] = current
        else:
            self.results.append(current)

    async def _attempt(self, question: Question, place: QuestionPlace, next_q: Question | None, turn_id: str,
                       attempt: int, graded: list[tuple[int, Feedback]]) -> "_Attempt":
        """One attempt at a question: the main answer, its follow-ups, the grade and its feedback."""
        await self._say(question.text, UtteranceKind.QUESTION, question, turn_id, place=place)
        reply = await self._listen(question, turn_id, follow_up=False)
        if reply.action is ReplyAction.STOPPED:
            self.end_reason = reply.end_reason
            if not reply.transcript.text.strip():
                return _Attempt(None, stopped=True)
        if reply.action is ReplyAction.SKIPPED or (
                reply.action is ReplyAction.REVEALED and not reply.transcript.text.strip()):
            # Nothing was said: there is nothing to grade, and a zero would distort the report.
            revealed = reply.action is ReplyAction.REVEALED
            skipped = QuestionResult(question, (), (), None, skipped=True, revealed=revealed)
            if revealed:
                await self.channel.reveal(question)
            return _Attempt(skipped, stopped=False)

        answers = [reply.transcript]
        asked: list[str] = []
        probed: list[str] = []
        last = reply
        while last.action is ReplyAction.ANSWERED:
            await self.channel.thinking()
            # Coverage embeds the answer (CPU work): keep it off the event loop other sessions share.
            coverage = await asyncio.to_thread(self.grader.coverage, question, list(answers))
            ctx = TurnContext(question, tuple(answers), coverage,
                              tuple(probed), self.settings.max_follow_ups - len(asked), next_q)
            decision = await self.policy.follow_up(ctx)
            if decision is None:
                break
            follow_turn = f"{turn_id}f{len(asked) + 1}"
            await self._say(decision.text, UtteranceKind.FOLLOW_UP, question, follow_turn, decision.sentences)
            asked.append(decision.text)
            probed.append(decision.key_point_id)
            last = await self._listen(question, follow_turn, follow_up=True)
            if last.transcript.text.strip():
                answers.append(last.transcript)

        await self.channel.thinking()
        feedback = await self.grader.grade(question, answers)
        self.recorder.feedback(question, feedback, attempt=attempt, turn_id=turn_id)
        revealed = last.action is ReplyAction.REVEALED
        result = QuestionResult(question, tuple(answers), tuple(asked), feedback, revealed=revealed)
        if self.settings.review:
            comparison = None
            if graded:
                before, previous = graded[-1]
                comparison = compare_attempts(previous, feedback, previous_attempt=before, attempt=attempt)
            await self.channel.show_feedback(question, feedback, AttemptNote(attempt, comparison))
        else:
            await self.channel.show_feedback(question, feedback)
        if revealed:
            await self.channel.reveal(question)
        if last.action is ReplyAction.STOPPED:
            self.end_reason = last.end_reason
        bridge = TurnContext(question, tuple(answers), feedback.key_points, tuple(probed), 0, next_q)
        return _Attempt(result, stopped=last.action is ReplyAction.STOPPED, bridge=bridge)


@dataclass(frozen=True)
class _Attempt:
    """How one attempt ended: its result (None if stopped before a word), and what a transition needs."""

    result: QuestionResult | None
    stopped: bool
    bridge: TurnContext | None = None
