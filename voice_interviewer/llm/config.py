"""Where the LLM lives and how long we wait for it: one frozen options object.

The LLM is strictly opt-in. With neither ``OPENAI_BASE_URL`` nor ``OPENAI_API_KEY``
set, :attr:`LlmOptions.configured` is False and the product stays fully offline
(rubric interviewer, offline scorer), printing :func:`not_configured_notice` once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TextIO

from ..errors import ConfigError

ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_API_KEY = "OPENAI_API_KEY"
ENV_MODEL = "VOICE_INTERVIEWER_LLM_MODEL"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
NOT_CONFIGURED = (
    f"LLM not configured ({ENV_BASE_URL}/{ENV_API_KEY} unset): using the rubric interviewer and the "
    f"offline scorer; see docs/llm.md to connect OpenAI, Ollama, vLLM, llama.cpp or LM Studio."
)


@dataclass(frozen=True)
class LlmOptions:
    """How to reach the LLM and the time it is allowed.

    Attributes:
        base_url: OpenAI-compatible API root (``http://127.0.0.1:11434/v1`` for Ollama);
            None means api.openai.com when ``api_key`` is set.
        model: Model name; empty asks the server and uses its only model (llama.cpp,
            LM Studio with one model loaded).
        api_key: Bearer key; local servers accept any value, so None is sent as "local".
        turn_budget_s: Longest wait for the follow-up question (first sentence) before
            the rubric's wording is used. Keep it under ~3 s: the candidate is waiting.
        grade_budget_s: Longest wait for a full LLM grade before the offline grade is used.
        connect_timeout_s: TCP/TLS connect limit inside either budget.
        follow_up_max_tokens: Cap on a follow-up completion (a question is ~30 tokens;
            the cap stops a rambling model from running on).
        grade_max_tokens: Cap on the grading JSON.
        temperature: Sampling temperature; 0 makes grading repeatable.
        doctor_timeout_s: Per-check limit for ``voice-interviewer doctor``.
    """

    base_url: str | None = None
    model: str = ""
    api_key: str | None = None
    turn_budget_s: float = 2.5
    grade_budget_s: float = 20.0
    connect_timeout_s: float = 2.0
    follow_up_max_tokens: int = 64
    grade_max_tokens: int = 512
    temperature: float = 0.0
    doctor_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{ENV_BASE_URL}={self.base_url!r} is not an http(s) URL; "
                f"set it like http://127.0.0.1:8080/v1 (the API root that serves /chat/completions)"
            )
        for name in ("turn_budget_s", "grade_budget_s", "connect_timeout_s", "doctor_timeout_s"):
            value = getattr(self, name)
            if not (0 < value <= 600):
                raise ConfigError(f"{name}={value!r} must be between 0 and 600 seconds")
        for name in ("follow_up_max_tokens", "grade_max_tokens"):
            value = getattr(self, name)
            if not (8 <= value <= 8192):
                raise ConfigError(f"{name}={value!r} must be between 8 and 8192 tokens")
        if not (0.0 <= self.temperature <= 2.0):
            raise ConfigError(f"temperature={self.temperature!r} must be between 0 and 2")

    @property
    def configured(self) -> bool:
        """True when the user pointed us at an endpoint (a base URL or an OpenAI key)."""
        return bool(self.base_url or self.api_key)

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages and ``doctor``."""
        return self.base_url or "https://api.openai.com/v1"

    @property
    def model_label(self) -> str:
        return self.model or "(the server's only model)"

    def with_overrides(self, **changes: Any) -> "LlmOptions":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "LlmOptions":
        """Options from ``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` and ``VOICE_INTERVIEWER_LLM_MODEL``.

        A key with no base URL means OpenAI itself, where a model must be named, so
        ``gpt-4o-mini`` is assumed unless the model variable says otherwise.
        """
        env = os.environ if env is None else env
        base_url = (env.get(ENV_BASE_URL) or "").strip().rstrip("/") or None
        api_key = (env.get(ENV_API_KEY) or "").strip() or None
        model = (env.get(ENV_MODEL) or "").strip()
        if not model and api_key and not base_url:
            model = OPENAI_DEFAULT_MODEL
        values: dict[str, object] = {"base_url": base_url, "api_key": api_key, "model": model}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def llm_availability(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Whether the language model can be chosen here, and if not why, for a picker to show.

    Only the configuration is checked (no request is made): a page asks for this on every load,
    and ``voice-interviewer doctor`` is the place that tries the endpoint.
    """
    try:
        configured = LlmOptions.from_env(env).configured
    except ConfigError as exc:
        return {"configured": False, "reason": str(exc)}
    if configured:
        return {"configured": True, "reason": None}
    return {"configured": False,
            "reason": f"no language model endpoint is configured on the server: set {ENV_BASE_URL} (and "
                      f"{ENV_MODEL}) before starting it; see docs/llm.md"}


_announced: set[str] = set()


def not_configured_notice(out: TextIO | None = None) -> str:
    """Print the one-line "LLM not configured" notice once per process; return it."""
    if NOT_CONFIGURED not in _announced:
        _announced.add(NOT_CONFIGURED)
        print(f"voice-interviewer: {NOT_CONFIGURED}", file=out or sys.stderr, flush=True)
    return NOT_CONFIGURED
