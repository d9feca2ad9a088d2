"""A candidate in real Chromium loses the server mid-interview and goes on, on another server.

Two real ``serve`` processes share one PostgreSQL and one audio folder behind a small
TCP proxy playing the load balancer: every connection goes to server A while A accepts
connections, else to server B (what HAProxy does when A fails its health check). The
fake microphone loops real speech followed by silence, so answers end by silence. After
the first answer is graded, A is SIGKILLed: the web client reconnects through the proxy,
finds its resume token unknown on B, and continues the session there once B has marked
it interrupted.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import UNIT_S
from tests.integration.chromium import launch
from tests.integration.test_server_protocol import short_clips, speech_pcm
from tests.serving import free_port, start_serves
from voice_interviewer.wav import write_wav

pytestmark = pytest.mark.slow

LEASE_S = 3.0


class FailoverProxy:
    """Forwards each TCP connection to the first of ``ports`` that accepts it, in a thread of its own."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for port in self.ports:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_the_web_client_continues_on_another_server_when_its_server_dies(tmp_path: Path, speech_clips,
                                                                        postgres_server) -> None:
    from playwright.sync_api import expect, sync_playwright

    wav = tmp_path / "mic.wav"
    write_wav(wav, speech_pcm(short_clips(speech_clips, 1), 16000, gap_s=0.0, tail_silence_s=4.5), 16000)
    url = postgres_server.new_database()
    shared = ("--audio-dir", str(tmp_path / "audio"), "--lease-seconds", str(LEASE_S))
    port_a, port_b = free_port(), free_port()
    server_a, server_b = start_serves((port_a, tmp_path / "a", url, *shared),
                                      (port_b, tmp_path / "b", url, *shared))
    proxy = None
    ms = 1000 * UNIT_S
    try:
        proxy = FailoverProxy([port_a, port_b])
        with sync_playwright() as p:
            browser = launch(p, mic_wav=wav)
            try:
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.goto(f"http://127.0.0.1:{proxy.port}/")
                expect(page.locator("#role option")).not_to_have_count(0, timeout=10 * ms)
                page.fill("#questions", "3")
                page.select_option("#follow-ups", "0")
                page.select_option("#timer", "60")
                page.select_option("#voice", "pyttsx3")
                page.get_by_role("button", name="Start the interview").click()
                expect(page.locator("#progress")).to_contain_text("Question 1 of 3", timeout=30 * ms)
                expect(page.locator("#feedback-list .fb")).to_have_count(1, timeout=120 * ms)
                expect(page.locator("#continue")).to_be_enabled(timeout=30 * ms)  # the feedback is under review
                page.locator("#continue").click()
                expect(page.locator("#progress")).to_contain_text("Question 2 of 3", timeout=30 * ms)
                session_id = re.search(r"Session ([0-9a-f]+)", page.locator("#connection").inner_text())[1]

                server_a.send_signal(signal.SIGKILL)
                assert server_a.wait(timeout=10 * UNIT_S) == -signal.SIGKILL
                # The next question not yet asked, on B, in the same session.
                expect(page.locator("#progress")).to_contain_text("Question 3 of 3", timeout=90 * ms)
                expect(page.locator("#connection")).to_contain_text(f"Session {session_id}")
                expect(page.locator("#feedback-list .fb")).to_have_count(2, timeout=120 * ms)
                # Review goes on on B: the last feedback is read before the report.
                expect(page.locator("#continue")).to_have_text("See the report Enter", timeout=30 * ms)
                page.locator("#continue").click()
                expect(page.locator("#report")).to_be_visible(timeout=60 * ms)
                assert not errors, errors
            finally:
                browser.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port_b}/api/sessions/{session_id}",
                                    timeout=20 * UNIT_S) as r:
            doc = json.loads(r.read())
        assert doc["status"] == "completed"
        assert [q["asked"] for q in doc["questions"]] == [True, True, True]
        assert doc["questions"][0]["feedback"] and doc["questions"][2]["feedback"]
        assert [q["id"] for q in doc["report"]["questions"]] == [q["id"] for q in doc["questions"]]
    finally:
        if proxy is not None:
            proxy.stop()
        for proc in (server_a, server_b):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30 * UNIT_S)
