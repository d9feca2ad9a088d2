"""The playback page in real headless Chromium against a stored session with real voices.

The interviewer's voice is real espeak-ng speech and the candidate's answers are real
recordings; the page is served with the sessions API by a small HTTP server on port 0.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from tests.conftest import UNIT_S
from voice_interviewer.bank import parse_bank
from voice_interviewer.channels.base import Reply, ReplyAction, SessionInfo, Utterance, UtteranceKind
from voice_interviewer.scoring.feedback import Delivery, Feedback, KeyPointResult
from voice_interviewer.store import SessionStore
from voice_interviewer.transcript import Segment, Transcript, Word

pytestmark = pytest.mark.slow

SCREENS = Path("/tmp/vi-screens")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
BANK = parse_bank("""
role: replay-role
title: Replay Engineer
rounds:
  - {id: people, title: People}
questions:
  - id: character
    round: people
    text: "How would you describe the young man?"
    difficulty: easy
    answer_time_s: 60
    key_points:
      - {id: disposition, weight: 2, statement: Describes his disposition, phrasings: [disposed]}
      - {id: selfish, weight: 1, statement: Calls out selfishness, phrasings: [selfish]}
      - {id: cold, weight: 1, statement: Mentions coldness, phrasings: [cold]}
    follow_ups:
      - {probes: selfish, text: "Was he selfish, though?"}
      - {probes: cold, text: "Was he cold hearted?"}
    strong_answer: Not ill disposed, but cold hearted and selfish, which amounts to the same.
  - id: change
    round: people
    text: "What could have changed him for the better?"
    difficulty: easy
    answer_time_s: 60
    key_points:
      - {id: amiable, weight: 1, statement: Says he could be amiable, phrasings: [amiable]}
      - {id: marriage, weight: 1, statement: Mentions marriage, phrasings: [married]}
      - {id: respect, weight: 1, statement: Mentions respectability, phrasings: [respectable]}
    follow_ups:
      - {probes: marriage, text: "Whom should he have married?"}
      - {probes: respect, text: "Would he be more respected?"}
    strong_answer: A more amiable wife would have made him respectable, perhaps amiable himself.
