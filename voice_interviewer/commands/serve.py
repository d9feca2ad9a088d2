"""``voice-interviewer serve`` and ``python server.py``: start the browser practice server (web client + ``/ws``).

The entry point only: flags, the session store, start-up messages and shutdown; the
server itself is :class:`~voice_interviewer.server.InterviewServer`.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ..errors import VoiceInterviewerError
from ..factory import add_store_args, open_store
from ..protocol import VOICE_ENGINES


def add_serve_args(p: argparse.ArgumentParser) -> None:
    """Flags shared by ``voice-interviewer serve`` and the top-level ``server.py``."""
    p.add_argument("--host", default=None,
                   help="address to bind (default 127.0.0.1, env VOICE_INTERVIEWER_HOST); "
                        "any non-loopback address requires an access token")
    p.add_argument("--port", type=int, default=None, help="TCP port (default 8765, env VOICE_INTERVIEWER_PORT)")
    p.add_argument("--token", default=None,
                   help="access token (env VOICE_INTERVIEWER_TOKEN); generated and printed when needed")
    p.add_argument("--voice-engine", choices=VOICE_ENGINES, default=None,
                   help="default interviewer voice (default: piper if installed, else pyttsx3)")
    p.add_argument("--max-sessions", type=int, default=None,
                   help="sessions at once; beyond it a candidate is told the server is full "
                        "(default: measured on this machine at start-up)")
    p.add_argument("--max-session-minutes", type=float, default=None, help="length limit of a session (default 60)")
    add_store_args(p)
    p.add_argument("--lease-seconds", type=float, default=None, metavar="S",
                   help="with a shared store: how long this server counts as alive after its last heartbeat; "
                        "peers mark its sessions interrupted when it has been silent that long (default 15)")
    p.add_argument("--transcription-url", metavar="URL", default=None,
                   help="transcribe finished answers on an OpenAI-compatible server, e.g. http://speech:8000/v1 "
                        "(env VOICE_INTERVIEWER_TRANSCRIPTION_URL; key in VOICE_INTERVIEWER_TRANSCRIPTION_API_KEY); "
                        "captions stay local, and the local model takes over when it fails or is slow")
    p.add_argument("--transcription-model", metavar="NAME", default=None,
                   help="model name sent to the transcription server (default whisper-1)")
    p.add_argument("--transcription-timeout", metavar="S", type=float, default=None,
                   help="longest wait for the transcription server before the local model decodes (default 1)")
    p.add_argument("--no-record", action="store_true",
                   help="keep nothing: no transcripts, feedback or audio are written to disk")


def options_from_args(args: argparse.Namespace) -> Any:
    """:class:`~voice_interviewer.server_options.ServerOptions` from defaults, environment, then flags."""
    from ..server_options import ServerOptions

    minutes = args.max_session_minutes
    return ServerOptions.from_env(host=args.host, port=args.port, token=args.token,
                                  voice_engine=args.voice_engine, max_sessions=args.max_sessions,
                                  max_session_s=minutes * 60 if minutes is not None else None)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the browser mock interview on http://127.0.0.1:8765/")
    add_serve_args(p)
    p.set_defaults(handler=_serve)


def serve_from_args(args: argparse.Namespace) -> int:
    """Open the session store (unless ``--no-record``), hold a lease in it, recover interrupted sessions, serve.

    The lease (see :mod:`voice_interviewer.store.lease`) is how servers sharing a store
    learn that this one died, and how this one takes over sessions of servers that did."""
    options = options_from_args(args)
    try:
        remote = remote_from_args(args)
        if args.no_record:
            asyncio.run(run_server(options, remote=remote))
            return 0
        from ..store import ServerLease
        from ..store.lease import DEFAULT_LEASE_S

        with open_store(args) as store, ServerLease(store, args.lease_seconds or DEFAULT_LEASE_S) as lease:
            recovered = store.recovered + lease.taken_over
            if recovered:
                print(f"Recovered {len(recovered)} interrupted session(s): {', '.join(recovered)}", flush=True)
            asyncio.run(run_server(options, store, remote))
    except KeyboardInterrupt:
        return 130
    return 0


def remote_from_args(args: argparse.Namespace) -> Any:
    """The transcription server ``--transcription-url`` (or its env) names, or None for local speech only."""
    from ..speech.remote import RemoteOptions, RemoteTranscriber

    options = RemoteOptions.from_env(args.transcription_url, model=args.transcription_model,
                                     timeout_s=args.transcription_timeout)
    return RemoteTranscriber(options) if options is not None else None


async def run_server(options: Any, store: Any = None, remote: Any = None) -> None:
    """Run until cancelled, printing the address (with the token when one is needed)."""
    from ..server import InterviewServer

    server = InterviewServer(options, store=store, remote=remote)
    print("Loading the speech model and the voice…", flush=True)
    await server.start()
    if remote is not None:
        counts = remote.counts
        state = "answers" if counts.answered else f"does not answer yet ({counts.last_error})"
        print(f"Finished answers are transcribed by {remote.options.url}, which {state}; "
              f"captions and fallback use the local model.", flush=True)
    print(f"voice-interviewer is ready: {server.url()}", flush=True)
    print(f"Capacity: {server.capacity_note}", flush=True)
    if server.options.token and not options.token:
        print("An access token was generated because the server is reachable from other machines.", flush=True)
    try:
        await asyncio.Future()
    finally:
        await server.stop()


def _serve(args: argparse.Namespace) -> int:
    return serve_from_args(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python server.py`` (same flags as ``voice-interviewer serve``)."""
    parser = argparse.ArgumentParser(prog="server.py", description="Serve the browser mock interview.")
    add_serve_args(parser)
    args = parser.parse_args(argv)
    try:
        return serve_from_args(args)
    except VoiceInterviewerError as exc:
        print(f"voice-interviewer: error: {exc}")
        return 2
