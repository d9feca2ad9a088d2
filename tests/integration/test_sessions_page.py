"""The sessions page and what it needs from the server, on the real server with a real SQLite store:
``start.question_ids``, ``delete_session`` over the websocket, and the page itself in real Chromium
(progress charts, the key points most often missed, delete, "practise my weakest questions")."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import UNIT_S
from tests.integration.chromium import launch
from tests.integration.test_server_protocol import Client, ServerThread, start_msg
from voice_interviewer.bank import load_role
from voice_interviewer.channels.base import Reply, ReplyAction, SessionInfo, Utterance, UtteranceKind
from voice_interviewer.scoring.feedback import Delivery, Feedback, KeyPointResult
from voice_interviewer.server import ServerOptions
from voice_interviewer.store import SessionStore
from voice_interviewer.transcript import Transcript

pytestmark = pytest.mark.slow

SCREENS = Path("/tmp/vi-screens")
BANK = load_role("mlops-engineer")
Q = {q.id: q for q in BANK.questions}
DRIFT, STORE, LIFECYCLE = "model-and-data-drift", "feature-store", "ml-lifecycle"


def record(store: SessionStore, session_id: str, days_ago: int, covered: dict[str, int]) -> None:
    """A graded session through the real recorder: ``covered`` is how many key points each answer covered."""
    rec = store.recorder()
    questions = tuple(Q[qid] for qid in covered)
    rec.session_started(SessionInfo(session_id, BANK.role, BANK.title, questions,
                                    round_titles={r.id: r.title for r in BANK.rounds}))
    for n, q in enumerate(questions, 1):
        rec.utterance(Utterance(q.text, UtteranceKind.QUESTION, q.id, f"q{n}"))
        rec.answer(q, f"q{n}", Reply(ReplyAction.ANSWERED, Transcript("an answer"), "done"))
        kps = tuple(KeyPointResult(k.id, k.statement, k.weight, i < covered[q.id], 1.0 if i < covered[q.id] else 0.0)
                    for i, k in enumerate(q.key_points))
        share = covered[q.id] / len(q.key_points)
        rec.feedback(q, Feedback(q.id, share, round(100 * share, 1), kps, Delivery(2), ()))
    rec.session_finished(None, "completed")
    store.database.execute("UPDATE sessions SET started_at = started_at - ? WHERE id = ?",
                           (days_ago * 86400, session_id))


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[ServerThread, SessionStore]]:
    store = SessionStore(tmp_path / "data")
    record(store, "bbbbbbbb00000001", 3, {DRIFT: 1, STORE: 0, LIFECYCLE: 2})
    record(store, "bbbbbbbb00000002", 2, {DRIFT: 2, STORE: 1})
    record(store, "bbbbbbbb00000003", 1, {DRIFT: 3, LIFECYCLE: 1})
    server = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3"), store=store)
    yield server, store
    server.stop()
    store.close()


def test_start_with_question_ids_asks_exactly_those(served) -> None:
    server, _ = served

    async def run() -> None:
        c = await Client.open(server.ws_url())
        await c.send(**start_msg(question_ids=[STORE, "no-such-question"]))
        err = await c.until("error")
        assert err["code"] == "bad_field" and "no question 'no-such-question'" in err["message"]
        await c.send(**start_msg(question_ids="nope/../x"))
        err = await c.until("error")
        assert err["code"] == "bad_field" and "start.question_ids" in err["message"]
        await c.send(**start_msg(question_ids=[STORE, DRIFT], questions=1))  # the session survived the errors
        session = await c.until("session")
        assert [q["id"] for q in session["questions"]] == [STORE, DRIFT]
        question = await c.until("question")
        assert (question["id"], question["total"]) == (STORE, 2)
        await c.send(type="stop")
        await c.until("report", timeout_s=60 * UNIT_S)
        await c.close()

    asyncio.run(run())


def test_delete_session_over_the_websocket(served) -> None:
    server, store = served

    async def run() -> None:
        running = await Client.open(server.ws_url())
        await running.send(**start_msg())
        live_id = (await running.until("session"))["id"]
        c = await Client.open(server.ws_url())
        await c.send(type="delete_session", id="bbbbbbbb00000002")
        assert await c.next() == {"type": "deleted", "id": "bbbbbbbb00000002"}
        assert not store.exists("bbbbbbbb00000002") and store.exists("bbbbbbbb00000001")
        await c.send(type="delete_session", id="bbbbbbbb00000002")
        err = await c.next()
        assert err["code"] == "not_found" and "no session bbbbbbbb00000002" in err["message"]
        await c.send(type="delete_session", id="../sessions.db")
        assert (await c.next())["code"] == "not_found"
        await c.send(type="delete_session", id=live_id)  # being recorded: refused, kept
        err = await c.next()
        assert err["code"] == "wrong_state" and "being recorded" in err["message"]
        assert store.exists(live_id)
        await running.send(type="stop")
        await running.until("report", timeout_s=60 * UNIT_S)
        await running.close()
        await c.close()

    asyncio.run(run())


def test_sessions_page_progress_delete_and_practise_weakest(served, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    server, store = served
    ms = 1000 * UNIT_S
    base = f"http://127.0.0.1:{server.port}"
    with sync_playwright() as p:
        browser = launch(p, fake_device=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # Reachable from the interview page.
            page.goto(f"{base}/")
            page.get_by_role("link", name="Your sessions and progress").click()
            expect(page).to_have_url(f"{base}/sessions.html", timeout=10 * ms)
            expect(page.locator("#session-rows tr")).to_have_count(3, timeout=10 * ms)

            # Score over time, one chart per question, one point per attempt, oldest first.
            drift = page.locator(f'.chart[data-question="{DRIFT}"]')
            expect(drift.locator("circle.point")).to_have_count(3)
            drift_scores = [round(100 * n / len(Q[DRIFT].key_points)) for n in (1, 2, 3)]
            assert drift.locator("svg").get_attribute("aria-label") == \
                f"Score over time: {', '.join(map(str, drift_scores))}"
            expect(drift).to_contain_text(f"Latest {drift_scores[-1]}")
            expect(page.locator(f'.chart[data-question="{STORE}"] circle.point')).to_have_count(2)
            # A drift key point missed in all three answers comes first; one covered every time is not listed.
            first = page.locator("#missed-list li").first
            assert first.get_attribute("data-key-point").startswith(f"{DRIFT}/")
            expect(first).to_contain_text("not covered in 3 of 3 answer(s)")
            point = '#missed-list li[data-key-point="{}/{}"]'.format
            expect(page.locator(point(DRIFT, Q[DRIFT].key_points[0].id))).to_have_count(0)
            expect(page.locator(point(STORE, Q[STORE].key_points[-1].id))).to_contain_text(
                "not covered in 2 of 2 answer(s)")
            expect(page.locator("#weakest li")).to_have_count(3)
            expect(page.locator("#weakest li").first).to_contain_text(Q[STORE].text)
            page.screenshot(path=str(tmp_path / "sessions.png"), full_page=True)

            # Delete asks first, then the row and its grades are gone.
            page.once("dialog", lambda d: d.accept())
            page.locator('#session-rows tr[data-id="bbbbbbbb00000002"] button').click()
            expect(page.locator("#session-rows tr")).to_have_count(2, timeout=10 * ms)
            expect(page.locator("#status")).to_contain_text("Deleted the session")
            expect(page.locator(f'.chart[data-question="{STORE}"] circle.point')).to_have_count(1)
            assert not store.exists("bbbbbbbb00000002")

            # Practise my weakest questions: the interview page starts a session of exactly those.
            weakest = store.progress()["weakest"]["question_ids"]
            page.get_by_role("link", name="Practise my weakest questions").click()
            expect(page.locator("#chosen")).to_be_visible(timeout=10 * ms)
            expect(page.locator("#chosen-text")).to_have_text(
                f"This session asks the {len(weakest)} question(s) you chose on the sessions page.")
            expect(page.locator("#questions")).to_be_disabled()
            page.get_by_role("button", name="Start the interview").click()
            expect(page.locator("#progress")).to_contain_text(f"Question 1 of {len(weakest)}", timeout=30 * ms)
            expect(page.locator("#question-text")).to_have_text(Q[weakest[0]].text)
            page.get_by_role("button", name="End interview").click()
            expect(page.locator("#report")).to_be_visible(timeout=60 * ms)
            expect(page.locator("#report-sessions")).to_be_visible()  # and back from the report
            assert not errors, errors
        finally:
            browser.close()
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "sessions.png", SCREENS / "sessions.png")
