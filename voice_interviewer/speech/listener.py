"""Listen to one spoken answer: live partials, committed segments, end of answer, final transcript.

A channel creates one :class:`AnswerListener` per answer and feeds it the
candidate's PCM16 frames as they arrive. ``feed`` is cheap (resample, VAD,
endpointing) and never waits for the model: decodes run in background tasks on
the shared :class:`~voice_interviewer.speech.engine.SpeechEngine` workers. Segments
are committed at VAD pauses (and by local agreement during long unbroken speech),
so when the answer ends only the open tail is left to decode.

Decodes run in two lanes, each one call at a time: the *transcript* lane (segments
closed at pauses, the decode that starts as soon as speech stops, agreement commits,
the final) and the *caption* lane (live captions only). A caption already running
when the candidate stops speaking must not hold up the decode that the end of the
answer will reuse: the two lanes run side by side, and a result older than one
already shown is dropped::

    listener = AnswerListener(engine, sample_rate=48000, timer_s=120, on_event=send)
    async for frame in mic:
        await listener.feed(frame)
        if listener.ended:
            break
    transcript = await listener.finish()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..transcript import Segment, Transcript, Word
from .endpoint import Endpointer, EndpointOptions
from .engine import Decoded, SpeechEngine
from .pcm import StreamResampler, float_to_pcm16, level_dbfs, pcm16_to_float
from .remote import RemoteTranscriber
from .scheduler import CAPTION, COMMIT, FINAL
from .streaming import (
    SAMPLE_RATE,
    StreamOptions,
    TailBuffer,
    TailJob,
    agreed_prefix,
    drop_trailing_hallucinations,
    join_words,
    make_segment,
    shift,
)
from .vad import WINDOW_S, StreamingVad
from .vocabulary import build_prompt

__all__ = ["AnswerListener", "EndpointOptions", "ListenerEvent", "StreamOptions", "replay", "transcribe_audio",
           "transcribe_file"]

log = logging.getLogger(__name__)

TRANSCRIPT, CAPTIONS = "transcript", "captions"
"""The listener's two decode lanes (see the module docstring)."""

MERGE_GAP_S = 1.0
"""Queued jobs this close together (silence dropped between them) are decoded as one; the gap is
filled with silence so word timings stay in answer time."""


@dataclass(frozen=True)
class ListenerEvent:
    """Something the listener noticed; channels forward these to the candidate's screen.

    Attributes:
        kind: ``"speech_started"``, ``"partial"``, ``"committed"`` or ``"ended"``.
        text: For "partial" the full current text (committed + tail hypothesis); for
            "committed" the segment's text.
        segment: The committed segment (answer time), for "committed".
        reason: ``"silence"`` or ``"timer"``, for "ended".
        audio_s: For "partial" and "committed", seconds of the answer's audio the text has
            heard (answer time); a client compares it with what it has sent to show lag.
    """

    kind: str
    text: str = ""
    segment: Segment | None = None
    reason: str | None = None
    audio_s: float | None = None


@dataclass
class _Hypothesis:
    generation: int
    audio_end_s: float
    words: tuple[Word, ...]  # answer time


