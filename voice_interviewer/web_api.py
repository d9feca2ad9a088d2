"""The read-only HTTP API behind the playback page, as one pure function.

``handle_api`` maps (method, path, query) to a response without doing any I/O of its
own besides reading the store, so the websocket server can call it from its
``process_request`` hook and tests can call it directly. Reading the store blocks
(database queries, WAV files made from raw audio), so the server calls it in a
worker thread, never on the event loop. Routes::

    GET /api/sessions                           stored sessions, newest first
    GET /api/sessions/<id>                      one session: questions, feedback, timeline, history
    GET /api/sessions/<id>/audio/<name>.wav     a candidate turn (q1, q1f1) or interviewer utterance (u001)
    GET /api/sessions/<id>/report.html|json|md  the exported report
    GET /api/progress[?role=ROLE]               scores per question over time, key points most often missed,
                                                the weakest questions (see :mod:`voice_interviewer.progress`)

Every id and name is validated by :mod:`voice_interviewer.store.paths` before use.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import export
from .errors import SessionNotFoundError, StoreError
from .store import SessionStore, validate_audio_name, validate_session_id

API_PREFIX = "/api/"
_ROUTE = re.compile(r"/api/sessions(?:/(?P<sid>[^/]+)(?:/(?P<rest>.+))?)?/?")
_AUDIO = re.compile(r"audio/(?P<name>[^/]+)\.wav")
_REPORT = re.compile(r"report\.(?P<fmt>html|json|md)")
_ROLE_ID = re.compile(r"[a-z0-9-]{1,64}")
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "json": "application/json",
                 "md": "text/markdown; charset=utf-8"}


@dataclass(frozen=True)
class ApiResponse:
    """What to send back: status code, content type and body bytes (headers are the caller's)."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, data: Any) -> ApiResponse:
    return ApiResponse(status, "application/json", json.dumps(data, ensure_ascii=False).encode("utf-8"),
                       {"Cache-Control": "no-store"})


def _error(status: int, code: str, message: str) -> ApiResponse:
    return _json(status, {"error": {"code": code, "message": message}})


def is_api_path(path: str) -> bool:
    return path.split("?", 1)[0].startswith(API_PREFIX)


def handle_api(method: str, path: str, query: dict[str, Any], store: SessionStore) -> ApiResponse:
    """Answer one API request; never raises for bad input (errors become 4xx JSON)."""
    path = path.split("?", 1)[0]
    if method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", f"{method} is not allowed: the sessions API is read-only (GET)")
    if path.rstrip("/") == "/api/progress":
        try:
            return _json(200, store.progress(_role(query)))
        except ValueError as exc:
            return _error(400, "bad_request", str(exc))
        except StoreError as exc:
            return _error(500, "store_error", str(exc))
    match = _ROUTE.fullmatch(path)
    if not match:
        return _error(404, "not_found", f"no API route {path!r}; routes start with /api/sessions or /api/progress")
    try:
        sid, rest = match["sid"], match["rest"]
        if sid is None:
            limit = _limit(query)
            return _json(200, {"sessions": store.list(limit)})
        sid = validate_session_id(sid)
        if rest is None:
            return _json(200, store.get(sid))
        if (audio := _AUDIO.fullmatch(rest)) is not None:
            wav = store.audio_path(sid, validate_audio_name(audio["name"]))
            return ApiResponse(200, "audio/wav", wav.read_bytes(), {"Cache-Control": "no-store"})
        if (report := _REPORT.fullmatch(rest)) is not None:
            fmt = report["fmt"]
            return ApiResponse(200, CONTENT_TYPES[fmt], export.render(store.get(sid), fmt).encode("utf-8"),
                               {"Cache-Control": "no-store"})
        return _error(404, "not_found", f"no API route {path!r}; after the session id use audio/<name>.wav "
                                        f"or report.html|json|md")
    except SessionNotFoundError as exc:
        return _error(404, "session_not_found", str(exc))
    except ValueError as exc:
        return _error(400, "bad_request", str(exc))
    except StoreError as exc:
        return _error(500, "store_error", str(exc))


def _role(query: dict[str, Any]) -> str | None:
    raw = query.get("role")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if raw in (None, ""):
        return None
    if not _ROLE_ID.fullmatch(str(raw)):
        raise ValueError(f"role must be a role id such as 'mlops-engineer', got {str(raw)[:40]!r}")
    return str(raw)


def _limit(query: dict[str, Any]) -> int | None:
    raw = query.get("limit")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if raw in (None, ""):
        return None
    if not str(raw).isdigit() or not 1 <= int(raw) <= 10000:
        raise ValueError(f"limit must be a whole number 1..10000, got {str(raw)[:20]!r}")
    return int(raw)
