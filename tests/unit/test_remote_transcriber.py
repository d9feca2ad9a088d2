"""The transcription client on its own: options, reading replies, and real faults on loopback sockets."""

from __future__ import annotations

import http.server
import json
import threading
import time

import numpy as np
import pytest

from tests.serving import free_port
from voice_interviewer.errors import ConfigError
from voice_interviewer.speech.remote import RemoteOptions, RemoteTranscriber, words_of

SECOND = np.zeros(16000, dtype=np.float32)


@pytest.mark.parametrize("url", ["speech:8000/v1", "ftp://speech/v1", "http:///v1"])
def test_a_bad_url_says_what_is_expected(url: str) -> None:
    with pytest.raises(ConfigError, match="http://HOST:PORT/v1"):
        RemoteOptions(url).validate()


def test_options_come_from_the_flag_else_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICE_INTERVIEWER_TRANSCRIPTION_URL", raising=False)
    assert RemoteOptions.from_env(None) is None
    monkeypatch.setenv("VOICE_INTERVIEWER_TRANSCRIPTION_URL", "http://speech:8000/v1/")
    monkeypatch.setenv("VOICE_INTERVIEWER_TRANSCRIPTION_API_KEY", "secret")
    options = RemoteOptions.from_env(None, timeout_s=None)
    assert options is not None and (options.url, options.api_key, options.timeout_s) == (
        "http://speech:8000/v1", "secret", 1.0)
    assert RemoteOptions.from_env("http://other:9/v1").url == "http://other:9/v1"


def test_replies_give_timed_words_with_or_without_word_timings() -> None:
    with_words = {"text": "a b", "words": [{"word": " kubernetes", "start": 0.1, "end": 0.6},
                                            {"word": "pods", "start": 0.7, "end": 1.0}]}
    assert [(w.text, w.start_s, w.end_s) for w in words_of(with_words, 2.0)] == [
        ("kubernetes", 0.1, 0.6), ("pods", 0.7, 1.0)]
    segments = {"text": "x", "segments": [{"start": 1.0, "end": 2.0, "text": " canary release"}]}
    assert [(w.text, w.start_s, w.end_s) for w in words_of(segments, 3.0)] == [
        ("canary", 1.0, 1.5), ("release", 1.5, 2.0)]
    assert [w.text for w in words_of({"text": " shadow traffic"}, 1.0)] == ["shadow", "traffic"]


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": {"message": "model is loading"}}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_http_error_falls_back_and_pauses_the_server() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        remote = RemoteTranscriber(RemoteOptions(f"http://127.0.0.1:{server.server_port}/v1", retry_after_s=60))
        assert remote.transcribe(SECOND) is None
        assert remote.counts.failed == 1 and "503" in remote.counts.last_error, remote.counts
        assert remote.transcribe(SECOND) is None and remote.counts.skipped == 1 and remote.counts.requests == 1
    finally:
        server.shutdown()


def test_a_closed_port_fails_at_once_and_probe_says_why() -> None:
    remote = RemoteTranscriber(RemoteOptions(f"http://127.0.0.1:{free_port()}/v1", timeout_s=5.0))
    t0 = time.monotonic()
    problem = remote.probe()
    assert time.monotonic() - t0 < 2.0
    assert problem is not None and "Connection" in problem and not remote.available
