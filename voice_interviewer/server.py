"""One websocket server: the web client over plain HTTP and the interview on ``/ws``.

Each connection that sends ``start`` gets its own :class:`~voice_interviewer.interview.Interview`
running the shared flow over a :class:`~voice_interviewer.channels.websocket.WebsocketChannel`.
The speech model and the voice are loaded once, before the first client is accepted,
and shared by every session.

Security model: on a loopback address only local pages can reach the server, and
websocket upgrades whose ``Origin`` is not the server's own page are refused, so
another site open in the browser cannot drive an interview. Binding to any other
address requires an access token on every HTTP request and websocket upgrade
(``?token=`` or ``Authorization: Bearer``). Message size, frame size, audio rate,
session length and the number of sessions are all bounded (see :class:`ServerOptions`).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import mimetypes
import os
import secrets
import time
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import protocol as proto
from .bank import Bank, available_banks, load_role
from .channels.websocket import ChannelOptions, Link, WebsocketChannel
from .errors import ConfigError, ProtocolError, VoiceInterviewerError
from .interview import Interview
from .plan import InterviewSettings
from .recording import NullRecorder, Recorder

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
ENV_HOST, ENV_PORT, ENV_TOKEN = "VOICE_INTERVIEWER_HOST", "VOICE_INTERVIEWER_PORT", "VOICE_INTERVIEWER_TOKEN"


@dataclass(frozen=True)
class ServerOptions:
    """Where the server listens and the limits it enforces.

    Attributes:
        host: Address to bind; anything but loopback requires ``token``.
        port: TCP port; 0 picks a free one (tests).
        token: Access token for HTTP and websocket; None on loopback means none is needed.
        max_message_bytes: Largest websocket message; beyond it websockets closes the
            connection with code 1009 (message too big) before we can answer.
        max_frame_bytes: Largest binary audio frame accepted with an ``error`` reply
            (96,000 bytes = 1 s of 48 kHz PCM16); browsers send 20–100 ms frames.
        min_sample_rate_hz / max_sample_rate_hz: Announced capture rates accepted.
        max_audio_speed: Audio may arrive at most this many times faster than real time.
        max_session_s: Wall-clock length of one session; past it the session stops and reports.
        max_sessions: Sessions running at once (each holds a listener and a grader).
        resume_grace_s: How long a dropped connection may take to ``resume_session``.
        partial_interval_s: Least time between live ``partial`` captions.
        voice_engine: Default TTS engine ("piper", "pyttsx3" or None for automatic).
        web_dir: Where the web client's static files are.
        ping_interval_s: Websocket keepalive ping interval (detects dead links).
    """

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    max_message_bytes: int = 256 * 1024
    max_frame_bytes: int = 96_000
    min_sample_rate_hz: int = proto.MIN_SAMPLE_RATE
    max_sample_rate_hz: int = proto.MAX_SAMPLE_RATE
    max_audio_speed: float = 4.0
    max_session_s: float = 3600.0
    max_sessions: int = 8
    resume_grace_s: float = 120.0
    partial_interval_s: float = 1.0
    voice_engine: str | None = None
    web_dir: Path = WEB_DIR
    ping_interval_s: float = 20.0

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def validate(self) -> "ServerOptions":
        """Check the limits; fill in a generated token when the address needs one."""
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is out of range; use 1–65535 (0 picks a free port)")
        if self.max_frame_bytes >= self.max_message_bytes:
            raise ConfigError(f"max_frame_bytes ({self.max_frame_bytes}) must be below max_message_bytes "
                              f"({self.max_message_bytes}) so oversized frames get a readable error")
        if self.max_sessions < 1 or self.max_session_s <= 0 or self.resume_grace_s < 0:
            raise ConfigError("max_sessions must be ≥ 1, max_session_s > 0 and resume_grace_s ≥ 0")
        if self.token is not None and len(self.token) < 16:
            raise ConfigError(f"access token is {len(self.token)} characters; use at least 16 "
                              f"(or leave it unset to have one generated)")
        if self.token is None and not self.is_loopback:
            return replace(self, token=secrets.token_urlsafe(24))
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> "ServerOptions":
        """Defaults, then ``VOICE_INTERVIEWER_HOST/PORT/TOKEN``, then explicit overrides (flags)."""
        env: dict[str, Any] = {}
        if os.environ.get(ENV_HOST):
            env["host"] = os.environ[ENV_HOST]
        if os.environ.get(ENV_PORT):
            try:
                env["port"] = int(os.environ[ENV_PORT])
            except ValueError:
                raise ConfigError(f"{ENV_PORT}={os.environ[ENV_PORT]!r} is not a port number; "
                                  f"use an integer such as 8765") from None
        if os.environ.get(ENV_TOKEN):
            env["token"] = os.environ[ENV_TOKEN]
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def request_token(request: Request) -> str | None:
    """The token a request carries, from ``?token=`` or an ``Authorization: Bearer`` header."""
    query = parse_qs(urlsplit(request.path).query)
    if query.get("token"):
        return query["token"][0]
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def token_ok(options: ServerOptions, request: Request) -> bool:
    if options.token is None:
        return True
    given = request_token(request) or ""
    return hmac.compare_digest(given.encode(), options.token.encode())


def origin_ok(request: Request) -> bool:
    """A browser upgrade must come from a page this server served; non-browser clients send no Origin."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.headers.get("Host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == host.lower()