class AnswerListener:
    """One answer: feed PCM16 mono frames of any size at `sample_rate`; get partials, commits and the end.

    Always call :meth:`finish` (also when the client went away): it stops the
    background decoding task and returns what was said.

    Attributes:
        model_audio_s: Seconds of audio sent to the model so far (cost accounting).
        finish_audio_s: Seconds of audio sent to the model by :meth:`finish` itself.
        decodes: Number of model calls made.
        remote_decodes: Of those, how many the transcription server answered.

    With ``remote``, the decodes that make the transcript (each stretch closed by a pause,
    and the last one when the answer ends) go to that server first; live captions, VAD
    and endpointing stay on the local model, which also takes over any decode the server
    fails or is too slow for. (During long unbroken speech, words that two successive
    captions agree on are committed from the captions, as without a server.)
    """

    def __init__(self, engine: SpeechEngine, *, sample_rate: int, timer_s: float,
                 endpoint: EndpointOptions = EndpointOptions(), prompt_terms: Sequence[str] = (),
                 on_event: Callable[[ListenerEvent], Awaitable[None]] | None = None,
                 on_audio: Callable[[bytes], None] | None = None,
                 stream: StreamOptions = StreamOptions(), remote: RemoteTranscriber | None = None):
        self.engine = engine
        self.remote = remote
        self.sample_rate = sample_rate
        self.stream = stream
        self.prompt_terms = tuple(prompt_terms)
        self._on_event = on_event
        self._on_audio = on_audio
        self._resampler = StreamResampler(sample_rate, SAMPLE_RATE)
        self._vad = StreamingVad()
        self._endpointer = Endpointer(endpoint, timer_s)
        self._tail = TailBuffer()
        self._jobs: deque[TailJob] = deque()
        self._segments: list[Segment] = []
        self._hyp: _Hypothesis | None = None
        self._hyp_seq = 0  # the partial decode whose result the hypothesis and captions now show
        self._partial_seq = 0
        self._commit_due = False  # a COMMIT partial is wanted (transcript lane)
        self._caption_due = False  # a CAPTION partial is wanted (caption lane)
        self._inflight: dict[str, tuple[concurrent.futures.Future, bool]] = {}  # lane → (call, is a partial)
        self._last_partial_at_s = 0.0
        self._received_samples = 0
        self._level = -120.0
        self._idle = asyncio.Event()
        self._idle.set()
        self._lanes: dict[str, asyncio.Task] = {}  # lane → its running decode task
        self._finishing = False
        self._final: asyncio.Future[Transcript] | None = None
        self._ended_future: asyncio.Future[str] | None = None
        self._error: BaseException | None = None
        self.model_audio_s = 0.0
        self.finish_audio_s = 0.0
        self.decodes = 0
        self.remote_decodes = 0

    # -- public state ---------------------------------------------------------------------------

    @property
    def ended(self) -> str | None:
        """``"silence"`` or ``"timer"`` once the endpointer ended the answer, else ``None``."""
        return self._endpointer.ended

    @property
    def level_dbfs(self) -> float:
        """Level of the last frame, for meters."""
        return self._level

    @property
    def audio_s(self) -> float:
        """Seconds of audio received (at the input rate)."""
        return self._received_samples / self.sample_rate

    @property
    def committed_text(self) -> str:
        return " ".join(s.text for s in self._segments if s.text)

    async def wait_ended(self) -> str:
        """Resolve when the answer ends: "silence", "timer", or "done" if finish() came first."""
        if self.ended:
            return self.ended
        if self._finishing:
            return "done"
        if self._ended_future is None:
            self._ended_future = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._ended_future)

    async def idle(self) -> None:
        """Wait until every decode scheduled so far has run (used to replay files deterministically)."""
        await self._idle.wait()

    # -- input ----------------------------------------------------------------------------------

    async def feed(self, pcm16: bytes) -> None:
        """Take one frame; cheap. Audio after the end of the answer or after finish() is ignored."""
        if self._finishing or self.ended:
            return
        x = pcm16_to_float(pcm16)
        self._received_samples += len(x)
        if len(x):
            self._level = level_dbfs(x)
        y = self._resampler.process(x)
        if self._on_audio is not None and len(y):
            self._on_audio(float_to_pcm16(y))
        await self._ingest(y)

    async def _ingest(self, y: np.ndarray) -> None:
        self._tail.append(y)
        ep = self._endpointer
        for prob in self._vad.process(y):
            update = ep.update(float(prob), WINDOW_S)
            if ep.in_speech:
                self._tail.speech_s += WINDOW_S
            if update.speech_started:
                await self._emit(ListenerEvent("speech_started"))
            if update.pause:
                self._commit_pause()
            if update.ended:
                await self._emit(ListenerEvent("ended", reason=update.ended))
                if self._ended_future is not None and not self._ended_future.done():
                    self._ended_future.set_result(update.ended)
                return
        if self._tail.speech_s == 0 or not ep.started:  # nothing said yet: keep only a short lead-in
            self._tail.drop_before(ep.audio_s - self.stream.lead_silence_s, new_generation=False)
            self._tail.speech_s = 0.0
        elif (kind := self._partial_wanted(ep.audio_s)) is not None:
            self._last_partial_at_s = ep.audio_s
            if kind == COMMIT:
                self._commit_due = True
                self._drop_queued_caption()  # the commit hears more, and is shown when it returns
            else:
                self._caption_due = True
            self._kick()

    def _partial_wanted(self, now_s: float) -> int | None:
        """The kind of decode to run on the open tail now, or ``None`` for none yet.

        A ``COMMIT`` as soon as speech stops: that hypothesis hears everything said so
        far, so the pause commit that usually follows, or a "done" from the candidate,
        reuses it instead of decoding again after the fact. A ``COMMIT`` too once the tail
        is long enough for agreed words to be committed from it, often enough to commit
        before the tail outgrows Whisper's window. Otherwise a ``CAPTION`` about once a
        second of audio, stretched by the server's caption budget under load.
        """
        o, ep = self.stream, self._endpointer
        speech_end_s = ep.last_speech_end_s or 0.0
        if (o.live_partials and not ep.in_speech
                and ep.silence_s >= max(o.speculate_after_silence_s, o.reuse_margin_s)
                and self._last_partial_at_s < speech_end_s + o.reuse_margin_s):
            return COMMIT
        every_s = self.engine.caption_interval_s(o.partial_interval_s)
        agreeing = self._tail.duration_s >= o.agreement_after_s
        if agreeing:  # these hypotheses commit text: two must fit before the tail reaches max_tail_s
            every_s = min(every_s, (o.max_tail_s - o.agreement_after_s) / 3)
        if now_s - self._last_partial_at_s < every_s:
            return None
        if agreeing:
            return COMMIT
        if o.live_partials or self._tail.duration_s >= o.agreement_after_s - every_s:
            return CAPTION
        return None

    def _commit_pause(self) -> None:
        """A pause after speech: the tail up to (nearly) now becomes a job; silence stays behind."""
        cut_at = self._endpointer.audio_s - self.stream.cut_keep_s
        if self._tail.speech_s < self.stream.min_segment_speech_s:  # a click or a breath, not a word
            self._tail.drop_before(cut_at)
            return
        self._jobs.append(self._tail.cut(cut_at, self._endpointer.last_speech_end_s or cut_at))
        self._last_partial_at_s = self._endpointer.audio_s
        self._commit_due = self._caption_due = False
        self._kick()

    # -- background decoding --------------------------------------------------------------------

    def _kick(self) -> None:
        """Make sure each lane with work has a decoding task; it exits when its work is done."""
        loop = asyncio.get_running_loop()
        for lane, has_work in ((TRANSCRIPT, self._transcript_work), (CAPTIONS, self._caption_work)):
            if lane not in self._lanes and has_work():
                self._idle.clear()
                self._lanes[lane] = loop.create_task(self._run(lane, has_work))

    def _transcript_work(self) -> bool:
        return bool(self._jobs) or (self._commit_due and not self._finishing)

    def _caption_work(self) -> bool:
        return self._caption_due and not self._finishing

    async def _run(self, lane: str, has_work: Callable[[], bool]) -> None:
        while has_work():
            try:
                if lane == CAPTIONS:
                    self._caption_due = False
                    await self._decode_partial(lane)
                elif self._jobs:
                    await self._decode_job(self._next_job())
                else:
                    self._commit_due = False
                    await self._decode_partial(lane)
            except Exception as exc:  # keep the answer's audio flowing; finish() reports it
                log.exception("speech decode failed")
                self._error = self._error or exc
        del self._lanes[lane]
        if not self._lanes:
            self._idle.set()

    def _drop_queued_caption(self) -> None:
        """Cancel this answer's caption if it is still waiting for a worker (not once it runs)."""
        call = self._inflight.get(CAPTIONS)
        if call is not None:
            call[0].cancel()

    async def _decode(self, audio: np.ndarray, kind: int, *, lane: str = TRANSCRIPT, partial: bool = False,
                      transcript: bool = False) -> tuple[Word, ...] | None:
        """One decode. ``transcript`` ones (not captions) go to the transcription server first, if
        any; the rest, and whatever it fails on, are one model call on the shared scheduler, where
        every call is a final once the answer has ended.

        ``None`` when :meth:`finish` dropped this partial decode before it started.
        """
        prompt = build_prompt(self.prompt_terms, self.committed_text, prime=self.stream.prime_prompt,
                              terms_in_prompt=self.stream.terms_in_prompt, context_chars=self.stream.context_chars)
        remote: Decoded | None = None
        if transcript and self.remote is not None:
            remote = await asyncio.to_thread(self.remote.transcribe, audio, prompt)
            self.remote_decodes += remote is not None
        if remote is not None:
            decoded = remote
        else:
            future = self.engine.submit_decode(audio, prompt, kind=FINAL if self._finishing else kind, owner=self,
                                               one_pass=partial)
            self._inflight[lane] = (future, partial)
            try:
                decoded = await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if future.cancelled() and (task is None or not task.cancelling()):
                    return None
                raise
            finally:
                del self._inflight[lane]
        self.decodes += 1
        self.model_audio_s += decoded.audio_s
        if self._finishing:
            self.finish_audio_s += decoded.audio_s
        return decoded.words

    def _reuses_hypothesis(self, job: TailJob) -> bool:
        """The last partial already heard everything said in this job: commit it, decode nothing."""
        hyp = self._hyp
        job_end_s = job.start_s + len(job.audio) / SAMPLE_RATE
        if self.remote is not None and self.remote.available:
            return False  # the transcription server decodes every stretch of the transcript
        return (hyp is not None and hyp.generation == job.generation
                and hyp.audio_end_s >= min(job_end_s, job.speech_end_s + self.stream.reuse_margin_s))

    def _next_job(self) -> TailJob:
        """The next queued job, joined with the ones queued behind it when decoding has fallen behind.

        Whisper pads every call to 30 s, so one call on three pause-separated segments
        costs about what a call on one of them does. On a busy server the segments of an
        answer queue up, and at its end the candidate would wait for each in turn.
        """
        first = self._jobs.popleft()
        if self._reuses_hypothesis(first):
            return first
        parts, last = [first.audio], first
        end_s = first.start_s + len(first.audio) / SAMPLE_RATE
        while self._jobs:
            nxt = self._jobs[0]
            gap_s = nxt.start_s - end_s
            nxt_end_s = nxt.start_s + len(nxt.audio) / SAMPLE_RATE
            if (self._reuses_hypothesis(nxt) or not -0.001 <= gap_s <= MERGE_GAP_S
                    or nxt_end_s - first.start_s > self.stream.max_tail_s):
                break
            self._jobs.popleft()
            parts += [np.zeros(max(0, int(round(gap_s * SAMPLE_RATE))), np.float32), nxt.audio]
            last, end_s = nxt, nxt_end_s
        if last is first:
            return first
        return TailJob(np.concatenate(parts), first.start_s, last.generation, last.speech_end_s, final=last.final)

    async def _decode_job(self, job: TailJob) -> None:
        job_end_s = job.start_s + len(job.audio) / SAMPLE_RATE
        if self._reuses_hypothesis(job):
            assert self._hyp is not None
            words = self._hyp.words
        else:
            words = shift(await self._decode(job.audio, COMMIT, transcript=True) or (), job.start_s)
        if self._hyp is not None and self._hyp.generation <= job.generation:
            self._hyp = None
        await self._commit(drop_trailing_hallucinations(words, job.speech_end_s), job_end_s)

    async def _commit(self, words: Sequence[Word], heard_s: float) -> None:
        if not words:
            return
        segment = make_segment(words)
        self._segments.append(segment)
        await self._emit(ListenerEvent("committed", text=segment.text, segment=segment, audio_s=heard_s))

    async def _decode_partial(self, lane: str) -> None:
        """Decode the open tail: a caption in the caption lane, a hypothesis that may commit in the other."""
        kind = CAPTION if lane == CAPTIONS else COMMIT
        tail = self._tail
        if tail.speech_s <= 0 or tail.duration_s <= 0:
            return
        generation, start_s, end_s = tail.generation, tail.start_s, tail.end_s
        self._partial_seq += 1
        seq = self._partial_seq
        decoded = await self._decode(tail.audio().copy(), kind, lane=lane, partial=True)
        if decoded is None or seq < self._hyp_seq or (lane == CAPTIONS and self._finishing):
            return  # dropped before it ran, overtaken by a decode that heard more, or too late to show
        self._hyp_seq = seq
        words = shift(decoded, start_s)
        ep = self._endpointer
        heard_until_s = end_s if ep.in_speech else min(end_s, ep.last_speech_end_s or end_s)
        words = drop_trailing_hallucinations(words, heard_until_s)  # captions show no phantoms either
        previous = self._hyp.words if self._hyp is not None and self._hyp.generation == generation else ()
        self._hyp = _Hypothesis(generation, end_s, words)
        if tail.generation != generation:
            # A pause closed this tail while it was decoding: the queued job for it reuses
            # this hypothesis if it heard all the speech, and there is nothing to show.
            return
        agreed = self._agreed(previous, words, start_s, end_s)
        if agreed:
            cut_s = agreed[-1].end_s
            tail.drop_before(cut_s)
            tail.speech_s = max(tail.duration_s - self.stream.lead_silence_s, WINDOW_S)
            rest = tuple(words[len(agreed):])
            self._hyp = _Hypothesis(tail.generation, end_s, rest)
            await self._commit(agreed, end_s)
            words = rest
        text = " ".join(t for t in (self.committed_text, join_words(words)) if t)
        await self._emit(ListenerEvent("partial", text=text, audio_s=end_s))

    def _agreed(self, previous: Sequence[Word], current: Sequence[Word], start_s: float,
                end_s: float) -> list[Word]:
        """Words to commit from a partial during long unbroken speech (LocalAgreement-2)."""
        o = self.stream
        length = end_s - start_s
        if length < o.agreement_after_s:
            return []
        safe = [w for w in current if w.end_s <= end_s - o.edge_guard_s]
        agreed = agreed_prefix(previous, safe)
        if not agreed and length >= o.max_tail_s:
            agreed = safe  # no agreement in time: commit what is safely inside the window
        return agreed

    # -- the end --------------------------------------------------------------------------------

    async def finish(self) -> Transcript:
        """Stop listening; decode only the open tail; return the final transcript (idempotent)."""
        if self._final is None:
            self._final = asyncio.get_running_loop().create_future()
            try:
                self._final.set_result(await self._finish())
            except asyncio.CancelledError:
                self._final.cancel()
                raise
            except Exception as exc:
                self._final.set_exception(exc)
        return await asyncio.shield(self._final)

    async def _finish(self) -> Transcript:
        self._finishing = True
        self._commit_due = self._caption_due = False
        for future, partial in list(self._inflight.values()):
            if not (partial and future.cancel()):
                # A partial still queued is dropped: the final decode hears more. Anything else
                # (running, or a segment's commit) may wait behind other sessions' captions.
                self.engine.promote(future)
        if not self.ended:
            await self._ingest_tail_end()
        if self._tail.speech_s >= self.stream.min_segment_speech_s:
            end_s = self._tail.end_s
            job = self._tail.cut(end_s, self._endpointer.last_speech_end_s or end_s)
            self._jobs.append(TailJob(job.audio, job.start_s, job.generation, job.speech_end_s, final=True))
        self._kick()
        transcript_lane = self._lanes.get(TRANSCRIPT)
        if transcript_lane is not None:  # a caption still running is not waited for: its text is not needed
            await asyncio.wait({transcript_lane})
        if self._ended_future is not None and not self._ended_future.done():
            self._ended_future.set_result("done")
        if self._error is not None:
            raise self._error
        words = tuple(w for s in self._segments for w in s.words)
        start = self._endpointer.speech_start_s
        if words:  # Silero confirms an onset a little late; the first word's timing is the better bound
            start = words[0].start_s if start is None else min(start, words[0].start_s)
        return Transcript(self.committed_text, words, tuple(self._segments), self.audio_s, start)

    async def _ingest_tail_end(self) -> None:
        """The resampler's last samples; the VAD sees them so a final word counts as speech."""
        rest = self._resampler.flush()
        if self._on_audio is not None and len(rest):
            self._on_audio(float_to_pcm16(rest))
        self._tail.append(rest)
        for prob in self._vad.process(rest):
            self._endpointer.update(float(prob), WINDOW_S)
            if self._endpointer.in_speech:
                self._tail.speech_s += WINDOW_S

    async def _emit(self, event: ListenerEvent) -> None:
        if self._on_event is None:
            return
        try:
            await self._on_event(event)
        except Exception:  # a closed socket must not lose the transcript
            log.exception("listener event handler failed for %s", event.kind)


