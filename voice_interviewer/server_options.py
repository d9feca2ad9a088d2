"""Where the interview server listens and the limits it enforces, from defaults, environment and flags."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import protocol as proto
from .errors import ConfigError

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
        max_sessions: Sessions running at once; beyond it a candidate gets ``server_full``.
            ``None`` measures the machine at start-up (see :mod:`voice_interviewer.capacity`).
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
    max_sessions: int | None = None
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
        if (self.max_sessions is not None and self.max_sessions < 1) or self.max_session_s <= 0 \
                or self.resume_grace_s < 0:
            raise ConfigError("max_sessions must be ≥ 1 (or unset to measure it), max_session_s > 0 and "
                              "resume_grace_s ≥ 0")
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