""", "replay.yaml")
SCRIPT = [  # (question index, turn id, clip stem, covered key points)
    (0, "q1", "sense_and_sensibility_01_austen_64kb-0880", (True, False, False)),
    (0, "q1f1", "sense_and_sensibility_01_austen_64kb-0890", (True, True, True)),
    (1, "q2", "sense_and_sensibility_01_austen_64kb-0930", (True, False, False)),
]


def speak(text: str, tmp: Path) -> tuple[bytes, int]:
    """Real interviewer speech from espeak-ng."""
    out = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-s", "190", "-w", str(out), text], check=True, capture_output=True)
    with wave.open(str(out), "rb") as w:
        return w.readframes(w.getnframes()), w.getframerate()


def record_session(store: SessionStore, speech_dir: Path, tmp: Path, session_id: str) -> None:
    rec = store.recorder()
    rec.session_started(SessionInfo(session_id, BANK.role, BANK.title, BANK.questions))
    folder = speech_dir / "pocketsphinx_librivox"
    graded: dict[int, tuple[bool, ...]] = {}
    for qi, turn, stem, covered in SCRIPT:
        q = BANK.questions[qi]
        said = q.text if "f" not in turn else q.follow_ups[0].text
        kind = UtteranceKind.FOLLOW_UP if "f" in turn else UtteranceKind.QUESTION
        rec.utterance(Utterance(said, kind, q.id, turn))
        rec.interviewer_audio(turn, *speak(said, tmp))
        with wave.open(str(folder / f"{stem}.wav"), "rb") as w:
            pcm, rate = w.readframes(w.getnframes()), w.getframerate()
        for start in range(0, len(pcm), 640):
            rec.candidate_audio(turn, pcm[start:start + 640], rate)
        text = (folder / f"{stem}.txt").read_text().strip()
        tokens, duration = text.split(), len(pcm) / 2 / rate
        words = tuple(Word(t, round(duration * i / len(tokens), 3), round(duration * (i + 0.8) / len(tokens), 3))
                      for i, t in enumerate(tokens))
        segment = Segment(text, 0.0, duration, words)
        rec.segment_committed(turn, segment)
        rec.answer(q, turn, Reply(ReplyAction.ANSWERED, Transcript(text, words, (segment,), duration, 0.0), "done"))
        graded[qi] = covered
    for qi, covered in graded.items():
        q = BANK.questions[qi]
        kps = tuple(KeyPointResult(k.id, k.statement, k.weight, c, 1.0 if c else 0.0)
                    for k, c in zip(q.key_points, covered))
        content = sum(k.weight for k in kps if k.covered) / sum(k.weight for k in kps)
        rec.feedback(q, Feedback(q.id, content, round(100 * content, 1), kps, Delivery(12),
                                 ("Give one concrete example.",)))
    rec.session_finished(None, "completed")


@pytest.fixture()
def served(tmp_path: Path, speech_dir: Path):
    """The real server (static pages + sessions API) over a store holding one recorded session."""
    from tests.integration.test_server_protocol import ServerThread
    from voice_interviewer.server import ServerOptions

    store = SessionStore(tmp_path / "data")
    record_session(store, speech_dir, tmp_path, "abcdef0123456789")
    server = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3"), store=store)
    yield f"http://127.0.0.1:{server.port}", store
    server.stop()
    store.close()


RECORD_HIGHLIGHTS = """() => {
  window.__seen = [];
  window.__turns = [];
  setInterval(() => {
    const cur = document.querySelector('.turn.current');
    if (cur && window.__turns[window.__turns.length - 1] !== cur.dataset.name) window.__turns.push(cur.dataset.name);
    const a = document.querySelector('.w.active');
    if (!a) return;
    const turn = a.closest('.turn');
    const key = turn.dataset.name + ':' + Array.from(turn.querySelectorAll('.w')).indexOf(a);
    if (window.__seen[window.__seen.length - 1] !== key) window.__seen.push(key);
  }, 25);
}"""


def test_playback_page_replays_both_voices_with_words_in_sync(served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, store = served
    doc = store.get("abcdef0123456789")
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        # The server's Content-Security-Policy forbids eval; the test's own probes are evaluated
        # strings, so only the test's page bypasses it.
        page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/playback.html?session=abcdef0123456789")
        page.wait_for_selector(".question", timeout=10_000 * UNIT_S)
        assert page.locator("#session-list button").count() == 1
        assert page.locator(".question").count() == 2
        feedback = page.locator(".question").first.locator(".feedback")
        assert feedback.locator(".score").inner_text() == "100 / 100"
        assert feedback.locator(".kp.covered").count() == 3
        assert "Give one concrete example." in feedback.inner_text()
        assert page.locator(".question").nth(1).locator(".kp.missed").count() == 2

        page.evaluate(RECORD_HIGHLIGHTS)
        page.select_option("#speed", "2")  # timings follow the audio clock at any speed; halves the test
        page.click("#play")
        page.wait_for_selector('.turn[data-name="q1f1"] .w.active', timeout=30_000 * UNIT_S)
        page.screenshot(path=str(tmp_path / "playback-playing.png"), full_page=True)
        page.wait_for_function("document.body.dataset.playback === 'ended'", timeout=60_000 * UNIT_S)
        seen = page.evaluate("window.__seen")
        turns = page.evaluate("window.__turns")
        page.screenshot(path=str(tmp_path / "playback-ended.png"), full_page=True)

        # Both voices, in the recorded order.
        assert turns == [i["name"] for i in doc["timeline"]]
        # Each answer's words light up in order, and most of them are seen lit.
        for item in (i for i in doc["timeline"] if i["speaker"] == "candidate"):
            lit = [int(k.split(":")[1]) for k in seen if k.split(":")[0] == item["name"]]
            assert lit == sorted(lit), (item["name"], lit)
            assert len(set(lit)) >= 0.6 * len(item["words"]), (item["name"], lit, len(item["words"]))
        # Jump to question 2: playback restarts at its interviewer turn.
        page.evaluate("window.__turns = []")
        page.click('.jump button[data-question="change"]')
        page.wait_for_selector('.turn[data-name="q2"] .w.active', timeout=20_000 * UNIT_S)
        jumped = page.evaluate("window.__turns")
        assert jumped[jumped.index("u003"):][:2] == ["u003", "q2"] and "q1" not in jumped
        page.click("#stop")

        # An id that is not a session id: a clear message, nothing shown.
        page.goto(f"{base}/playback.html?session=..%2Fetc")
        page.wait_for_function("document.getElementById('status').textContent.includes('not a session id')",
                               timeout=10_000 * UNIT_S)
        assert page.locator("#session").is_hidden()
        assert errors == []
        browser.close()
    for shot in ("playback-playing.png", "playback-ended.png"):
        shutil.copy(tmp_path / shot, SCREENS / shot)


def test_an_answer_ended_by_stop_is_marked_cut_short(tmp_path: Path, speech_dir: Path) -> None:
    """The candidate pressed End interview mid-answer: playback says so instead of "Your answer"."""
    from playwright.sync_api import expect, sync_playwright

    from tests.integration.test_server_protocol import ServerThread
    from voice_interviewer.server import ServerOptions

    store = SessionStore(tmp_path / "data")
    q = BANK.questions[0]
    rec = store.recorder()
    rec.session_started(SessionInfo("abcdef0123456780", BANK.role, BANK.title, (q,)))
    rec.utterance(Utterance(q.text, UtteranceKind.QUESTION, q.id, "q1"))
    rec.interviewer_audio("q1", *speak(q.text, tmp_path))
    stem = speech_dir / "pocketsphinx_librivox" / SCRIPT[0][2]
    with wave.open(str(stem.with_suffix(".wav")), "rb") as w:
        pcm, rate = w.readframes(w.getnframes()), w.getframerate()
    rec.candidate_audio("q1", pcm, rate)
    text = stem.with_suffix(".txt").read_text().strip()
    rec.answer(q, "q1", Reply(ReplyAction.STOPPED, Transcript(text, duration_s=len(pcm) / 2 / rate), "stop"))
    rec.session_finished(None, "stopped")
    server = ServerThread(ServerOptions(port=0, voice_engine="pyttsx3"), store=store)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"http://127.0.0.1:{server.port}/playback.html?session=abcdef0123456780")
            turn = page.locator('.turn[data-name="q1"]')
            expect(turn.locator(".cut-short")).to_have_text("(cut short: you ended the interview)",
                                                            timeout=10_000 * UNIT_S)
            page.select_option("#speed", "2")
            page.click("#play")
            expect(turn).to_have_class("turn candidate current", timeout=30_000 * UNIT_S)
            expect(page.locator("#now-playing")).to_have_text("Your answer — cut short: you ended the interview")
            page.screenshot(path=str(tmp_path / "playback-cut-short.png"))
            page.click("#stop")
            browser.close()
    finally:
        server.stop()
        store.close()
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "playback-cut-short.png", SCREENS / "playback-cut-short.png")
