"""Where the store lives, and the only ways a session id or audio name becomes a path.

Ids and names arrive from the CLI and the HTTP API, so each is matched against a
strict pattern before anything touches the file system; a path is only ever built
from a validated value and then checked to lie inside the data directory.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from ..errors import ConfigError, SessionNotFoundError

SESSION_ID_PATTERN = re.compile(r"[0-9a-f]{8,32}")
TURN_ID_PATTERN = re.compile(r"q[0-9]{1,3}(?:r[0-9]{1,2})?(?:f[0-9]{1,2})?")  # q1, q1f1, q1r2, q1r2f1
UTTERANCE_NAME_PATTERN = re.compile(r"u[0-9]{3,5}")
ENV_DATA_DIR = "VOICE_INTERVIEWER_DATA"
ENV_AUDIO_DIR = "VOICE_INTERVIEWER_AUDIO_DIR"
SESSIONS_DIR = "sessions"


def default_data_dir() -> Path:
    """``$VOICE_INTERVIEWER_DATA``, else ``$XDG_DATA_HOME/voice-interviewer``, else ``~/.local/share/...``."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "voice-interviewer"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """The data directory to use, created if missing; a clear error if it cannot be."""
    path = Path(data_dir).expanduser() if data_dir else default_data_dir()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)  # recordings of a voice: owner only
    except OSError as exc:
        raise ConfigError(
            f"cannot create the data directory {str(path)!r}: {exc.strerror or exc}; "
            f"pass a writable folder with --data-dir or set {ENV_DATA_DIR}"
        ) from None
    if not path.is_dir():
        raise ConfigError(f"data directory {str(path)!r} is not a folder; pass a folder with --data-dir")
    return path.resolve()


def resolve_audio_dir(audio_dir: str | os.PathLike | None, data_dir: Path) -> Path:
    """Where the session folders of audio go: ``audio_dir``, else ``$VOICE_INTERVIEWER_AUDIO_DIR``,
    else ``<data>/sessions``. Servers that share one store name one shared folder here, so any
    of them can play back, export or recover what another recorded."""
    chosen = audio_dir or os.environ.get(ENV_AUDIO_DIR) or None
    path = Path(chosen).expanduser() if chosen else data_dir / SESSIONS_DIR
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the audio folder {str(path)!r}: {exc.strerror or exc}; pass a writable folder "
            f"(on a volume every server mounts) with --audio-dir or set {ENV_AUDIO_DIR}"
        ) from None
    if not path.is_dir():
        raise ConfigError(f"audio folder {str(path)!r} is not a folder; pass a folder with --audio-dir")
    return path.resolve()


def new_session_id() -> str:
    """A fresh random id (16 hex digits)."""
    return secrets.token_hex(8)


def validate_session_id(session_id: object) -> str:
    """Return ``session_id`` if it is a well-formed id, else raise :class:`SessionNotFoundError`."""
    if isinstance(session_id, str) and SESSION_ID_PATTERN.fullmatch(session_id):
        return session_id
    shown = repr(session_id)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise SessionNotFoundError(
        f"{shown} is not a session id: ids are 8 to 32 lower-case hex digits (for example 3f9a1c0d2b7e4a65); "
        f"run 'voice-interviewer sessions list' to see them"
    )


def validate_audio_name(name: object) -> str:
    """A candidate turn ("q1", "q2f1") or an interviewer utterance ("u001")."""
    if isinstance(name, str) and (TURN_ID_PATTERN.fullmatch(name) or UTTERANCE_NAME_PATTERN.fullmatch(name)):
        return name
    shown = repr(name)[:60]
    raise SessionNotFoundError(
        f"no recording named {shown}: recordings are candidate turns (q1, q1f1, ...) or "
        f"interviewer utterances (u001, u002, ...); the session's timeline lists them"
    )


def inside(root: Path, *parts: str) -> Path:
    """``root/parts`` after checking the result cannot escape ``root`` (defence in depth)."""
    path = root.joinpath(*parts).resolve()
    if path != root and root not in path.parents:
        raise SessionNotFoundError(f"refusing a path outside the data directory: {'/'.join(parts)!r}")
    return path
