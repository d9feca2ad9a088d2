"""Every error the product raises on purpose.

Messages state the value received, what is allowed and how to fix it, so that a
candidate or an operator can act on them without reading code::

    VoiceInterviewerError
     ├── BankError                 a rubric bank file is invalid (file, line, field)
     ├── ConfigError               a flag, env variable or data directory is unusable
     ├── ModelUnavailableError     a speech/TTS/embedding model cannot be loaded offline
     ├── AudioError                undecodable audio, wrong rate, bad frame
     │    └── AudioDeviceError     no input device, device busy or gone, PortAudio missing
     ├── ProtocolError             a websocket message the server cannot accept (has a code)
     ├── StoreError                the session store cannot read or write
     │    └── SessionNotFoundError an unknown or malformed session id
     └── LlmError                  the LLM endpoint failed, timed out or answered nonsense
"""

from __future__ import annotations

from dataclasses import dataclass


class VoiceInterviewerError(Exception):
    """Base of every deliberate error; catch this at the edges to print a clean message."""


@dataclass(frozen=True)
class BankProblem:
    """One problem in a bank file, pointing at the exact place to fix."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}"


class BankError(VoiceInterviewerError):
    """A rubric bank is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[BankProblem]):
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in rubric bank:\n{lines}")


class ConfigError(VoiceInterviewerError):
    """A setting cannot be used as given."""


class ModelUnavailableError(VoiceInterviewerError):
    """A model is not available offline; the message says which package or path provides it."""


class AudioError(VoiceInterviewerError):
    """Audio that cannot be decoded or does not match what was announced."""


class AudioDeviceError(AudioError):
    """A sound device problem: none present, busy, vanished, or PortAudio not installed."""


class ProtocolError(VoiceInterviewerError):
    """A client message the server rejects; ``code`` is the stable, machine-readable reason."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


class StoreError(VoiceInterviewerError):
    """The session store cannot do what was asked."""


class SessionNotFoundError(StoreError):
    """No session with that id (or the id is not a valid session id at all)."""


class LlmError(VoiceInterviewerError):
    """The LLM endpoint failed, timed out or returned output we cannot use."""
