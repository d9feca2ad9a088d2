"""A spoken interview in real headless Chromium: fake microphone playing real speech, real server.

Chromium's fake capture device loops a WAV built here from a real recording
followed by silence longer than the end-of-answer pause, so every answer ends by
silence exactly as a candidate's would. The browser is the system Chromium;
nothing is downloaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import UNIT_S
from tests.integration.chromium import launch
from tests.integration.test_server_protocol import ServerThread, short_clips, speech_pcm
from voice_interviewer.server import ServerOptions
from voice_interviewer.wav import write_wav

pytestmark = pytest.mark.slow

SCREENS = Path("/tmp/vi-screens")

# Records every text the live caption and the final transcript ever showed (they change quickly).
RECORD_TRANSCRIPTS = """
window.__seen = {partial: [], final: []};
document.addEventListener('DOMContentLoaded', () => {
  for (const id of ['partial', 'final']) {
    const node = document.getElementById(id);
    new MutationObserver(() => { if (node.textContent) window.__seen[id].push(node.textContent); })
      .observe(node, {childList: true, characterData: true, subtree: true});
  }
});
"""


@pytest.fixture(scope="module")
def browser_server():
    srv = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3", partial_interval_s=0.5))
    yield srv
    srv.stop()


@pytest.fixture()
def mic_wav(tmp_path: Path, speech_clips) -> tuple[Path, str]:
    """One real clip, then 4.5 s of silence (> the 3 s end-of-answer pause); Chromium loops it."""
    clip = short_clips(speech_clips, 1)[0]
    pcm = speech_pcm([clip], 16000, gap_s=0.0, tail_silence_s=4.5)
    assert np.frombuffer(pcm, dtype="<i2").std() > 100
    path = tmp_path / "mic.wav"
    write_wav(path, pcm, 16000)
    return path, clip["reference"]


def test_spoken_interview_in_chromium(browser_server, mic_wav, tmp_path):
    wav, reference = mic_wav
    from playwright.sync_api import expect, sync_playwright

    ms = 1000 * UNIT_S
    with sync_playwright() as p:
        browser = launch(p, mic_wav=wav)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.add_init_script(RECORD_TRANSCRIPTS)
            page.goto(f"http://127.0.0.1:{browser_server.port}/")
            expect(page.locator("#role option")).not_to_have_count(0, timeout=10 * ms)
            expect(page.locator("#round-list input")).not_to_have_count(0)
            page.fill("#questions", "2")
            page.select_option("#follow-ups", "1")
            page.select_option("#timer", "60")
            page.select_option("#voice", "pyttsx3")
            page.get_by_role("button", name="Start the interview").click()

            expect(page.locator("#question-text")).not_to_have_text("…", timeout=20 * ms)
            expect(page.locator("#progress")).to_contain_text("Question 1 of 2")
            expect(page.locator("#captions li.question")).to_have_count(1)
            expect(page.locator("#done")).to_be_enabled(timeout=20 * ms)
            expect(page.get_by_role("button", name="I'm done Enter")).to_be_visible()

            # The first answer ends by silence; a follow-up comes because read prose misses the rubric.
            expect(page.locator("#captions li.follow_up")).to_have_count(1, timeout=90 * ms)
            expect(page.locator("#follow-up")).to_be_visible()
            expect(page.locator("#feedback-list .fb")).to_have_count(1, timeout=90 * ms)
            expect(page.locator("#continue")).to_be_enabled(timeout=30 * ms)  # the feedback is under review
            page.locator("#continue").click()
            expect(page.locator("#progress")).to_contain_text("Question 2 of 2", timeout=30 * ms)
            fb = page.locator("#feedback-list .fb").first
            expect(fb.locator(".points li")).not_to_have_count(0)
            expect(fb).to_contain_text("Score")
            expect(fb.locator(".delivery")).to_contain_text("words")
            expect(page.locator("#partial:not(:empty), #final:not(:empty)")).not_to_have_count(0, timeout=60 * ms)
            screenshot = tmp_path / "interview.png"
            page.screenshot(path=str(screenshot))

            expect(page.locator("#continue")).to_have_text("See the report Enter", timeout=150 * ms)
            page.locator("#continue").click()
            expect(page.locator("#report")).to_be_visible(timeout=30 * ms)
            expect(page.locator("#report .overall")).to_contain_text("Overall")
            expect(page.locator("#report details")).to_have_count(2)
            report_shot = tmp_path / "report.png"
            page.screenshot(path=str(report_shot), full_page=True)

            seen = page.evaluate("window.__seen")
            assert seen["partial"], "no live partial transcript was shown"
            finals = [t for t in seen["final"] if t != "(nothing was heard)"]
            assert len(finals) >= 3, seen["final"]
            spoken = {w.lower() for w in reference.split() if len(w) > 4}
            assert any(spoken & {w.strip(".,").lower() for w in t.split()} for t in finals), finals
            assert page.locator("#feedback-list .fb").count() == 2
            assert not errors, errors
        finally:
            browser.close()
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot, SCREENS / "interview.png")
    shutil.copy(report_shot, SCREENS / "report.png")



def test_review_retry_and_the_last_feedback_in_chromium(browser_server, mic_wav, tmp_path):
    """Each feedback holds the stage until Continue; Try again asks the same question and compares attempts."""
    wav, _ = mic_wav
    from playwright.sync_api import expect, sync_playwright

    ms = 1000 * UNIT_S
    shots: dict[str, Path] = {}
    with sync_playwright() as p:
        browser = launch(p, mic_wav=wav)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"http://127.0.0.1:{browser_server.port}/")
            expect(page.locator("#role option")).not_to_have_count(0, timeout=10 * ms)
            page.fill("#questions", "2")
            page.select_option("#follow-ups", "0")
            page.select_option("#timer", "60")
            page.select_option("#voice", "pyttsx3")
            page.get_by_role("button", name="Start the interview").click()

            review = page.locator("#review")
            cont = page.locator("#continue")
            expect(page.locator("#progress")).to_contain_text("Question 1 of 2", timeout=20 * ms)
            expect(review).to_be_hidden()

            # 1. The first answer's feedback takes the stage; nothing else is asked until Continue.
            expect(cont).to_be_enabled(timeout=90 * ms)
            expect(review.locator(".fb .points li")).not_to_have_count(0)
            expect(review).to_contain_text("Score")
            expect(page.locator("#done")).to_be_hidden()
            expect(page.locator("#stop")).to_be_visible()  # ending the interview stays possible
            expect(cont).to_be_focused()
            page.wait_for_timeout(1500 * UNIT_S)
            expect(page.locator("#progress")).to_contain_text("Question 1 of 2")
            expect(page.locator("#captions li.question")).to_have_count(1)
            shots["review"] = tmp_path / "review.png"
            page.screenshot(path=str(shots["review"]))

            # 2. Try again (the R key): the same question again, then feedback that compares the attempts.
            page.keyboard.press("r")
            expect(page.locator("#captions li.question")).to_have_count(2, timeout=20 * ms)
            expect(page.locator("#progress")).to_contain_text("Question 1 of 2")
            expect(review).to_be_hidden()
            expect(page.locator("#done")).to_be_enabled(timeout=20 * ms)
            compare = review.locator(".compare")
            expect(compare).to_contain_text("Attempt 2 against attempt 1", timeout=90 * ms)
            expect(compare).to_contain_text("→")
            expect(review.locator(".fb header")).to_contain_text("attempt 2")
            expect(cont).to_be_enabled()
            # The first attempt is in the history beside the stage; the second joins it on Continue.
            expect(page.locator("#feedback-list .fb:not([hidden])")).to_have_count(1)
            shots["retry"] = tmp_path / "retry.png"
            page.screenshot(path=str(shots["retry"]))

            # 3. Continue (Enter) asks the next question; its feedback, the last, is shown before the report.
            page.keyboard.press("Enter")
            expect(page.locator("#progress")).to_contain_text("Question 2 of 2", timeout=20 * ms)
            expect(review).to_be_hidden()
            expect(page.locator("#feedback-list .fb:not([hidden])")).to_have_count(2)
            expect(cont).to_have_text("See the report Enter", timeout=90 * ms)
            expect(cont).to_be_enabled()
            last = review.locator(".fb")
            expect(last.locator(".points li[data-verdict]")).not_to_have_count(0)
            expect(last.locator(".verdict").first).to_contain_text(":")
            expect(last.locator(".tips li")).not_to_have_count(0)
            expect(page.locator("#report")).to_be_hidden()
            shots["last"] = tmp_path / "last.png"
            page.screenshot(path=str(shots["last"]))

            cont.click()
            expect(page.locator("#report")).to_be_visible(timeout=30 * ms)
            expect(page.locator("#report details")).to_have_count(2)
            assert not errors, errors
        finally:
            browser.close()
    SCREENS.mkdir(parents=True, exist_ok=True)
    for name, shot in shots.items():
        shutil.copy(shot, SCREENS / f"{name}.png")

def test_a_full_server_tells_the_candidate_in_chromium_and_the_running_session_is_untouched():
    import json

    from playwright.sync_api import expect, sync_playwright
    from websockets.sync.client import connect

    ms = 1000 * UNIT_S
    srv = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3", max_sessions=1))
    try:
        with connect(srv.ws_url(), max_size=2**24) as holder:  # the one place is taken
            holder.send(json.dumps({"type": "start", "role": "mlops-engineer", "questions": 1,
                                    "sample_rate": 16000, "voice_engine": "pyttsx3"}))
            wait_for(holder, "session")
            with sync_playwright() as p:
                browser = launch(p, fake_device=True)
                try:
                    page = browser.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda exc: errors.append(str(exc)))
                    page.goto(f"http://127.0.0.1:{srv.port}/")
                    expect(page.locator("#role option")).not_to_have_count(0, timeout=10 * ms)
                    page.get_by_role("button", name="Start the interview").click()
                    alert = page.get_by_role("alert")
                    expect(alert).to_contain_text("The server is full", timeout=20 * ms)
                    expect(alert).to_contain_text("try again in a few minutes")
                    expect(page.locator("#setup")).to_be_visible()  # back to the form, ready to retry
                    expect(page.locator("#start")).to_be_enabled()
                    page.wait_for_timeout(9000)  # longer than an ordinary alert stays
                    expect(alert).to_be_visible()
                    assert not errors, errors
                finally:
                    browser.close()
            holder.send(json.dumps({"type": "stop"}))  # the running session still answers
            wait_for(holder, "report")
    finally:
        srv.stop()


def wait_for(ws, kind: str) -> dict:
    """The next JSON message of ``kind`` on a sync websocket, skipping everything else (audio too)."""
    import json

    while True:
        msg = ws.recv(timeout=60 * UNIT_S)
        if isinstance(msg, str) and (d := json.loads(msg))["type"] == kind:
            return d
