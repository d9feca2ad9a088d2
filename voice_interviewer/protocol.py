"""The websocket wire format: typed client messages, server messages, audio frame checks.

Only the format lives here (no sockets, no sessions), so every rule a client must
follow is testable with plain strings and bytes. ``docs/protocol.md`` is the
reference for client authors; the names below are fixed by it.

Text frames are JSON objects with a ``type``. Binary frames from the client are
little-endian PCM16 mono at the rate announced in ``start``; binary frames from
the server are TTS audio, each one announced by the ``say`` message before it.
Every rejection raises :class:`~voice_interviewer.errors.ProtocolError` whose
``code`` is stable and whose message says what was received and what to send.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, overload

from .errors import ProtocolError

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 48000
INTERVIEWERS = ("rubric", "llm")
VOICE_ENGINES = ("piper", "pyttsx3")
ORDERS = ("by-round", "mixed")
TIMER_RANGE_S = (10.0, 1800.0)
QUESTIONS_RANGE = (1, 100)
FOLLOW_UPS_RANGE = (0, 5)
_ROLE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_QUESTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_SESSION_ID = re.compile(r"^[0-9a-f]{8,32}$")

# Stable error codes (docs/protocol.md lists when each is sent).
BAD_JSON = "bad_json"
BAD_MESSAGE = "bad_message"
UNKNOWN_TYPE = "unknown_type"
BAD_FIELD = "bad_field"
WRONG_STATE = "wrong_state"
AUDIO_BEFORE_START = "audio_before_start"
BAD_FRAME = "bad_frame"
FRAME_TOO_LARGE = "frame_too_large"
BAD_SAMPLE_RATE = "bad_sample_rate"
UNKNOWN_SESSION = "unknown_session"
NOT_FOUND = "not_found"
CANNOT_CONTINUE = "cannot_continue"
SERVER_FULL = "server_full"
SESSION_TOO_LONG = "session_too_long"
AUDIO_RATE_EXCEEDED = "audio_rate_exceeded"
NOTHING_TO_REVIEW = "nothing_to_review"
REVIEW_OFF = "review_off"
INTERNAL = "internal"


# ---------------------------------------------------------------------------
# Client → server
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Open a session.

    Attributes:
        sample_rate: Rate of the PCM16 frames this client will send, in Hz (8000–48000).
        timer_s: Answer time limit in seconds; None uses each question's suggested time.
        review: Pause after each question's feedback until the client sends ``next`` (or
            ``retry``). Off by default so a client written before review keeps its flow.
        continue_session: Id of an interrupted session to go on with (its server died): the
            stored session's role, questions and settings are used, and it resumes at the
            first question not yet asked; the other choices here are then ignored.
    """

    type: ClassVar[str] = "start"
    role: str
    sample_rate: int
    rounds: tuple[str, ...] = ()
    questions: int = 4
    timer_s: float | None = None
    interviewer: str = "rubric"
    voice_engine: str | None = None
    order: str = "by-round"
    follow_ups: int = 1
    question_ids: tuple[str, ...] = ()  # ask exactly these questions of the role (rounds/questions ignored)
    review: bool = False
    continue_session: str | None = None


@dataclass(frozen=True)
class Command:
    """A control message without fields: end_answer, skip, reveal, pause, resume, stop, next, retry."""

    type: str


@dataclass(frozen=True)
class ResumeSession:
    """Re-attach a new connection to a running session after a disconnect."""

    type: ClassVar[str] = "resume_session"
    resume_token: str


@dataclass(frozen=True)
class DeleteSession:
    """Delete a stored session (its rows and audio). A websocket message, not an HTTP DELETE: the
    server's HTTP side answers GET only, and the websocket's origin check keeps other sites out."""

    type: ClassVar[str] = "delete_session"
    id: str


COMMANDS = ("end_answer", "skip", "reveal", "pause", "resume", "stop", "next", "retry")
CLIENT_TYPES = ("start", *COMMANDS, "resume_session", "delete_session")
ClientMessage = Start | Command | ResumeSession | DeleteSession


