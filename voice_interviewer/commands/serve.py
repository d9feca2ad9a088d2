"""``voice-interviewer serve``: the browser practice server (web client + ``/ws``)."""

from __future__ import annotations

import argparse
import asyncio

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
    p.add_argument("--max-sessions", type=int, default=None, help="sessions at once (default 8)")
    p.add_argument("--max-session-minutes", type=float, default=None, help="length limit of a session (default 60)")
    add_store_args(p)
    p.add_argument("--no-record", action="store_true",
                   help="keep nothing: no transcripts, feedback or audio are written to disk")


def options_from_args(args: argparse.Namespace):
    from ..server import ServerOptions

    minutes = args.max_session_minutes
    return ServerOptions.from_env(host=args.host, port=args.port, token=args.token,
                                  voice_engine=args.voice_engine, max_sessions=args.max_sessions,
                                  max_session_s=minutes * 60 if minutes is not None else None)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the browser mock interview on http://127.0.0.1:8765/")
    add_serve_args(p)
    p.set_defaults(handler=_serve)


def serve_from_args(args: argparse.Namespace) -> int:
    """Open the session store (unless ``--no-record``), recover interrupted sessions, serve."""
    from ..server import run_server

    options = options_from_args(args)
    try:
        if args.no_record:
            asyncio.run(run_server(options))
            return 0
        with open_store(args) as store:
            recovered = store.recovered
            if recovered:
                print(f"Recovered {len(recovered)} interrupted session(s): {', '.join(recovered)}", flush=True)
            asyncio.run(run_server(options, store))
    except KeyboardInterrupt:
        return 130
    return 0


def _serve(args: argparse.Namespace) -> int:
    return serve_from_args(args)
