"""Practice at this computer: questions from the speakers, answers from the microphone.

The channel keeps one PortAudio input stream open for the whole session (so a
vanished device is noticed at once) and passes its blocks to an
:class:`~voice_interviewer.speech.listener.AnswerListener` only while an answer
is open; what arrives while the interviewer speaks is dropped, so the speakers
never answer for the candidate. The microphone runs at whatever rate the device
accepts and the listener resamples to 16 kHz; the interviewer's voice is
resampled to the output device's rate.

Audio blocks and key presses reach the event loop through one queue, so an
answer is a single loop over "the next thing that happened". A device that
stops delivering audio becomes an :class:`AudioDeviceError` raised from
:meth:`DesktopChannel.listen`, which the flow records as a failed session
(audio received so far is already with the recorder).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..bank import Question
from ..end_reason import EndReason
from ..errors import AudioDeviceError
from ..recording import NullRecorder, Recorder
from ..report import SessionReport
from ..review import AttemptNote, ReviewChoice, ReviewRequest
from ..scoring.feedback import Feedback
from ..transcript import Transcript
from .base import ListenRequest, Reply, SessionInfo, Utterance, UtteranceKind, reply_action, utterance_sentences
from .devices import DeviceInfo
from .render import render_attempt, render_feedback, render_reveal, review_prompt
from .terminal_ui import KEY_HELP, KeyReader, Screen

LISTEN_RATE_HZ = 16000
KEY_REASONS = {"done": EndReason.DONE, "skip": EndReason.SKIP, "reveal": EndReason.REVEAL, "quit": EndReason.STOP}
REVIEW_KEYS = {"done": ReviewChoice.NEXT, "retry": ReviewChoice.RETRY, "quit": ReviewChoice.STOP}
COUNTDOWN_MARKS_S = (30, 10)  # announced as plain lines when the status line cannot be redrawn


@dataclass(frozen=True)
class DesktopOptions:
    """How a desktop session listens and shows itself.

    Attributes:
        end_silence_s: Silence after speech that ends an answer (long: candidates pause to think).
        keys: Read single-key commands from the terminal; False ends answers only on
            silence or the timer (unattended runs, scripts).
        block_s: Length of each microphone block handed to the listener (seconds).
        stall_timeout_s: An open input stream that delivers nothing for this long is
            treated as a vanished device.
        redraw_interval_s: Minimum time between status-line redraws on a TTY.

    ``warm_up`` (a constructor argument) is slow start-up work, such as loading the
    grader's models, that must be done before the first grade. It runs in a thread
    from :meth:`open` on, while the first question is asked and answered, and
    :meth:`thinking` waits for it.
    """

    end_silence_s: float = 3.0
    keys: bool = True
    block_s: float = 0.05
    stall_timeout_s: float = 3.0
    redraw_interval_s: float = 0.1


@dataclass(frozen=True)
class AudioPath:
    """The negotiated devices: which ones, at which rates (Hz)."""

    input: DeviceInfo
    input_rate_hz: int
    output: DeviceInfo
    output_rate_hz: int


class DesktopChannel:
    """A :class:`~voice_interviewer.channels.base.Channel` over local sound devices."""

    def __init__(self, sd: ModuleType, path: AudioPath, engine: Any, synthesizer: Any,
                 options: DesktopOptions = DesktopOptions(), screen: Screen | None = None,
                 vocabulary: tuple[str, ...] = (), warm_up: Callable[[], object] | None = None):
        self.sd = sd
        self.path = path
        self.engine = engine
        self.synth = synthesizer
        self.options = options
        self.screen = screen or Screen()
        self.vocabulary = vocabulary
        self.warm_up = warm_up
        self._warming: asyncio.Future | None = None
        self.recorder: Recorder = NullRecorder()
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listening = threading.Event()
        self._closing = False
        self._stream: Any = None
        self._keys: KeyReader | None = None
        self._partial = ""
        self._end_reason: EndReason | None = None
        self._turn_id = ""

    # -- streams and keys -------------------------------------------------------------------

    def start(self) -> None:
        """Open the microphone stream and the key reader (call inside the running loop)."""
        self._loop = asyncio.get_running_loop()
        dev = self.path.input
        try:
            self._stream = self.sd.RawInputStream(
                device=dev.index, samplerate=self.path.input_rate_hz, channels=1, dtype="int16",
                blocksize=int(self.path.input_rate_hz * self.options.block_s),
                callback=self._on_block, finished_callback=self._on_stream_finished)
            self._stream.start()
        except Exception as exc:  # PortAudioError: busy, unplugged, refused
            raise AudioDeviceError(
                f"cannot open input device {dev.index} '{dev.name}' at {self.path.input_rate_hz} Hz: {exc}. "
                "It may be busy in another program or gone; close that program, reconnect it, or "
                "choose another with --input-device (see --list-devices).") from exc
        if self.options.keys:
            self._keys = KeyReader(lambda action: self._queue.put_nowait(("key", action)))
            self._keys.__enter__()

    def shutdown(self) -> None:
        """Close the stream and restore the terminal; safe to call more than once."""
        self._closing = True
        self._listening.clear()
        if self._keys is not None:
            self._keys.close()
            self._keys = None
        if self._stream is not None:
            stream, self._stream = self._stream, None
            try:
                stream.abort()
                stream.close()
            except Exception:  # the device may already be gone; nothing left to release
                pass
        self.screen.clear_status()

    def _on_block(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio thread: copy the block out and hand it to the loop; never block here.
        if self._listening.is_set() and self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, ("audio", bytes(indata)))

    def _on_stream_finished(self) -> None:
        if not self._closing and self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, ("gone", "the input stream stopped"))

    def _device_gone(self, why: str) -> AudioDeviceError:
        dev = self.path.input
        return AudioDeviceError(
            f"input device {dev.index} '{dev.name}' stopped delivering audio ({why}). It was probably "
            "unplugged or taken by another program; the session so far is saved. Reconnect it and "
            "start a new session, or choose another device with --input-device.")

    # -- Channel protocol ---------------------------------------------------------------------

    async def open(self, session: SessionInfo, recorder: Recorder) -> None:
        self.recorder = recorder
        self.synth.prepare(session.texts_to_prepare())
        if self.warm_up is not None:
            self._warming = _in_daemon_thread(self.warm_up)
            self.warm_up = None
        p = self.path
        self.screen.line(f"Mock interview: {session.role_title} — {len(session.questions)} question(s), "
                         f"interviewer: {session.interviewer}. Session {session.session_id}.")
        self.screen.line(f"Microphone: {p.input.name} ({p.input_rate_hz} Hz) · speakers: {p.output.name} "
                         f"({p.output_rate_hz} Hz) · voice: {getattr(self.synth, 'name', '?')}")
        if self._keys is not None and self._keys.active:
            self.screen.line(KEY_HELP)
        else:
            self.screen.line(f"An answer ends after {self.options.end_silence_s:g} s of silence or when "
                             "its timer runs out.")

    async def say(self, utterance: Utterance) -> None:
        """Speak sentence by sentence: the next sentence is synthesised while this one plays."""
        label = "Follow-up" if utterance.kind is UtteranceKind.FOLLOW_UP else "Interviewer"
        self.screen.line()
        playing: asyncio.Future | None = None
        try:
            async for sentence in utterance_sentences(utterance):
                self.screen.line(f"{label}: {sentence}" if playing is None else f"  {sentence}")
                audio = await self.synth.synthesize(sentence)
                self.recorder.interviewer_audio(utterance.turn_id or "", audio.pcm16, audio.sample_rate)
                pcm16 = self._to_output_rate(audio)
                if playing is not None:
                    await playing
                playing = asyncio.ensure_future(asyncio.to_thread(self._play, pcm16))
            if playing is not None:
                await playing
        finally:
            if playing is not None and not playing.done():
                await asyncio.wait([playing])

    async def listen(self, request: ListenRequest) -> Reply:
        from ..speech.listener import AnswerListener

        self._turn_id, self._partial, self._end_reason = request.turn_id, "", None
        listener = AnswerListener(
            self.engine, sample_rate=self.path.input_rate_hz, timer_s=request.timer_s,
            endpoint=_endpoint(self.options.end_silence_s), prompt_terms=self.vocabulary,
            on_event=self._on_listener_event,
            on_audio=lambda pcm: self.recorder.candidate_audio(request.turn_id, pcm, LISTEN_RATE_HZ))
        self._drop_queued(keep_keys=("skip", "reveal", "quit"))
        keys = self._keys is not None and self._keys.active
        self.screen.line(f"[listening — up to {request.timer_s:.0f} s; "
                         f"{'press Enter when done' if keys else 'pause to finish'}]")
        paused = False
        last_draw = 0.0
        self._listening.set()
        try:
            while not listener.ended:
                try:
                    kind, value = await asyncio.wait_for(self._queue.get(), self.options.stall_timeout_s)
                except asyncio.TimeoutError:
                    raise self._device_gone(f"no audio for {self.options.stall_timeout_s:g} s") from None
                if kind == "gone":
                    raise self._device_gone(value)
                if kind == "key":
                    if value not in KEY_REASONS and value != "pause":
                        continue  # a review key ("t") means nothing while answering
                    if value == "pause":
                        paused = not paused
                        self.screen.line("[paused — press p to resume]" if paused else "[resumed]")
                        continue
                    self.screen.line(f"[{value}]")
                    transcript = await listener.finish()
                    self._show_answer(transcript)
                    reason = KEY_REASONS[value]
                    return Reply(reply_action(reason), transcript, reason)
                if paused:
                    continue
                await listener.feed(value)
                remaining_s = request.timer_s - listener.audio_s
                for mark_s in COUNTDOWN_MARKS_S:
                    if remaining_s <= mark_s < remaining_s + len(value) / 2 / self.path.input_rate_hz:
                        self.screen.event(f"[{mark_s} s left]")
                now = time.monotonic()
                if now - last_draw >= self.options.redraw_interval_s:
                    last_draw = now
                    self.screen.status(remaining_s, listener.level_dbfs, self._partial)
            transcript = await listener.finish()
        finally:
            self._listening.clear()
        reason = self._end_reason or EndReason.SILENCE
        self.screen.line(f"[answer ended: {reason}]")
        self._show_answer(transcript)
        return Reply(reply_action(reason), transcript, reason)

    def _show_answer(self, transcript: Transcript) -> None:
        """On a TTY the words were only in the status line; keep the final text on screen."""
        if self.screen.is_tty and transcript.text.strip():
            self.screen.line(f"You said: {transcript.text.strip()}")

    async def thinking(self) -> None:
        self.screen.event("[thinking…]")
        if self._warming is not None:
            warming, self._warming = self._warming, None
            await warming

    async def show_feedback(self, question: Question, feedback: Feedback, note: AttemptNote | None = None) -> None:
        self.screen.line()
        if note is not None and note.comparison is not None:
            self.screen.line(render_attempt(note))
        self.screen.line(render_feedback(question, feedback))

    async def reveal(self, question: Question) -> None:
        self.screen.line()
        self.screen.line(render_reveal(question))

    async def review(self, request: ReviewRequest) -> ReviewChoice:
        """Wait for Enter (go on), t (try again) or q (quit); without keys there is no one to ask."""
        if self._keys is None or not self._keys.active:
            return ReviewChoice.NEXT
        self._drop_queued(keep_keys=("quit",))  # an Enter pressed while grading must not skip the feedback
        self.screen.line(review_prompt(request, "Enter", "t", "q"))
        while True:
            try:
                kind, value = await asyncio.wait_for(self._queue.get(), 1.0)
            except asyncio.TimeoutError:
                if self._keys is None or not self._keys.active:  # the terminal closed: nobody can answer
                    return ReviewChoice.NEXT
                continue
            if kind == "gone":
                raise self._device_gone(value)
            if kind == "key" and value in REVIEW_KEYS:
                return REVIEW_KEYS[value]

    async def close(self, report: SessionReport | None) -> None:
        from .render import render_report

        self.screen.line()
        self.screen.line(render_report(report) if report else "Session ended before any answer was graded.")

    # -- helpers ------------------------------------------------------------------------------

    async def _on_listener_event(self, event: Any) -> None:
        if event.kind == "speech_started":
            self.screen.event("[speech started]")
        elif event.kind == "partial":
            self._partial = event.text
        elif event.kind == "committed":
            if event.segment is not None:
                self.recorder.segment_committed(self._turn_id, event.segment)
            self._partial = event.text
            self.screen.event(f"  heard: {event.segment.text.strip() if event.segment else event.text}")
        elif event.kind == "ended":
            self._end_reason = EndReason(event.reason) if event.reason else EndReason.SILENCE

    def _drop_queued(self, keep_keys: tuple[str, ...]) -> None:
        """Forget audio and an early Enter from before the answer opened; keep skip/reveal/quit."""
        kept = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item[0] == "gone" or (item[0] == "key" and item[1] in keep_keys):
                kept.append(item)
        for item in kept:
            self._queue.put_nowait(item)

    def _to_output_rate(self, audio: Any) -> bytes:
        from ..speech import pcm

        if audio.sample_rate == self.path.output_rate_hz:
            return audio.pcm16
        samples = pcm.pcm16_to_float(audio.pcm16)
        return pcm.float_to_pcm16(pcm.resample(samples, audio.sample_rate, self.path.output_rate_hz))

    def _play(self, pcm16: bytes) -> None:
        """Play one sentence to the end (blocking; runs in a worker thread).

        A stream per sentence, closed only once drained, so the call returns when the
        sentence has been heard and a slow next sentence leaves plain silence.
        """
        dev = self.path.output
        try:
            # High latency = a deep buffer: the speech is ready in full, and a busy CPU must not
            # starve the device (an underrun is an audible click).
            stream = self.sd.RawOutputStream(device=dev.index, samplerate=self.path.output_rate_hz,
                                             channels=1, dtype="int16", latency="high")
        except Exception as exc:  # PortAudioError: busy, unplugged
            raise AudioDeviceError(
                f"cannot open output device {dev.index} '{dev.name}' at {self.path.output_rate_hz} Hz: "
                f"{exc}. It may be busy or gone; choose another with --output-device "
                "(see --list-devices).") from exc
        try:
            stream.start()
            stream.write(pcm16)
            stream.stop()  # returns once the buffered speech has been played
        except Exception as exc:  # PortAudioError mid-utterance: the speakers went away
            raise AudioDeviceError(f"output device {dev.index} '{dev.name}' failed while speaking: {exc}. "
                                   "Reconnect it or choose another with --output-device.") from exc
        finally:
            stream.close()


def _in_daemon_thread(fn: Callable[[], object]) -> asyncio.Future:
    """Run ``fn`` in a daemon thread: a session that ends early (q, Ctrl-C) exits at once
    instead of waiting for a model load nobody needs any more, as the default executor would."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def settle(result: object, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        result, error = None, None
        try:
            result = fn()
        except BaseException as exc:  # handed to whoever awaits the future
            error = exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop has closed: the session ended before it was needed
            pass

    threading.Thread(target=run, name="desktop-warm-up", daemon=True).start()
    return future


def _endpoint(end_silence_s: float) -> Any:
    from ..speech.endpoint import EndpointOptions

    return EndpointOptions(end_silence_s=end_silence_s)