def _field_error(type_: str, name: str, value: Any, allowed: str) -> ProtocolError:
    shown = json.dumps(value)[:80] if value is not None else "null"
    return ProtocolError(BAD_FIELD, f"{type_}.{name}: got {shown}; expected {allowed}")


def _int(d: dict, type_: str, name: str, lo: int, hi: int, default: int | None = None) -> int:
    if name not in d and default is not None:
        return default
    v = d.get(name)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer() or not lo <= v <= hi:
        code = BAD_SAMPLE_RATE if name == "sample_rate" else BAD_FIELD
        err = _field_error(type_, name, v, f"an integer from {lo} to {hi}")
        raise ProtocolError(code, str(err))
    return int(v)


@overload
def _choice(d: dict, type_: str, name: str, choices: tuple[str, ...], default: str) -> str: ...
@overload
def _choice(d: dict, type_: str, name: str, choices: tuple[str, ...], default: None) -> str | None: ...
def _choice(d: dict, type_: str, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    v = d.get(name, default)
    if v is None and default is None:
        return None
    if v not in choices:
        extra = " or null" if default is None else ""
        raise _field_error(type_, name, v, "one of " + ", ".join(repr(c) for c in choices) + extra)
    return v


def _parse_start(d: dict) -> Start:
    continued = _continued(d)
    role = d.get("role", "" if continued else None)  # a continued session keeps its stored role
    if not (continued and role == "") and (not isinstance(role, str) or not _ROLE.match(role)):
        raise _field_error("start", "role", role, "a role id such as \"mlops-engineer\" (see GET /api/banks)")
    rounds = d.get("rounds", [])
    if isinstance(rounds, str):
        rounds = [r for r in rounds.split(",") if r.strip()]
    if not isinstance(rounds, list) or not all(isinstance(r, str) and r.strip() for r in rounds):
        raise _field_error("start", "rounds", rounds, "a list of round ids (empty for all rounds)")
    question_ids = d.get("question_ids", [])
    if isinstance(question_ids, str):
        question_ids = [q.strip() for q in question_ids.split(",") if q.strip()]
    if not isinstance(question_ids, list) or len(question_ids) > QUESTIONS_RANGE[1] \
            or not all(isinstance(q, str) and _QUESTION_ID.match(q) for q in question_ids):
        raise _field_error("start", "question_ids", question_ids,
                           f"a list of up to {QUESTIONS_RANGE[1]} question ids of the role (empty: choose by rounds)")
    timer = d.get("timer_s")
    if timer is not None:
        lo, hi = TIMER_RANGE_S
        if isinstance(timer, bool) or not isinstance(timer, (int, float)) or not math.isfinite(timer) \
                or not lo <= timer <= hi:
            raise _field_error("start", "timer_s", timer, f"seconds from {lo:g} to {hi:g}, or null")
        timer = float(timer)
    review = d.get("review", False)
    if not isinstance(review, bool):
        raise _field_error("start", "review", review, "true or false")
    return Start(
        role=role,
        sample_rate=_int(d, "start", "sample_rate", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
        rounds=tuple(r.strip() for r in rounds),
        questions=_int(d, "start", "questions", *QUESTIONS_RANGE, default=4),
        timer_s=timer,
        interviewer=_choice(d, "start", "interviewer", INTERVIEWERS, "rubric"),
        voice_engine=_choice(d, "start", "voice_engine", VOICE_ENGINES, None),
        order=_choice(d, "start", "order", ORDERS, "by-round"),
        follow_ups=_int(d, "start", "follow_ups", *FOLLOW_UPS_RANGE, default=1),
        question_ids=tuple(dict.fromkeys(question_ids)),
        review=review,
        continue_session=continued,
    )


def _continued(d: dict) -> str | None:
    value = d.get("continue_session")
    if value is None:
        return None
    if not isinstance(value, str) or not _SESSION_ID.match(value):
        raise _field_error("start", "continue_session", value,
                           "the id of an interrupted session (8–32 lower-case hex digits) or null")
    return value


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Parse one client text frame; raise :class:`ProtocolError` saying what to send instead."""
    try:
        d = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(BAD_JSON, f"text frame is not valid JSON ({exc}); send a JSON object "
                                      f"such as {{\"type\": \"end_answer\"}}") from None
    if not isinstance(d, dict):
        raise ProtocolError(BAD_MESSAGE, f"got a JSON {type(d).__name__}; every text frame must be a JSON "
                                         f"object with a \"type\" field")
    kind = d.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(BAD_MESSAGE, f"message has no string \"type\" (got {json.dumps(kind)}); "
                                         f"expected one of {', '.join(CLIENT_TYPES)}")
    if kind == "start":
        return _parse_start(d)
    if kind in COMMANDS:
        return Command(kind)
    if kind == "resume_session":
        token = d.get("resume_token")
        if not isinstance(token, str) or not 8 <= len(token) <= 128:
            raise _field_error("resume_session", "resume_token", token,
                               "the resume_token string from the session message")
        return ResumeSession(token)
    if kind == "delete_session":
        sid = d.get("id")
        if not isinstance(sid, str) or not 1 <= len(sid) <= 64:  # its form is the store's to check
            raise _field_error("delete_session", "id", sid, "a session id from GET /api/sessions")
        return DeleteSession(sid)
    raise ProtocolError(UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}; expected one of "
                                      f"{', '.join(CLIENT_TYPES)}")


def encode_client(msg: ClientMessage) -> str:
    """Serialise a client message (used by test clients, the bench and examples)."""
    d: dict[str, Any] = {"type": msg.type}
    if not isinstance(msg, Command):
        for f in fields(msg):
            v = getattr(msg, f.name)
            d[f.name] = list(v) if isinstance(v, tuple) else v
    return json.dumps(d)


def check_audio_frame(data: bytes, max_frame_bytes: int) -> None:
    """Reject a binary frame that is not whole PCM16 samples or exceeds the frame limit."""
    if len(data) > max_frame_bytes:
        raise ProtocolError(FRAME_TOO_LARGE, f"audio frame of {len(data)} bytes exceeds the limit of "
                                             f"{max_frame_bytes} bytes; send smaller frames (e.g. 20–100 ms)")
    if len(data) == 0 or len(data) % 2:
        raise ProtocolError(BAD_FRAME, f"audio frame of {len(data)} bytes is not whole PCM16 samples; send "
                                       f"little-endian 16-bit mono samples (an even, non-zero byte count)")


# ---------------------------------------------------------------------------
# Server → client
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionMsg:
    type: ClassVar[str] = "session"
    id: str
    resume_token: str
    questions: list[dict[str, Any]]
    interviewer: str
    voice_engine: str
    role: str = ""
    role_title: str = ""
    sample_rate: int = 16000


@dataclass(frozen=True)
class QuestionMsg:
    type: ClassVar[str] = "question"
    id: str
    text: str
    round: str
    timer_s: float
    index: int
    total: int


@dataclass(frozen=True)
class SayMsg:
    """Announces exactly one binary frame of ``bytes`` bytes of TTS audio that follows it."""

    type: ClassVar[str] = "say"
    text: str
    kind: str
    sample_rate: int
    bytes: int
    format: str = "pcm16le"
    turn_id: str | None = None
    latency_ms: dict[str, float] | None = None


@dataclass(frozen=True)
class ListeningMsg:
    type: ClassVar[str] = "listening"
    turn_id: str
    timer_s: float
    follow_up: bool = False
    paused: bool = False


@dataclass(frozen=True)
class PartialMsg:
    """Live text of the open answer; ``audio_s`` is how many seconds of the answer's audio it has heard."""

    type: ClassVar[str] = "partial"
    text: str
    turn_id: str = ""
    audio_s: float | None = None


@dataclass(frozen=True)
class FinalMsg:
    type: ClassVar[str] = "final"
    text: str
    words: list[dict[str, Any]]
    turn_id: str = ""
    end_reason: str = ""


@dataclass(frozen=True)
class FeedbackMsg:
    """A question's grade. ``attempt`` is set in review sessions; ``comparison`` from the second
    attempt on (what changed since the previous graded attempt). Neither is sent otherwise."""

    type: ClassVar[str] = "feedback"
    question_id: str
    feedback: dict[str, Any]
    attempt: int | None = None
    comparison: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"type": self.type, **self.feedback, "question_id": self.question_id}
        if self.attempt is not None:
            d["attempt"] = self.attempt
        if self.comparison is not None:
            d["comparison"] = self.comparison
        return d


@dataclass(frozen=True)
class ReviewingMsg:
    """The server waits for ``next`` or ``retry`` about this question's feedback."""

    type: ClassVar[str] = "reviewing"
    question_id: str
    attempt: int
    last: bool


@dataclass(frozen=True)
class RevealMsg:
    type: ClassVar[str] = "reveal"
    question_id: str
    text: str


@dataclass(frozen=True)
class StateMsg:
    """A field-less server notice: ``thinking`` (grading and deciding the next turn)."""

    type: str


@dataclass(frozen=True)
class ReportMsg:
    type: ClassVar[str] = "report"
    report: dict[str, Any] | None
    status: str = "completed"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "status": self.status, **(self.report or {"overall": None, "questions": []})}