def host_ok(options: ServerOptions, request: Request) -> bool:
    """On loopback, the Host header must name this machine: defeats DNS-rebinding pages."""
    if not options.is_loopback:
        return True
    host = urlsplit("//" + request.headers.get("Host", "")).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1") or host == options.host


def _response(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers([
        ("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                                    "media-src 'self' blob:; frame-ancestors 'none'"),
        ("Permissions-Policy", "microphone=(self)"), ("Connection", "close"),
    ])
    return Response(status.value, status.phrase, headers, body)


def _text(status: HTTPStatus, message: str) -> Response:
    return _response(status, (message + "\n").encode(), "text/plain; charset=utf-8")


@dataclass
class LiveSession:
    """A running interview and the channel that outlives any one connection."""

    interview: Interview
    channel: WebsocketChannel
    resume_token: str
    started: float
    task: asyncio.Task | None = None
    prepare: asyncio.Task | None = None


class InterviewServer:
    """Serves the web client and runs one interview per websocket connection."""

    def __init__(self, options: ServerOptions = ServerOptions(), recorder_factory: Any = None,
                 engine: Any = None, synthesizers: dict[str | None, Any] | None = None, store: Any = None):
        """``store`` (a :class:`~voice_interviewer.store.SessionStore`) records every session and serves
        the read-only ``/api/sessions`` routes of the playback page; ``recorder_factory(session_id)``
        overrides how sessions are recorded (default: the store's recorder, else nothing)."""
        self.options = options.validate()
        self.store = store
        default = store.recorder if store is not None else (lambda session_id: NullRecorder())
        self.recorder_factory = recorder_factory or default
        self.engine = engine
        self.synthesizers: dict[str | None, Any] = dict(synthesizers or {})
        self.sessions: dict[str, LiveSession] = {}
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
        synth = await self.synthesizer(self.options.voice_engine)
        await synth.synthesize("Hello.")
        grader = await asyncio.to_thread(self.grader, "rubric")
        banks = list(available_banks())
        if banks:
            bank = await asyncio.to_thread(self.bank, banks[0])
            await self._prepare_grader(grader, bank.questions[:1])

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
        for live in list(self.sessions.values()):
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
            return _text(HTTPStatus.MISDIRECTED_REQUEST, f"Host {request.headers.get('Host')!r} is not this server; "
                                                         f"open http://127.0.0.1:{self.port}/")
        if not token_ok(self.options, request):
            return _text(HTTPStatus.UNAUTHORIZED, "access token required: open the URL the server printed "
                                                  "(it ends with ?token=...) or send Authorization: Bearer TOKEN")
        if path == "/ws":
            if not origin_ok(request):
                return _text(HTTPStatus.FORBIDDEN, f"websocket Origin {request.headers.get('Origin')!r} is not "
                                                   f"this server; open the interview page served by this server")
            return None
        if path == "/api/banks":
            index = await asyncio.to_thread(self.banks_index)
            return _response(HTTPStatus.OK, json.dumps(index).encode(), "application/json")
        if path.startswith("/api/sessions") and self.store is not None:
            from .web_api import handle_api

            api = await asyncio.to_thread(handle_api, "GET", path, parse_qs(urlsplit(request.path).query),
                                          self.store)
            return _response(HTTPStatus(api.status), api.body, api.content_type)
        if path == "/api/health":
            return _response(HTTPStatus.OK, json.dumps({"ok": True, "sessions": len(self.sessions)}).encode(),
                             "application/json")
        return await asyncio.to_thread(self._static, path)

    def _static(self, path: str) -> Response:
        name = "index.html" if path in ("/", "") else path.lstrip("/")
        root = self.options.web_dir.resolve()
        target = (root / name).resolve()
        if root not in target.parents or not target.is_file():
            return _text(HTTPStatus.NOT_FOUND, f"no page at {path!r}; open / for the interview")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        return _response(HTTPStatus.OK, target.read_bytes(), ctype)

    def banks_index(self) -> dict[str, Any]:
        """Roles, rounds and question counts for the picker, plus the voice engines usable here."""
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

    async def _start(self, msg: proto.Start, link: Link) -> LiveSession:
        o = self.options
        if not o.min_sample_rate_hz <= msg.sample_rate <= o.max_sample_rate_hz:
            raise ProtocolError(proto.BAD_SAMPLE_RATE, f"start.sample_rate {msg.sample_rate} Hz is outside "
                                                       f"{o.min_sample_rate_hz}–{o.max_sample_rate_hz} Hz; send "
                                                       f"the capture rate of your PCM16 frames")
        if len(self.sessions) >= o.max_sessions:
            raise ProtocolError(proto.SERVER_BUSY, f"{len(self.sessions)} sessions are running, the limit is "
                                                   f"{o.max_sessions}; try again in a few minutes")
        try:
            bank = self.bank(msg.role)
            settings = InterviewSettings(role=msg.role, rounds=msg.rounds, questions=msg.questions,
                                         order=msg.order, timer_s=msg.timer_s, max_follow_ups=msg.follow_ups,
                                         interviewer=msg.interviewer)
            from .plan import plan_questions

            plan_questions(bank, settings)  # raises with the valid rounds
            synth = await self.synthesizer(msg.voice_engine)
        except VoiceInterviewerError as exc:
            raise ProtocolError(proto.BAD_FIELD, f"cannot start: {exc}") from None
        from .factory import make_policy
        from .speech.endpoint import EndpointOptions
        from .speech.listener import AnswerListener

        engine = self.engine
        vocabulary = bank.vocabulary

        def make_listener(**kw: Any) -> Any:
            return AnswerListener(engine, endpoint=EndpointOptions(), prompt_terms=vocabulary, **kw)

        channel = WebsocketChannel(
            ChannelOptions(sample_rate=msg.sample_rate, max_frame_bytes=o.max_frame_bytes,
                           partial_interval_s=o.partial_interval_s, resume_grace_s=o.resume_grace_s,
                           max_audio_speed=o.max_audio_speed, voice_engine=getattr(synth, "name", "")),
            synth, make_listener)
        token = secrets.token_urlsafe(24)
        interview = Interview(bank, settings, channel, make_policy(msg.interviewer), self.grader(msg.interviewer),
                              resume_token=token)
        recorder: Recorder = self.recorder_factory(interview.session_id)
        interview.recorder = recorder
        live = LiveSession(interview, channel, token, time.monotonic())
        self.sessions[interview.session_id] = live
        channel.link = link
        live.task = asyncio.ensure_future(self._run(live))
        live.prepare = asyncio.ensure_future(self._prepare_grader(interview.grader, interview.questions))
        return live

    async def _run(self, live: LiveSession) -> None:
        limit = asyncio.get_running_loop().call_later(self.options.max_session_s,
                                                      live.channel.request_stop, "session_limit")
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
            self.sessions.pop(live.interview.session_id, None)
            link = live.channel.link
            if link is not None and not link.closed:
                await link.ws.close(1000, "session ended")

    async def _resume(self, token: str, link: Link) -> LiveSession:
        for live in self.sessions.values():
            if hmac.compare_digest(live.resume_token.encode(), token.encode()):
                old = live.channel.link
                if old is not None and old is not link:
                    live.channel.detach(old)
                    await old.ws.close(4000, "replaced by a resumed connection")
                await live.channel.attach(link)
                return live
        raise ProtocolError(proto.UNKNOWN_SESSION, "no running session has that resume_token (it ended or its "
                                                   f"{self.options.resume_grace_s:g} s grace period passed); "
                                                   "send 'start' to begin a new session")


async def run_server(options: ServerOptions, store: Any = None) -> None:
    """Run until cancelled, printing the address (with the token when one is needed)."""
    server = InterviewServer(options, store=store)
    print("Loading the speech model and the voice…", flush=True)
    await server.start()
    print(f"voice-interviewer is ready: {server.url()}", flush=True)
    if server.options.token and not options.token:
        print("An access token was generated because the server is reachable from other machines.", flush=True)
    try:
        await asyncio.Future()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python server.py`` (same flags as ``voice-interviewer serve``)."""
    import argparse

    from .commands.serve import add_serve_args, serve_from_args

    parser = argparse.ArgumentParser(prog="server.py", description="Serve the browser mock interview.")
    add_serve_args(parser)
    args = parser.parse_args(argv)
    try:
        return serve_from_args(args)
    except VoiceInterviewerError as exc:
        print(f"voice-interviewer: error: {exc}")
        return 2
