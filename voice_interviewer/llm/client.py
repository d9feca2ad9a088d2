"""A thin async client for any OpenAI-compatible chat endpoint, with our error type.

Everything the ``openai`` package can raise (refused connection, timeout, HTTP 4xx/5xx,
a stream that is not JSON) becomes :class:`~voice_interviewer.errors.LlmError` with
the endpoint and the fix in its message, so callers have exactly one thing to catch
before falling back to the offline path. Retries are off: a budgeted turn has no time
for them, and the offline fallback is always ready.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import openai

from ..errors import LlmError
from .config import LlmOptions
from .sentences import SentenceBuffer

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

Message = dict[str, str]


@dataclass
class ReplyCounts:
    """How this client's requests ended, counted since it was made.

    Why it exists: every caller falls back to the rubric or offline path on any failure,
    by design, so from the outside a dead endpoint and a working one look the same.
    These counts say whether the model really answered; the integration tests assert
    on them, and benchmarks or logs can report them. Whether an answer was *usable* is
    the caller's judgement (``LlmInterviewer.outcomes``, ``LlmGrader.last_problem``).

    Attributes:
        requests: Completions asked for (each call to :meth:`LlmClient.stream_text`).
        answered: Of those, how many streamed at least one piece of text from the model.
        failed: How many ended in :class:`LlmError` raised here (refused, HTTP error,
            broken stream, over ``complete``'s budget). A caller's own time budget
            cancels the request without counting it here.
        last_error: The message of the latest such failure ("" when none).
    """

    requests: int = 0
    answered: int = 0
    failed: int = 0
    last_error: str = ""

    def fail(self, error: LlmError) -> LlmError:
        """Count ``error`` and hand it back for raising."""
        self.failed += 1
        self.last_error = str(error)
        return error


class LlmClient:
    """Chat completions against ``options.endpoint``; one underlying client per event loop."""

    def __init__(self, options: LlmOptions):
        self.options = options
        self._clients: dict[int, openai.AsyncOpenAI] = {}
        self._model: str | None = options.model or None
        self.counts = ReplyCounts()

    def _client(self, timeout_s: float) -> openai.AsyncOpenAI:
        # An httpx pool belongs to the loop it was created in; key the cache by loop.
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=self.options.endpoint, api_key=self.options.api_key or "local",
                timeout=openai.Timeout(timeout_s, connect=self.options.connect_timeout_s),
                max_retries=0,
            )
            self._clients = {loop_id: client}
        return client.with_options(timeout=openai.Timeout(timeout_s, connect=self.options.connect_timeout_s))

    def _error(self, exc: BaseException, what: str) -> LlmError:
        where = self.options.endpoint
        if isinstance(exc, openai.APITimeoutError):
            return LlmError(f"{what}: {where} did not answer in time; check the server is up and not overloaded")
        if isinstance(exc, openai.APIConnectionError):
            return LlmError(f"{what}: cannot connect to {where}; start the server or fix OPENAI_BASE_URL")
        if isinstance(exc, openai.AuthenticationError):
            return LlmError(f"{what}: {where} rejected the key (HTTP 401); set a valid OPENAI_API_KEY")
        if isinstance(exc, openai.NotFoundError):
            return LlmError(f"{what}: {where} has no model {self._model!r} (HTTP 404); "
                            f"set VOICE_INTERVIEWER_LLM_MODEL to one the server lists")
        if isinstance(exc, openai.APIStatusError):
            return LlmError(f"{what}: {where} answered HTTP {exc.status_code}; see the server's log")
        return LlmError(f"{what}: unusable answer from {where} ({type(exc).__name__}: {exc})")

    async def models(self, timeout_s: float | None = None) -> list[str]:
        """Model ids the server lists."""
        try:
            page = await self._client(timeout_s or self.options.doctor_timeout_s).models.list()
            return [m.id for m in page.data]
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc, "listing models") from exc

    async def model(self) -> str:
        """The configured model, or the server's only model when none was named."""
        if self._model:
            return self._model
        names = await self.models(self.options.connect_timeout_s + 1.0)
        if len(names) != 1:
            raise LlmError(
                f"no model named and {self.options.endpoint} lists {len(names)}: {', '.join(names[:8]) or '-'}; "
                f"set VOICE_INTERVIEWER_LLM_MODEL to one of them"
            )
        self._model = names[0]
        return self._model

    async def stream_text(self, messages: list[Message], *, max_tokens: int, timeout_s: float,
                          temperature: float | None = None) -> AsyncGenerator[str, None]:
        """Yield content deltas as the server streams them."""
        what = "streaming a reply"
        self.counts.requests += 1
        answered = False
        try:
            model = await self.model()
            stream = await self._client(timeout_s).chat.completions.create(
                # Message is a plain dict of role/content; the SDK wants its TypedDict union.
                model=model, messages=cast("list[ChatCompletionMessageParam]", messages),
                max_tokens=max_tokens, stream=True,
                temperature=self.options.temperature if temperature is None else temperature,
            )
            async with aclosing(stream):  # closing the response stops generation server-side
                async for chunk in stream:
                    for choice in chunk.choices or ():
                        text = getattr(choice.delta, "content", None)
                        if text:
                            if not answered:
                                answered = True
                                self.counts.answered += 1
                            yield text
        except LlmError as exc:
            raise self.counts.fail(exc) from None
        except (openai.OpenAIError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self.counts.fail(self._error(exc, what)) from exc

    async def stream_sentences(self, messages: list[Message], *, max_tokens: int,
                               timeout_s: float) -> AsyncGenerator[str, None]:
        """Yield complete sentences as they form (see :mod:`.sentences`)."""
        buffer = SentenceBuffer()
        async with aclosing(self.stream_text(messages, max_tokens=max_tokens, timeout_s=timeout_s)) as deltas:
            async for delta in deltas:
                for sentence in buffer.feed(delta):
                    yield sentence
        for sentence in buffer.flush():
            yield sentence

    async def complete(self, messages: list[Message], *, max_tokens: int, timeout_s: float,
                       done: Callable[[str], bool] | None = None) -> str:
        """One whole reply within ``timeout_s`` (raises :class:`LlmError` otherwise).

        Streamed even though the caller wants it whole: closing a stream makes servers
        such as llama.cpp stop generating, whereas an abandoned plain request keeps the
        server busy and delays the next turn. ``done(text_so_far)`` may end it early,
        e.g. once a complete JSON object has arrived from a model that keeps talking.
        """
        parts: list[str] = []
        try:
            async with asyncio.timeout(timeout_s):
                stream = self.stream_text(messages, max_tokens=max_tokens, timeout_s=timeout_s)
                async with aclosing(stream):
                    async for delta in stream:
                        parts.append(delta)
                        if done is not None and "}" in delta and done("".join(parts)):
                            break
        except TimeoutError as exc:
            raise self.counts.fail(LlmError(
                f"completing a reply: {self.options.endpoint} took longer than {timeout_s:g} s; "
                f"raise grade_budget_s or use a faster model")) from exc
        return "".join(parts)

    async def ping(self) -> tuple[str, float]:
        """One tiny completion; returns (reply, seconds taken). For ``doctor``."""
        started = time.perf_counter()
        text = await self.complete([{"role": "user", "content": "Reply with the single word OK."}],
                                   max_tokens=8, timeout_s=self.options.doctor_timeout_s)
        return text.strip(), time.perf_counter() - started


def connect(options: LlmOptions | None = None) -> tuple[LlmOptions, LlmClient | None]:
    """Options (from the environment unless given) and a client, or None when nothing is configured.

    With no endpoint configured nothing may leave the machine: callers fall back to the
    offline rubric, and the one-line notice says so.
    """
    options = options or LlmOptions.from_env()
    if not options.configured:
        from .config import not_configured_notice

        not_configured_notice()
        return options, None
    return options, LlmClient(options)
