"""The interviews one server is running now, each findable by id and by its resume token.

A session outlives any one websocket connection (a dropped link may resume within a
grace period), so the server keeps them here rather than per connection. The
registry also holds the limit on sessions at once: each holds a listener and a grader.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from . import protocol as proto
from .channels.websocket import WebsocketChannel
from .errors import ProtocolError
from .interview import Interview


@dataclass
class LiveSession:
    """A running interview and the channel that outlives any one connection."""

    interview: Interview
    channel: WebsocketChannel
    resume_token: str
    started: float
    task: asyncio.Task | None = None
    prepare: asyncio.Task | None = None


class SessionRegistry:
    """Running sessions by id, at most ``max_sessions`` at once."""

    def __init__(self, max_sessions: int):
        self.max_sessions = max_sessions
        self._sessions: dict[str, LiveSession] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[LiveSession]:
        return iter(list(self._sessions.values()))

    def check_room(self) -> None:
        """Raise ``server_full`` when another session would pass the limit.

        Refusing the next candidate is the point: one session more than the machine can
        decode in time would make every running interview wait longer after each answer.
        """
        if len(self._sessions) >= self.max_sessions:
            raise ProtocolError(proto.SERVER_FULL, f"the server is full: {len(self._sessions)} interviews are "
                                                   f"running, as many as it can run without slowing them all "
                                                   f"down; try again in a few minutes")

    def add(self, live: LiveSession) -> None:
        self._sessions[live.interview.session_id] = live

    def remove(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def by_resume_token(self, token: str) -> LiveSession | None:
        """The session a ``resume_session`` token belongs to; compared in constant time, as a secret."""
        for live in self._sessions.values():
            if hmac.compare_digest(live.resume_token.encode(), token.encode()):
                return live
        return None
