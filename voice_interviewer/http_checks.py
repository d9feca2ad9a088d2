"""What the server checks on every HTTP request and websocket upgrade, and how it answers plain HTTP.

Security model: on a loopback address only local pages can reach the server, and
websocket upgrades whose ``Origin`` is not the server's own page are refused, so
another site open in the browser cannot drive an interview; the ``Host`` header must
name this machine, which defeats DNS rebinding. Binding to any other address
requires an access token on every HTTP request and websocket upgrade (``?token=``
or ``Authorization: Bearer``). Every response carries the same strict headers.
"""

from __future__ import annotations

import hmac
import mimetypes
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .server_options import ServerOptions


def request_token(request: Request) -> str | None:
    """The token a request carries, from ``?token=`` or an ``Authorization: Bearer`` header."""
    query = parse_qs(urlsplit(request.path).query)
    if query.get("token"):
        return query["token"][0]
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def token_ok(options: ServerOptions, request: Request) -> bool:
    """The request carries the server's token, or the server needs none (compared in constant time)."""
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


def response(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    """Every plain HTTP answer, with the same strict headers: nothing cached, sniffed, framed or referred."""
    headers = Headers([
        ("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                                    "media-src 'self' blob:; frame-ancestors 'none'"),
        ("Permissions-Policy", "microphone=(self)"), ("Connection", "close"),
    ])
    return Response(status.value, status.phrase, headers, body)


def text_response(status: HTTPStatus, message: str) -> Response:
    """A one-line plain-text answer, for errors a person reads in the browser."""
    return response(status, (message + "\n").encode(), "text/plain; charset=utf-8")


def static_file(web_dir: Path, path: str) -> Response:
    """A file of the web client (``/`` is ``index.html``); 404 for anything outside ``web_dir``.

    Reads the file: call it off the event loop.
    """
    name = "index.html" if path in ("/", "") else path.lstrip("/")
    root = web_dir.resolve()
    target = (root / name).resolve()
    if root not in target.parents or not target.is_file():
        return text_response(HTTPStatus.NOT_FOUND, f"no page at {path!r}; open / for the interview")
    ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith("javascript"):
        ctype += "; charset=utf-8"
    return response(HTTPStatus.OK, target.read_bytes(), ctype)
