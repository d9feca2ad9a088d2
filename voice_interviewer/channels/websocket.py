"""The interview over one browser connection: TTS frames out, microphone frames in.

The server's read loop hands this channel every client frame (:meth:`command`,
:meth:`audio`) and the interview flow calls the :class:`Channel` methods. The two
meet only through small pieces of state (the current turn, its end future and an
audio queue), so a slow transcription never stops control messages from being read.

A connection may drop and come back (``resume_session``): the channel then keeps
the session, stops the answer timer, keeps the audio already received, and on
re-attach re-sends the current question and listening state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..end_reason import EndReason
from ..errors import ProtocolError
from ..protocol import (
    WRONG_STATE,
    ErrorMsg,
    FeedbackMsg,
    FinalMsg,
    ListeningMsg,
    PartialMsg,
    QuestionMsg,
    ReportMsg,
    RevealMsg,
    ReviewingMsg,
    SayMsg,
    ServerMessage,
    SessionMsg,
    StateMsg,
    check_audio_frame,
    encode_server,
)
from ..review import AttemptNote, ReviewChoice, ReviewGate, ReviewRequest
from ..transcript import Transcript
from .answer_clock import AnswerClock
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
from .latency import TurnLatency
from .rate_limit import TokenBucket

if TYPE_CHECKING:
    from ..bank import Question
    from ..recording import Recorder
    from ..report import SessionReport
    from ..scoring.feedback import Feedback
    from ..speech.tts import Synthesizer

COMMAND_REASONS = {"end_answer": EndReason.DONE, "skip": EndReason.SKIP, "reveal": EndReason.REVEAL}
REVIEW_COMMANDS = ("next", "retry")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelOptions:
    """Per-connection behaviour of the websocket channel.

    Attributes:
        sample_rate: Rate of the client's PCM16 frames (Hz), as announced in ``start``.
        max_frame_bytes: Largest binary frame accepted; larger ones get ``frame_too_large``.
        partial_interval_s: Least time between two ``partial`` messages (about one a second
            keeps the caption alive without flooding a slow link).
        resume_grace_s: How long a dropped connection may take to come back before the
            answer ends as "disconnected" and the session stops.
        max_audio_speed: Audio may arrive at most this many times faster than real time
            (plus a two-second burst); beyond that frames are refused with an error.
        voice_engine: Name of the synthesizer in use, reported in the ``session`` message.
        review: The client asked to review each question's feedback (``start.review``):
            ``next`` and ``retry`` are accepted while a review is open.
    """

    sample_rate: int = 16000
    max_frame_bytes: int = 96_000
    partial_interval_s: float = 1.0
    resume_grace_s: float = 120.0
    max_audio_speed: float = 4.0
    voice_engine: str = ""
    review: bool = False


class Link:
    """One websocket connection; sends are serialised so a ``say`` and its audio stay adjacent."""

    def __init__(self, ws: Any):
        self.ws = ws
        self.lock = asyncio.Lock()
        self.closed = False

    async def send(self, *frames: str | bytes) -> bool:
        """Send frames in order; False (and marked closed) if the peer has gone."""
        if self.closed:
            return False
        async with self.lock:
            try:
                for f in frames:
                    await self.ws.send(f)
            except Exception:  # ConnectionClosed or a transport error: the peer is gone
                self.closed = True
                return False
        return True


@dataclass
class _Turn:
    request: ListenRequest
    listener: Any
    end: asyncio.Future
    clock: AnswerClock
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    paused: bool = False
    committed: list[str] = field(default_factory=list)
    last_partial_at: float = -1e9


class WebsocketChannel:
    """:class:`~voice_interviewer.channels.base.Channel` over a (re-attachable) websocket link."""

    def __init__(self, options: ChannelOptions, synthesizer: "Synthesizer", make_listener: Callable[..., Any],
                 clock: Callable[[], float] = time.monotonic):
        self.options = options
        self.synth = synthesizer
        self.make_listener = make_listener
        self.clock = clock
        self.link: Link | None = None
        self.session: SessionInfo | None = None
        self.recorder: Recorder | None = None
        self.latency = TurnLatency(clock)
        self._turn: _Turn | None = None
        self._stop_reason: EndReason | None = None
        self._playback_until = 0.0
        self._replay: list[ServerMessage] = []
        self._grace_task: asyncio.Task | None = None
        self._timer_task: asyncio.Task | None = None
        bytes_per_s = options.sample_rate * 2 * options.max_audio_speed
        self._bucket = TokenBucket(bytes_per_s, 2.0 * bytes_per_s, clock)  # two seconds of burst
        self._finished = False
        self._gate = ReviewGate(options.review)
        self._review: asyncio.Future | None = None
        self._tasks: set[asyncio.Task] = set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task:
        """Run ``coro`` in the background, keeping a reference until it ends and logging its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("websocket channel task failed", exc_info=task.exception())

    # -- connection ----------------------------------------------------------------

    async def _send(self, msg: ServerMessage, audio: bytes | None = None) -> None:
        frames: tuple[str | bytes, ...] = (encode_server(msg),) + ((audio,) if audio is not None else ())
        if self.link is None or not await self.link.send(*frames):
            self.link = None

    async def attach(self, link: Link) -> None:
        """(Re-)attach a connection: announce the session and re-send what the candidate must see."""
        self.link = link
        if self._grace_task:
            self._grace_task.cancel()
            self._grace_task = None
        if self.session is not None:
            await self._send(self._session_msg())
            for msg in self._replay:
                await self._send(msg)
            if self._turn is not None:
                turn = self._turn
                if not turn.paused:
                    self._start_timer(turn)
                await self._send(self._listening_msg(turn))

    def detach(self, link: Link) -> None:
        """The connection dropped: stop the answer clock and give the candidate time to come back."""
        if self.link is not link and self.link is not None:
            return
        self.link = None
        if self._finished:
            return
        if self._turn is not None:
            self._stop_timer(self._turn)
        self._grace_task = self._spawn(self._grace())

    async def _grace(self) -> None:
        await asyncio.sleep(self.options.resume_grace_s)
        self.request_stop(EndReason.DISCONNECTED)

    def request_stop(self, reason: EndReason) -> None:
        """End the session at the next opportunity (stop, disconnect past grace, session limit)."""
        self._stop_reason = self._stop_reason or reason
        if self._turn is not None:
            self._end(self._turn, reason)
        if self._review is not None and not self._review.done():
            self._gate.close()
            self._review.set_result(ReviewChoice.STOP)

    # -- frames from the read loop ---------------------------------------------------

    def command(self, name: str) -> None:
        """Apply a control message; raise :class:`ProtocolError` when it makes no sense now."""
        turn = self._turn
        if name == "stop":
            self.request_stop(EndReason.STOP)
            return
        if name in REVIEW_COMMANDS:
            choice = self._gate.choose(name)  # raises when nothing is under review
            if self._review is not None and not self._review.done():
                self._review.set_result(choice)
            return
        if turn is None:
            raise ProtocolError(WRONG_STATE, f"{name!r} arrived while no answer is being recorded; send it "
                                             f"after a 'listening' message and before 'final'")
        if name in COMMAND_REASONS:
            self._end(turn, COMMAND_REASONS[name])
        elif name == "pause":
            if turn.paused:
                raise ProtocolError(WRONG_STATE, "'pause' arrived but the answer is already paused; send 'resume'")
            turn.paused = True
            self._stop_timer(turn)
            self._spawn(self._send(self._listening_msg(turn)))
        elif name == "resume":
            if not turn.paused:
                raise ProtocolError(WRONG_STATE, "'resume' arrived but the answer is not paused; send 'pause' first")
            turn.paused = False
            self._start_timer(turn)
            self._spawn(self._send(self._listening_msg(turn)))

    def audio(self, data: bytes) -> None:
        """Queue one PCM16 frame for the current answer; frames between answers are dropped."""
        check_audio_frame(data, self.options.max_frame_bytes)
        self._check_rate(len(data))
        turn = self._turn
        if turn is None or turn.paused or turn.end.done():
            return
        turn.queue.put_nowait(data)

    def _check_rate(self, n: int) -> None:
        if not self._bucket.take(n):
            raise ProtocolError("audio_rate_exceeded",
                                f"audio is arriving faster than {self.options.max_audio_speed:g}× "
                                f"real time at the announced {self.options.sample_rate} Hz; "
                                f"frame of {n} bytes dropped — stream the microphone live")

    # -- Channel protocol ---------------------------------------------------------------

    def _session_msg(self) -> SessionMsg:
        s = self.session
        assert s is not None
        qs = [{"id": q.id, "text": q.text, "round": q.round, "round_title": s.round_title(q.round),
               "answer_time_s": q.answer_time_s} for q in s.questions]
        return SessionMsg(s.session_id, s.resume_token or "", qs, s.interviewer, self.options.voice_engine,
                          s.role, s.role_title, self.synth.sample_rate)

    async def open(self, session: SessionInfo, recorder: "Recorder") -> None:
        self.session = session
        self.recorder = recorder
        self.synth.prepare(session.texts_to_prepare())
        await self._send(self._session_msg())

    async def say(self, utterance: Utterance) -> None:
        self.latency.speaking()
        place = utterance.place
        if utterance.kind is UtteranceKind.QUESTION and place is not None and self.session is not None:
            q = next(q for q in self.session.questions if q.id == utterance.question_id)
            msg = QuestionMsg(q.id, q.text, q.round, place.timer_s, place.number, place.total)
            self._replay = [msg]
            await self._send(msg)
        # Each sentence is synthesised while the one before it is sent. The task in flight is
        # always held in ``pending``, so a failed send or a cancelled say cancels it, never drops it.
        pending: asyncio.Task | None = None
        try:
            async for sentence in utterance_sentences(utterance):
                previous, pending = pending, asyncio.ensure_future(self.synth.synthesize(sentence))
                if previous is not None:
                    await self._speak(await previous, utterance)
            if pending is not None:
                previous, pending = pending, None
                await self._speak(await previous, utterance)
        finally:
            if pending is not None and not pending.done():
                pending.cancel()

    async def _speak(self, audio: Any, utterance: Utterance) -> None:
        latency = self.latency.first_audio()
        msg = SayMsg(audio.text, utterance.kind.value, audio.sample_rate, len(audio.pcm16),
                     turn_id=utterance.turn_id, latency_ms=latency)
        await self._send(msg, audio.pcm16)
        if self.recorder is not None:
            self.recorder.interviewer_audio(utterance.turn_id or "", audio.pcm16, audio.sample_rate)
        now = self.clock()
        self._playback_until = max(now, self._playback_until) + audio.duration_s

    def _listening_msg(self, turn: _Turn) -> ListeningMsg:
        return ListeningMsg(turn.request.turn_id, round(turn.clock.remaining(), 1), turn.request.is_follow_up,
                            turn.paused)

    def _start_timer(self, turn: _Turn) -> None:
        self._stop_timer(turn)
        seconds = turn.clock.start()
        self._timer_task = self._spawn(self._timer(turn, seconds))

    def _stop_timer(self, turn: _Turn) -> None:
        turn.clock.stop()
        if self._timer_task is not None:
            self._timer_task.cancel()
            self._timer_task = None

    async def _timer(self, turn: _Turn, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._end(turn, EndReason.TIMER)

    def _end(self, turn: _Turn, reason: EndReason) -> None:
        if not turn.end.done():
            self.latency.answer_ended(reason)
            turn.end.set_result(reason)

    async def listen(self, request: ListenRequest) -> Reply:
        if self._stop_reason is not None:
            return Reply(ReplyAction.STOPPED, Transcript(""), self._stop_reason)
        recorder = self.recorder
        turn_id = request.turn_id

        def on_audio(pcm16k: bytes) -> None:
            if recorder is not None:
                recorder.candidate_audio(turn_id, pcm16k, 16000)

        # The question is still playing in the browser: the answer clock starts when it ends.
        clock = AnswerClock(request.timer_s + max(0.0, self._playback_until - self.clock()), self.clock)
        turn = _Turn(request, None, asyncio.get_running_loop().create_future(), clock)
        turn.listener = self.make_listener(sample_rate=self.options.sample_rate, timer_s=request.timer_s,
                                           on_event=lambda ev: self._on_event(turn, ev), on_audio=on_audio)
        self._turn = turn
        if self.link is not None:
            self._start_timer(turn)
        elif self._grace_task is None:
            self._grace_task = self._spawn(self._grace())
        await self._send(self._listening_msg(turn))
        feeder = asyncio.ensure_future(self._feed(turn))
        ended = asyncio.ensure_future(turn.listener.wait_ended())
        try:
            await asyncio.wait({turn.end, ended, feeder}, return_when=asyncio.FIRST_COMPLETED)
            if ended.done() and not ended.cancelled() and ended.exception() is None:
                self._end(turn, EndReason(str(ended.result())))
            elif feeder.done() and (feeder_exc := feeder.exception()) is not None:
                raise feeder_exc
            reason = turn.end.result() if turn.end.done() else EndReason.STOP
        finally:
            self._stop_timer(turn)
            ended.cancel()
            turn.queue.put_nowait(None)
        await feeder
        transcript: Transcript = await turn.listener.finish()
        self.latency.transcribed()
        self._turn = None
        await self._send(FinalMsg(transcript.text, [w.to_dict() for w in transcript.words], turn_id, reason.value))
        if reason.ends_session:
            self._stop_reason = self._stop_reason or reason
        return Reply(reply_action(reason), transcript, reason)

    async def _feed(self, turn: _Turn) -> None:
        while True:
            data = await turn.queue.get()
            if data is None:
                return
            await turn.listener.feed(data)

    async def _on_event(self, turn: _Turn, event: Any) -> None:
        """Forward the listener's live text: every commit at once, partials at most every interval."""
        if event.kind == "committed":
            if event.segment is not None and self.recorder is not None:
                self.recorder.segment_committed(turn.request.turn_id, event.segment)
            turn.committed.append((event.text or "").strip())
            text = " ".join(t for t in turn.committed if t)
        elif event.kind == "partial":
            text = (event.text or "").strip()  # the listener's partial is the full text so far
        else:
            return
        now = self.clock()
        if event.kind == "committed" or now - turn.last_partial_at >= self.options.partial_interval_s:
            turn.last_partial_at = now
            await self._send(PartialMsg(text, turn.request.turn_id, _heard_s(event.audio_s)))

    async def thinking(self) -> None:
        self.latency.thinking()
        await self._send(StateMsg("thinking"))

    async def show_feedback(self, question: "Question", feedback: "Feedback", note: AttemptNote | None = None) -> None:
        if note is None:
            msg = FeedbackMsg(question.id, feedback.to_dict())
        else:
            comparison = note.comparison.to_dict() if note.comparison is not None else None
            msg = FeedbackMsg(question.id, feedback.to_dict(), note.number, comparison)
        self._replay = [msg]
        await self._send(msg)

    async def reveal(self, question: "Question") -> None:
        msg = RevealMsg(question.id, question.strong_answer)
        self._replay.append(msg)
        await self._send(msg)

    async def review(self, request: ReviewRequest) -> ReviewChoice:
        """Tell the client the feedback is under review and wait for its ``next``, ``retry`` or ``stop``.

        No answer is open meanwhile, so no answer clock runs: the next question's timer starts
        only once it has been asked. A disconnect past the grace period ends the wait with ``stop``.
        """
        if self._stop_reason is not None:
            return ReviewChoice.STOP
        self._review = asyncio.get_running_loop().create_future()
        self._gate.open(request)
        msg = ReviewingMsg(request.question_id, request.attempt, request.last)
        self._replay.append(msg)  # a client that reconnects now sees the feedback and the choice again
        try:
            await self._send(msg)
            return await self._review
        finally:
            self._gate.close()
            self._review = None
            if msg in self._replay:
                self._replay.remove(msg)

    async def close(self, report: "SessionReport | None") -> None:
        self._finished = True
        status = "stopped" if self._stop_reason else "completed"
        await self._send(ReportMsg(report.to_dict() if report else None, status))
        if self._grace_task is not None:
            self._grace_task.cancel()

    def cancel_timers(self) -> None:
        """The session is over: no answer clock or resume grace may fire any more."""
        self._finished = True
        for task in (self._grace_task, self._timer_task, *self._tasks):
            if task is not None:
                task.cancel()
        self._grace_task = self._timer_task = None

    async def error(self, code: str, message: str) -> None:
        await self._send(ErrorMsg(code, message))


def _heard_s(audio_s: float | None) -> float | None:
    """Seconds of answer audio a caption has heard, to the millisecond (the wire needs no more)."""
    return None if audio_s is None else round(audio_s, 3)
