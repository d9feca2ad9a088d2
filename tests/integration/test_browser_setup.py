"""The interview page in real headless Chromium: what it says before and after an interview.

A missing and a blocked microphone get different advice; the language-model interviewer is
offered only when the server has an endpoint; the report says which interviewer and grader
ran and that a session ended early. The server is the real one on loopback.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import UNIT_S
from tests.integration.chromium import launch
from tests.integration.test_server_protocol import ServerThread, short_clips, speech_pcm
from voice_interviewer.server import ServerOptions
from voice_interviewer.wav import write_wav

pytestmark = pytest.mark.slow

SCREENS = Path("/tmp/vi-screens")


def no_sound(folder: Path) -> dict[str, str]:
    """Environment in which the browser reaches no microphone at all, whatever the machine has:
    no sound server (PulseAudio or PipeWire's) and an ALSA configured with no devices."""
    empty = folder / "no-devices.asoundrc"
    empty.write_text("# no ALSA devices\n")
    return {"PULSE_SERVER": "unix:/nonexistent/voice-interviewer-test", "ALSA_CONFIG_PATH": str(empty)}


@pytest.fixture()
def server(monkeypatch) -> Iterator[ServerThread]:
    """The real server with no language model endpoint configured."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    srv = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3", partial_interval_s=0.5))
    yield srv
    srv.stop()


def _alert_after_start(page, url: str) -> str:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator("#role option")).not_to_have_count(0, timeout=10_000 * UNIT_S)
    page.get_by_role("button", name="Start the interview").click()
    expect(page.locator("#alert")).to_be_visible(timeout=10_000 * UNIT_S)
    return page.locator("#alert").inner_text()


def test_a_missing_microphone_and_a_blocked_one_get_different_advice(server, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{server.port}/"
    with sync_playwright() as p:
        # Permission granted, no device anywhere: getUserMedia fails with NotFoundError.
        browser = launch(p, env=no_sound(tmp_path))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            inputs = page.evaluate("navigator.mediaDevices.enumerateDevices()"
                                   ".then(d => d.filter(x => x.kind === 'audioinput').length)")
            assert inputs == 0, "the browser still reaches a microphone without a sound server or ALSA devices"
            missing = _alert_after_start(page, url)
            page.screenshot(path=str(tmp_path / "no-microphone.png"))
            assert page.locator("#setup").is_visible() and page.locator("#start").is_enabled()
        finally:
            browser.close()
        # A device exists but the page may not use it: NotAllowedError.
        browser = launch(p, fake_device=True, allow_mic=False)
        try:
            blocked = _alert_after_start(browser.new_page(), url)
        finally:
            browser.close()
    assert missing.startswith("No microphone was found. Connect one"), missing
    assert "address bar" not in missing and "Requested device not found" not in missing
    assert blocked.startswith("The microphone is blocked for this page. Allow it in the address bar"), blocked
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "no-microphone.png", SCREENS / "no-microphone.png")


def test_language_model_is_disabled_with_its_reason_without_an_endpoint(server, monkeypatch, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = f"http://127.0.0.1:{server.port}/"
    with sync_playwright() as p:
        browser = launch(p, allow_mic=False)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            llm = page.locator('#interviewer option[value="llm"]')
            expect(llm).to_be_disabled(timeout=10_000 * UNIT_S)
            expect(page.locator("#interviewer-why")).to_be_visible()
            why = page.locator("#interviewer-why").inner_text()
            assert why.startswith("Language model unavailable: no language model endpoint is configured"), why
            assert "OPENAI_BASE_URL" in why and "OPENAI_BASE_URL" in (llm.get_attribute("title") or "")
            assert page.locator("#interviewer").input_value() == "rubric"
            page.screenshot(path=str(tmp_path / "llm-unavailable.png"))

            # The same server once an endpoint is configured (it is read on each page load).
            monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
            page.reload()
            expect(page.locator("#role option")).not_to_have_count(0, timeout=10_000 * UNIT_S)
            expect(llm).to_be_enabled()
            expect(page.locator("#interviewer-why")).to_be_hidden()
        finally:
            browser.close()
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "llm-unavailable.png", SCREENS / "llm-unavailable.png")


@pytest.fixture()
def mic_wav(tmp_path: Path, speech_clips) -> Path:
    """One real clip, then silence longer than the end-of-answer pause; Chromium loops it."""
    pcm = speech_pcm(short_clips(speech_clips, 1), 16000, gap_s=0.0, tail_silence_s=4.5)
    path = tmp_path / "mic.wav"
    write_wav(path, pcm, 16000)
    return path


def test_report_says_who_ran_and_that_the_session_ended_early(server, mic_wav, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ms = 1000 * UNIT_S
    with sync_playwright() as p:
        browser = launch(p, mic_wav=mic_wav)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"http://127.0.0.1:{server.port}/")
            expect(page.locator("#round-list input")).not_to_have_count(0, timeout=10 * ms)
            page.check("#round-deployment")
            page.fill("#questions", "2")
            page.select_option("#follow-ups", "0")
            page.select_option("#timer", "60")
            page.get_by_role("button", name="Start the interview").click()
            # The round is named by its title, as in the bank.
            expect(page.locator("#progress")).to_have_text("Question 1 of 2 · Deployment & monitoring",
                                                           timeout=20 * ms)
            expect(page.locator("#feedback-list .fb")).to_have_count(1, timeout=120 * ms)
            expect(page.locator("#continue")).to_be_enabled(timeout=30 * ms)  # the feedback is under review
            page.locator("#continue").click()
            expect(page.locator("#progress")).to_contain_text("Question 2 of 2", timeout=30 * ms)
            second = page.locator("#question-text").inner_text()
            page.get_by_role("button", name="End interview").click()

            report = page.locator("#report")
            expect(report).to_be_visible(timeout=60 * ms)
            expect(report.locator(".ran")).to_have_text("Interviewer: offline rubric · grader: offline scorer")
            expect(report.locator(".early")).to_have_text(
                "The session ended early: you ended the interview; 1 question(s) not reached.")
            expect(report.locator(".not-reached li")).to_have_text([f"{second} (Deployment & monitoring)"])
            page.screenshot(path=str(tmp_path / "report-ended-early.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "report-ended-early.png", SCREENS / "report-ended-early.png")