async def replay(listener: AnswerListener, audio: np.ndarray, *, realtime: bool = False,
                 frame_s: float = 0.05) -> None:
    """Feed float audio at ``listener.sample_rate`` as a live client would, frame by frame.

    With ``realtime`` the frames arrive at the pace of speech. Otherwise as fast as the
    model keeps up: after each frame the replay waits for the decodes that frame
    scheduled, so the outcome (and the CPU spent) is what a live stream on this machine
    would get, minus the waiting. Stops early once the listener ends the answer.
    """
    rate = listener.sample_rate
    step = max(1, int(frame_s * rate))
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(0, len(audio), step):
        await listener.feed(float_to_pcm16(audio[i:i + step]))
        if listener.ended:
            return
        if realtime:
            delay = t0 + (i + step) / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        else:
            await listener.idle()


async def transcribe_audio(engine: SpeechEngine, audio: np.ndarray, *, prompt_terms: Sequence[str] = (),
                           realtime: bool = False, stream: StreamOptions = StreamOptions(),
                           on_event: Callable[[ListenerEvent], Awaitable[None]] | None = None) -> Transcript:
    """Transcribe 16 kHz mono float audio as one answer through the live path (see :func:`replay`).

    The whole recording is the answer: silence never ends it.
    """
    listener = AnswerListener(engine, sample_rate=SAMPLE_RATE, timer_s=math.inf,
                              endpoint=EndpointOptions(end_silence_s=math.inf), prompt_terms=prompt_terms,
                              on_event=on_event, stream=stream)
    await replay(listener, audio, realtime=realtime)
    return await listener.finish()


async def transcribe_file(engine: SpeechEngine, path, *, prompt_terms: Sequence[str] = (),
                          realtime: bool = False, stream: StreamOptions = StreamOptions(),
                          on_event: Callable[[ListenerEvent], Awaitable[None]] | None = None) -> Transcript:
    """Transcribe a recording through exactly the live path: decoded, then replayed frame by frame."""
    from .audio_io import decode_file

    return await transcribe_audio(engine, decode_file(path, SAMPLE_RATE), prompt_terms=prompt_terms,
                                  realtime=realtime, stream=stream, on_event=on_event)
