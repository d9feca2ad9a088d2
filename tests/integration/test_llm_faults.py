"""Every way an endpoint can fail ends in the rubric/offline path, within the budget.

Each fault is a real local server written here: one that accepts and never answers,
a closed port, one that answers HTTP 500, one whose event stream is not JSON and
is cut off. No mocks: the real ``openai`` client talks to each of them.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.conftest import UNIT_S
from voice_interviewer.bank import Question, load_bank
from voice_interviewer.interviewer.base import TurnContext
from voice_interviewer.interviewer.llm import LlmInterviewer
from voice_interviewer.interviewer.rubric import RubricInterviewer
from voice_interviewer.llm.config import LlmOptions
from voice_interviewer.scoring.feedback import KeyPointResult
from voice_interviewer.scoring.grader import OfflineGrader
from voice_interviewer.scoring.llm import LlmGrader
from voice_interviewer.transcript import Transcript

pytestmark = pytest.mark.slow

BUDGET_S = 1.0 * UNIT_S
ANSWER = "We package the model in Docker, track runs in MLflow and deploy it on Kubernetes behind an API."

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    await reader.readexactly(length)


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    await asyncio.sleep(3600)


async def _http_500(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    body = b'{"error": {"message": "model crashed", "type": "server_error"}}'
    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    await writer.drain()
    writer.close()


async def _malformed_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                 b"data: this is not json\n\n"
                 b'data: {"id": "x", "object": "chat.completion.chunk", "choices": [{"delta": {"cont')
    await writer.drain()
    writer.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _question(repo_root) -> Question:
    return load_bank(repo_root / "rubrics" / "mlops-engineer.yaml").questions[0]


def _ctx(question: Question) -> TurnContext:
    coverage = tuple(KeyPointResult(k.id, k.statement, k.weight, False, 0.0) for k in question.key_points)
    return TurnContext(question, (Transcript(ANSWER),), coverage, (), 1)


async def _follow_up_against(handler: Handler | None, question: Question):
    server = None
    if handler is None:
        port = _closed_port()
    else:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
    try:
        policy = LlmInterviewer(RubricInterviewer(), LlmOptions(
            base_url=f"http://127.0.0.1:{port}/v1", model="any", turn_budget_s=BUDGET_S))
        started = time.perf_counter()
        decision = await policy.follow_up(_ctx(question))
        return decision, time.perf_counter() - started, policy.last_outcome
    finally:
        if server is not None:
            server.close()


@pytest.mark.parametrize("handler, expect", [
    (_hang, "no question within"), (None, "cannot connect"), (_http_500, "HTTP 500"),
    (_malformed_stream, "streaming a reply"),
], ids=["hung", "refused", "http-500", "malformed-stream"])
def test_follow_up_falls_back_to_the_rubric_within_budget(repo_root, handler, expect) -> None:
    question = _question(repo_root)
    decision, took_s, outcome = asyncio.run(_follow_up_against(handler, question))
    rubric = asyncio.run(RubricInterviewer().follow_up(_ctx(question)))
    assert decision is not None and decision.source == "rubric"
    assert decision.text == rubric.text and decision.key_point_id == rubric.key_point_id
    assert outcome.source == "rubric" and expect in outcome.reason
    assert took_s < BUDGET_S + 1.0 * UNIT_S


@pytest.fixture(scope="module")
def offline() -> OfflineGrader:
    return OfflineGrader()


@pytest.mark.parametrize("handler", [_hang, _http_500, _malformed_stream], ids=["hung", "http-500", "malformed"])
def test_grade_falls_back_to_the_offline_grade_within_budget(repo_root, offline, handler) -> None:
    question = _question(repo_root)
    answers = [Transcript(ANSWER)]
    expected = asyncio.run(offline.grade(question, answers))

    async def run():
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            grader = LlmGrader(offline, LlmOptions(base_url=f"http://127.0.0.1:{port}/v1", model="any",
                                                   grade_budget_s=BUDGET_S))
            started = time.perf_counter()
            feedback = await grader.grade(question, answers)
            return feedback, time.perf_counter() - started, grader.last_problem
        finally:
            server.close()

    feedback, took_s, problem = asyncio.run(run())
    assert feedback == expected and feedback.grader == "offline"
    assert problem
    assert took_s < BUDGET_S + 5.0 * UNIT_S  # the offline grade itself runs first, on a shared CPU
