"""One websocket server: the web client over plain HTTP and the interview on ``/ws``.

Each connection that sends ``start`` gets its own :class:`~voice_interviewer.interview.Interview`
running the shared flow over a :class:`~voice_interviewer.channels.websocket.WebsocketChannel`.
The speech model and the voice are loaded once, before the first client is accepted,
and shared by every session.

This module routes: what every request must pass is in :mod:`.http_checks`, the
limits in :mod:`.server_options`, the running sessions in :mod:`.live_sessions`,
and the command that starts it in :mod:`.commands.serve`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import protocol as proto
from .bank import Bank, available_banks, load_role
from .capacity import MIN_SESSIONS
from .channels.websocket import ChannelOptions, Link, WebsocketChannel
from .end_reason import EndReason
from .errors import ProtocolError, VoiceInterviewerError
from .http_checks import host_ok, origin_ok, response, static_file, text_response, token_ok
from .interview import Interview
from .live_sessions import LiveSession, SessionRegistry
from .plan import InterviewSettings
from .recording import NullRecorder, QueuedRecorder, Recorder
from .server_options import ServerOptions

__all__ = ["InterviewServer", "ServerOptions"]

log = logging.getLogger(__name__)


class InterviewServer:
    """Serves the web client and runs one interview per websocket connection."""

    def __init__(self, options: ServerOptions = ServerOptions(), recorder_factory: Any = None,
                 engine: Any = None, synthesizers: dict[str | None, Any] | None = None, store: Any = None,
                 remote: Any = None):
        """``store`` (a :class:`~voice_interviewer.store.SessionStore`) records every session and serves
        the read-only ``/api/sessions`` routes of the playback page; ``recorder_factory(session_id)``
        overrides how sessions are recorded (default: the store's recorder, else nothing);
        ``remote`` (a :class:`~voice_interviewer.speech.remote.RemoteTranscriber`) transcribes
        finished stretches of answers on a speech server, the local model standing by."""
        self.options = options.validate()
        self.store = store
        default = store.recorder if store is not None else (lambda session_id: NullRecorder())
        self.recorder_factory = recorder_factory or default
        self.engine = engine
        self.remote = remote
        self.synthesizers: dict[str | None, Any] = dict(synthesizers or {})
        self.sessions = SessionRegistry(self.options.max_sessions or MIN_SESSIONS)
        self.capacity_note = (f"{self.options.max_sessions} sessions at once (--max-sessions)"
                              if self.options.max_sessions else "not measured yet")
        self._graders: dict[str, Any] = {}
        self._banks: dict[str, Bank] = {}
        self._server: Any = None
        self.port = self.options.port

    # -- start-up ---------------------------------------------------------------------

    async def warm(self) -> None:
        """Load the speech model, the default voice and the offline grader before accepting clients."""
        from .speech.engine import SpeechEngine

        if self.engine is None:
            self.engine = await asyncio.to_thread(SpeechEngine.shared)
        if self.remote is not None:
            problem = await asyncio.to_thread(self.remote.probe)
            if problem:
                log.warning("transcription server %s does not answer (%s); answers are transcribed locally "
                            "until it does", self.remote.options.url, problem)
        synth = await self.synthesizer(self.options.voice_engine)
        await synth.synthesize("Hello.")
        if self.options.max_sessions is None:
            await self._measure_capacity(synth)
        grader = await asyncio.to_thread(self.grader, "rubric")
        banks = list(available_banks())
        if banks:
            bank = await asyncio.to_thread(self.bank, banks[0])
            await self._prepare_grader(grader, bank.questions[:1])

    async def _measure_capacity(self, synth: Any) -> None:
        """Set the session limit from one real decode on this machine (see :mod:`.capacity`)."""
        from . import capacity

        measured = await capacity.measure(self.engine, synth)
        self.sessions.max_sessions = measured.sessions
        self.capacity_note = measured.describe()
        log.info("capacity: %s", self.capacity_note)

    @staticmethod
    async def _prepare_grader(grader: Any, questions: Any) -> None:
        """Embed each question's rubric ahead of time, off the event loop.

        The flow asks the grader for coverage on the event loop right after an answer;
        with the rubric already embedded that call takes milliseconds instead of seconds.
        """
        from .transcript import Transcript

        probe = [Transcript("I would start from the requirements and measure the result.")]
        for q in questions:
            try:
                await asyncio.to_thread(grader.coverage, q, probe)
            except Exception:  # preparation is an optimisation; grading later reports real errors
                log.exception("could not prepare grading for %s", q.id)
                return

    async def synthesizer(self, engine: str | None) -> Any:
        if engine not in self.synthesizers:
            from .speech.tts import VoiceOptions, make_synthesizer

            self.synthesizers[engine] = await asyncio.to_thread(make_synthesizer, VoiceOptions(engine=engine))
        return self.synthesizers[engine]

    def grader(self, kind: str) -> Any:
        if kind not in self._graders:
            from .factory import make_grader

            self._graders[kind] = make_grader(kind)
        return self._graders[kind]

    def bank(self, role: str) -> Bank:
        if role not in self._banks:
            self._banks[role] = load_role(role)
        return self._banks[role]

    async def start(self) -> None:
        """Warm up, then listen; ``self.port`` holds the bound port afterwards."""
        await self.warm()
        self._server = await serve(
            self._handle, self.options.host, self.options.port, process_request=self._process_request,
            max_size=self.options.max_message_bytes, ping_interval=self.options.ping_interval_s,
            server_header="voice-interviewer")
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self) -> str:
        host = "127.0.0.1" if self.options.host in ("0.0.0.0", "") else self.options.host
        if ":" in host:
            host = f"[{host}]"
        query = f"?token={self.options.token}" if self.options.token else ""
        return f"http://{host}:{self.port}/{query}"

    async def stop(self) -> None:
        for live in self.sessions:
            if live.task is not None:
                live.task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # -- HTTP -----------------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Answer plain HTTP, or return None to let ``/ws`` upgrade.

        Whatever reads the database or files (the sessions API, WAV conversion, bank files,
        static pages) runs in a worker thread: a slow disk or a remote database must never
        stall the event loop that carries every live interview's audio.
        """
        path = urlsplit(request.path).path
        if not host_ok(self.options, request):
            return text_response(HTTPStatus.MISDIRECTED_REQUEST,
                                 f"Host {request.headers.get('Host')!r} is not this server; "
                                 f"open http://127.0.0.1:{self.port}/")
        if not token_ok(self.options, request):
            return text_response(HTTPStatus.UNAUTHORIZED,
                                 "access token required: open the URL the server printed "
                                 "(it ends with ?token=...) or send Authorization: Bearer TOKEN")
        if path == "/ws":
            if not origin_ok(request):
                return text_response(HTTPStatus.FORBIDDEN,
                                     f"websocket Origin {request.headers.get('Origin')!r} is not "
                                     f"this server; open the interview page served by this server")
            return None
        if path == "/api/banks":
            index = await asyncio.to_thread(self.banks_index)
            return response(HTTPStatus.OK, json.dumps(index).encode(), "application/json")
        if path.startswith(("/api/sessions", "/api/progress")) and self.store is not None:
            from .web_api import handle_api

            api = await asyncio.to_thread(handle_api, "GET", path, parse_qs(urlsplit(request.path).query),
                                          self.store)
            return response(HTTPStatus(api.status), api.body, api.content_type)
        if path == "/api/health":
            health = {"ok": True, "sessions": len(self.sessions), "max_sessions": self.sessions.max_sessions}
            return response(HTTPStatus.OK, json.dumps(health).encode(), "application/json")
        return await asyncio.to_thread(static_file, self.options.web_dir, path)

    def banks_index(self) -> dict[str, Any]:
        """Roles, rounds and question counts for the picker, plus the voice engines usable here."""
        from .llm.config import llm_availability
        from .speech.tts import available_engines

        roles = []
        for role in available_banks():
            try:
                bank = self.bank(role)
            except VoiceInterviewerError as exc:
                log.warning("bank %s not offered: %s", role, exc)
                continue
            roles.append({"role": bank.role, "title": bank.title, "questions": len(bank.questions),
                          "rounds": [{"id": r.id, "title": r.title, "questions": len(bank.in_round(r.id))}
                                     for r in bank.rounds]})
        return {"roles": roles, "voice_engines": available_engines(), "interviewers": list(proto.INTERVIEWERS),
                "llm": llm_availability(),
                "limits": {"timer_s": list(proto.TIMER_RANGE_S), "questions": list(proto.QUESTIONS_RANGE),
                           "follow_ups": list(proto.FOLLOW_UPS_RANGE),
                           "sample_rate_hz": [self.options.min_sample_rate_hz, self.options.max_sample_rate_hz],
                           "max_frame_bytes": self.options.max_frame_bytes}}

    # -- websocket ---------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        link = Link(ws)
        live: LiveSession | None = None
        try:
            async for message in ws:
                try:
                    if isinstance(message, bytes):
                        if live is None:
                            raise ProtocolError(proto.AUDIO_BEFORE_START,
                                                f"received {len(message)} bytes of audio before 'start'; send "
                                                f"a 'start' message first, then PCM16 frames at its sample_rate")
                        live.channel.audio(message)
                        continue
                    msg = proto.parse_client_message(message)
                    if isinstance(msg, proto.Start):
                        self._no_session_yet(live, "start")
                        live = await self._start(msg, link)
                    elif isinstance(msg, proto.ResumeSession):
                        self._no_session_yet(live, "resume_session")
                        live = await self._resume(msg.resume_token, link)
                    elif isinstance(msg, proto.DeleteSession):
                        self._no_session_yet(live, "delete_session")
                        await link.send(proto.encode_server(await self._delete(msg.id)))
                    elif live is None:
                        raise ProtocolError(proto.WRONG_STATE, f"{msg.type!r} arrived before a session exists; "
                                                               f"send 'start' (or 'resume_session') first")
                    else:
                        live.channel.command(msg.type)
                except ProtocolError as exc:
                    await link.send(proto.error(exc))
        except ConnectionClosed:
            pass
        finally:
            if live is not None and live.task is not None and not live.task.done():
                live.channel.detach(link)

    @staticmethod
    def _no_session_yet(live: LiveSession | None, kind: str) -> None:
        if live is not None:
            raise ProtocolError(proto.WRONG_STATE, f"{kind!r} arrived but this connection already runs session "
                                                   f"{live.interview.session_id}; send 'stop' and open a new "
                                                   f"connection for another session")

    async def _delete(self, session_id: str) -> proto.DeletedMsg:
        """Delete a stored session for the sessions page (never one that is running)."""
        from .errors import SessionNotFoundError, StoreError

        if self.store is None:
            raise ProtocolError(proto.WRONG_STATE, "this server does not record sessions (--no-record), so there "
                                                   "is nothing to delete")
        try:
            await asyncio.to_thread(self.store.delete, session_id)
        except SessionNotFoundError as exc:
            raise ProtocolError(proto.NOT_FOUND, f"delete_session: {exc}") from None
        except StoreError as exc:
            raise ProtocolError(proto.WRONG_STATE, f"delete_session: {exc}") from None
        return proto.DeletedMsg(session_id)

    async def _start(self, msg: proto.Start, link: Link) -> LiveSession:
        o = self.options
        if not o.min_sample_rate_hz <= msg.sample_rate <= o.max_sample_rate_hz:
            raise ProtocolError(proto.BAD_SAMPLE_RATE, f"start.sample_rate {msg.sample_rate} Hz is outside "
                                                       f"{o.min_sample_rate_hz}–{o.max_sample_rate_hz} Hz; send "
                                                       f"the capture rate of your PCM16 frames")
        self.sessions.check_room()
        continued = await self._continued(msg.continue_session) if msg.continue_session else None
        try:
            if continued is not None:
                # The stored session decides what is asked; how the client shows it is its own.
                bank, settings = continued.bank, dataclasses.replace(continued.settings, review=msg.review)
            else:
                bank = self.bank(msg.role)
                settings = InterviewSettings(role=msg.role, rounds=msg.rounds, questions=msg.questions,
                                             order=msg.order, timer_s=msg.timer_s, max_follow_ups=msg.follow_ups,
                                             interviewer=msg.interviewer, question_ids=msg.question_ids,
                                             review=msg.review)
            from .plan import plan_questions

            plan_questions(bank, settings)  # raises with the valid rounds
            synth = await self.synthesizer(msg.voice_engine)
        except VoiceInterviewerError as exc:
            if continued is not None:  # give the claimed session back, interrupted as it was
                await asyncio.to_thread(self.store.records.end_session, continued.session_id, "interrupted",
                                        time.time())
            raise ProtocolError(proto.BAD_FIELD, f"cannot start: {exc}") from None
        from .factory import make_policy
        from .speech.endpoint import EndpointOptions
        from .speech.listener import AnswerListener

        engine = self.engine
        vocabulary = bank.vocabulary

        def make_listener(**kw: Any) -> Any:
            return AnswerListener(engine, endpoint=EndpointOptions(), prompt_terms=vocabulary, remote=self.remote,
                                  **kw)

        channel = WebsocketChannel(
            ChannelOptions(sample_rate=msg.sample_rate, max_frame_bytes=o.max_frame_bytes,
                           partial_interval_s=o.partial_interval_s, resume_grace_s=o.resume_grace_s,
                           max_audio_speed=o.max_audio_speed, voice_engine=getattr(synth, "name", ""),
                           review=msg.review),
            synth, make_listener)
        token = secrets.token_urlsafe(24)
        kind = settings.interviewer
        so_far: dict[str, Any] = {} if continued is None else {
            "session_id": continued.session_id, "asked": continued.asked, "prior_results": continued.prior_results}
        interview = Interview(bank, settings, channel, make_policy(kind), self.grader(kind), resume_token=token,
                              **so_far)
        if continued is not None:
            store_recorder = self.store.recorder(continued.session_id, continuing=True)
        else:
            store_recorder = await asyncio.to_thread(self.recorder_factory, interview.session_id)  # checks the id
        recorder: Recorder = QueuedRecorder(store_recorder, name=f"recorder-{interview.session_id}")
        interview.recorder = recorder
        live = LiveSession(interview, channel, token, time.monotonic())
        self.sessions.add(live)
        channel.link = link
        live.task = asyncio.ensure_future(self._run(live))
        live.prepare = asyncio.ensure_future(self._prepare_grader(interview.grader, interview.questions))
        return live

    async def _continued(self, session_id: str) -> Any:
        """Claim an interrupted session for ``start.continue_session`` (see :mod:`.continuation`)."""
        if self.store is None:
            raise ProtocolError(proto.CANNOT_CONTINUE, "this server records no sessions (--no-record), so it "
                                                       "cannot continue one; send 'start' without continue_session")
        from .continuation import continue_plan

        try:
            return await asyncio.to_thread(continue_plan, self.store, session_id, self.bank)
        except VoiceInterviewerError as exc:
            raise ProtocolError(proto.CANNOT_CONTINUE, f"cannot continue: {exc}") from None

    async def _run(self, live: LiveSession) -> None:
        limit = asyncio.get_running_loop().call_later(self.options.max_session_s,
                                                      live.channel.request_stop, EndReason.SESSION_LIMIT)
        try:
            await live.interview.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not kill the server: tell the candidate, log the detail
            log.exception("session %s failed", live.interview.session_id)
            await live.channel.error(proto.INTERNAL, f"the session failed ({type(exc).__name__}); your answers "
                                                     f"so far were recorded; start a new session")
        finally:
            limit.cancel()
            live.channel.cancel_timers()
            if live.prepare is not None:
                live.prepare.cancel()
            self.sessions.remove(live.interview.session_id)
            if isinstance(live.interview.recorder, QueuedRecorder):
                live.interview.recorder.stop()  # a session that never started still frees its thread
            link = live.channel.link
            if link is not None and not link.closed:
                await link.ws.close(1000, "session ended")

    async def _resume(self, token: str, link: Link) -> LiveSession:
        live = self.sessions.by_resume_token(token)
        if live is not None:
            old = live.channel.link
            if old is not None and old is not link:
                live.channel.detach(old)
                await old.ws.close(4000, "replaced by a resumed connection")
            await live.channel.attach(link)
            return live
        raise ProtocolError(proto.UNKNOWN_SESSION, "no running session has that resume_token (it ended or its "
                                                   f"{self.options.resume_grace_s:g} s grace period passed); "
                                                   "send 'start' to begin a new session")