@dataclass(frozen=True)
class ErrorMsg:
    type: ClassVar[str] = "error"
    code: str
    message: str


@dataclass(frozen=True)
class DeletedMsg:
    """A stored session was deleted (the answer to ``delete_session``)."""

    type: ClassVar[str] = "deleted"
    id: str


ServerMessage = (SessionMsg | QuestionMsg | SayMsg | ListeningMsg | PartialMsg | FinalMsg | FeedbackMsg
                 | RevealMsg | ReviewingMsg | StateMsg | ReportMsg | ErrorMsg | DeletedMsg)
_SERVER_CLASSES = {c.type: c for c in (SessionMsg, QuestionMsg, SayMsg, ListeningMsg, PartialMsg, FinalMsg,
                                       RevealMsg, ReviewingMsg, ErrorMsg, DeletedMsg)}
STATE_TYPES = ("thinking",)


def encode_server(msg: ServerMessage) -> str:
    """Serialise a server message to one JSON text frame."""
    if hasattr(msg, "to_dict"):
        d = msg.to_dict()
    else:
        d = {"type": msg.type, **asdict(msg)}
    return json.dumps(d, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def decode_server(text: str | bytes) -> ServerMessage:
    """Parse a server text frame back into its typed form (clients, tests, the bench)."""
    d = json.loads(text)
    kind = d.pop("type", None)
    if kind in STATE_TYPES:
        return StateMsg(kind)
    if kind == "feedback":
        question_id, attempt, comparison = d.pop("question_id"), d.pop("attempt", None), d.pop("comparison", None)
        return FeedbackMsg(question_id, d, attempt, comparison)
    if kind == "report":
        status = d.pop("status", "completed")
        return ReportMsg(d, status)
    cls = _SERVER_CLASSES.get(kind)
    if cls is None:
        raise ProtocolError(UNKNOWN_TYPE, f"unknown server message type {kind!r}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


def error(exc: ProtocolError) -> str:
    """The ``error`` frame for a rejected client message."""
    return encode_server(ErrorMsg(exc.code, str(exc)))


__all__ = [
    "Start", "Command", "ResumeSession", "ClientMessage", "parse_client_message", "encode_client",
    "check_audio_frame", "SessionMsg", "QuestionMsg", "SayMsg", "ListeningMsg", "PartialMsg", "FinalMsg",
    "FeedbackMsg", "RevealMsg", "ReviewingMsg", "StateMsg", "ReportMsg", "ErrorMsg", "encode_server",
    "decode_server", "error",
]
