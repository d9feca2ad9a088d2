"""The wire format: every message round-trips, every bad input names the problem and the fix."""

from __future__ import annotations

import json

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from voice_interviewer import protocol as p
from voice_interviewer.channels.websocket import TurnLatency
from voice_interviewer.errors import ConfigError, ProtocolError
from voice_interviewer.http_checks import host_ok, origin_ok, token_ok
from voice_interviewer.server_options import ServerOptions, is_loopback_host


def start(**over):
    d = {"type": "start", "role": "mlops-engineer", "sample_rate": 48000}
    d.update(over)
    return json.dumps(d)


def rejected(text) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        p.parse_client_message(text)
    return info.value


def test_start_round_trip_with_all_fields():
    msg = p.Start(role="mlops-engineer", sample_rate=44100, rounds=("ml-systems", "behavioural"), questions=3,
                  timer_s=90.0, interviewer="llm", voice_engine="pyttsx3", order="mixed", follow_ups=2, review=True)
    assert p.parse_client_message(p.encode_client(msg)) == msg


def test_start_defaults_and_comma_separated_rounds():
    msg = p.parse_client_message(start(rounds="a, b"))
    assert msg == p.Start(role="mlops-engineer", sample_rate=48000, rounds=("a", "b"))
    assert msg.voice_engine is None and msg.timer_s is None and msg.follow_ups == 1
    assert msg.review is False  # a client that does not ask for review keeps the uninterrupted flow


@pytest.mark.parametrize("kind", p.COMMANDS)
def test_commands_round_trip(kind):
    assert p.parse_client_message(p.encode_client(p.Command(kind))) == p.Command(kind)


def test_start_question_ids_list_or_comma_separated_once_each():
    msg = p.parse_client_message(start(question_ids="feature-store, model-and-data-drift,feature-store"))
    assert msg.question_ids == ("feature-store", "model-and-data-drift")
    assert p.parse_client_message(p.encode_client(msg)) == msg
    for bad in (["Feature Store"], [1], ["a"] * 101, {"id": "x"}):
        with pytest.raises(ProtocolError, match=r"start\.question_ids: got .* expected a list of up to 100"):
            p.parse_client_message(start(question_ids=bad))


def test_delete_session_round_trip_and_bad_id():
    msg = p.DeleteSession("0123456789abcdef")
    assert p.parse_client_message(p.encode_client(msg)) == msg
    for bad in (None, 7, "", "x" * 65):
        with pytest.raises(ProtocolError, match=r"delete_session\.id: .* a session id from GET /api/sessions"):
            p.parse_client_message(json.dumps({"type": "delete_session", "id": bad}))
def test_continue_session_needs_no_role():
    msg = p.parse_client_message('{"type": "start", "continue_session": "5e55105ca11ed001", "sample_rate": 16000}')
    assert isinstance(msg, p.Start) and (msg.continue_session, msg.role) == ("5e55105ca11ed001", "")
    assert p.parse_client_message(p.encode_client(msg)) == msg


def test_resume_session_round_trip():
    msg = p.ResumeSession("a" * 32)
    assert p.parse_client_message(p.encode_client(msg)) == msg


@pytest.mark.parametrize("text, code, words", [
    ("{not json", p.BAD_JSON, ["not valid JSON", "end_answer"]),
    (b"\xff\xfe", p.BAD_JSON, ["not valid JSON"]),
    ("[1, 2]", p.BAD_MESSAGE, ["list", "JSON object"]),
    ('{"kind": "start"}', p.BAD_MESSAGE, ["type", "start, end_answer"]),
    ('{"type": "dance"}', p.UNKNOWN_TYPE, ["'dance'", "resume_session"]),
    (start(sample_rate=4000), p.BAD_SAMPLE_RATE, ["4000", "8000 to 48000"]),
    (start(sample_rate=96000), p.BAD_SAMPLE_RATE, ["96000"]),
    (start(sample_rate="16000"), p.BAD_SAMPLE_RATE, ['"16000"', "integer"]),
    (start(sample_rate=True), p.BAD_SAMPLE_RATE, ["true"]),
    (start(sample_rate=None), p.BAD_SAMPLE_RATE, ["null"]),
    (start(role="../etc"), p.BAD_FIELD, ["start.role", "../etc", "/api/banks"]),
    (start(role=7), p.BAD_FIELD, ["start.role"]),
    (start(rounds=[1]), p.BAD_FIELD, ["start.rounds", "list of round ids"]),
    (start(questions=0), p.BAD_FIELD, ["start.questions", "1 to 100"]),
    (start(questions=2.5), p.BAD_FIELD, ["start.questions", "2.5"]),
    (start(timer_s=5), p.BAD_FIELD, ["start.timer_s", "10 to 1800"]),
    (start(timer_s="long"), p.BAD_FIELD, ["start.timer_s"]),
    (start(interviewer="gpt"), p.BAD_FIELD, ["start.interviewer", "'rubric'", "'llm'"]),
    (start(voice_engine="say"), p.BAD_FIELD, ["start.voice_engine", "'piper'", "or null"]),
    (start(order="random"), p.BAD_FIELD, ["start.order", "'by-round'"]),
    (start(follow_ups=9), p.BAD_FIELD, ["start.follow_ups", "0 to 5"]),
    (start(review="yes"), p.BAD_FIELD, ["start.review", '"yes"', "true or false"]),
    (start(review=1), p.BAD_FIELD, ["start.review", "true or false"]),
    (start(continue_session="../x"), p.BAD_FIELD, ["start.continue_session", "interrupted session", "hex"]),
    (start(continue_session=12), p.BAD_FIELD, ["start.continue_session"]),
    ('{"type": "start", "sample_rate": 16000}', p.BAD_FIELD, ["start.role"]),
    ('{"type": "resume_session"}', p.BAD_FIELD, ["resume_session.resume_token", "null"]),
    ('{"type": "resume_session", "resume_token": "x"}', p.BAD_FIELD, ["resume_token"]),
])
def test_bad_client_messages(text, code, words):
    err = rejected(text)
    assert err.code == code
    for w in words:
        assert w in str(err), (w, str(err))


def test_audio_frame_checks():
    p.check_audio_frame(b"\x00\x01" * 800, 96_000)
    with pytest.raises(ProtocolError) as big:
        p.check_audio_frame(b"\x00" * 96_002, 96_000)
    assert big.value.code == p.FRAME_TOO_LARGE and "96002" in str(big.value) and "96000" in str(big.value)
    for bad in (b"", b"\x00\x01\x02"):
        with pytest.raises(ProtocolError) as odd:
            p.check_audio_frame(bad, 96_000)
        assert odd.value.code == p.BAD_FRAME and "PCM16" in str(odd.value)


FEEDBACK = {"question_id": "q-drift", "content_score": 0.5, "overall": 61.0, "tips": ["Name a metric."],
            "key_points": [{"key_point_id": "k1", "covered": True, "evidence": {"quote": "we retrain"}}],
            "delivery": {"word_count": 120, "words_per_minute": 140.0}, "score": 0.61}

SERVER_MESSAGES = [
    p.SessionMsg("abc123", "t" * 32, [{"id": "q1", "text": "Why?"}], "rubric", "piper", "mlops-engineer",
                 "MLOps Engineer", 22050),
    p.QuestionMsg("q1", "How do you detect drift?", "ml-systems", 120.0, 1, 3),
    p.SayMsg("How do you detect drift?", "question", 22050, 4410, turn_id="q1",
             latency_ms={"finish": 80.0, "decide": 5.0, "synth": 40.0, "total": 125.0}),
    p.ListeningMsg("q1f1", 60.0, True, False),
    p.PartialMsg("we monitor the", "q1"),
    p.PartialMsg("we monitor the inputs", "q1", 3.52),
    p.FinalMsg("we monitor the inputs", [{"text": "we", "start_s": 0.1, "end_s": 0.2, "probability": 0.9}],
               "q1", "silence"),
    p.FeedbackMsg("q-drift", {k: v for k, v in FEEDBACK.items() if k != "question_id"}),
    p.RevealMsg("q-drift", "A strong answer covers monitoring."),
    p.ReviewingMsg("q-drift", 2, True),
    p.FeedbackMsg("q-drift", {k: v for k, v in FEEDBACK.items() if k != "question_id"}, 2,
                  {"attempt": 2, "previous_attempt": 1, "score_change": 12.0, "gained": [], "lost": []}),
    p.StateMsg("thinking"),
    p.ReportMsg({"session_id": "abc123", "overall": 61.0, "questions": []}, "stopped"),
    p.ErrorMsg(p.WRONG_STATE, "'skip' arrived while no answer is being recorded"),
    p.DeletedMsg("0123456789abcdef"),
]


@pytest.mark.parametrize("msg", SERVER_MESSAGES, ids=lambda m: m.type)
def test_server_messages_round_trip(msg):
    text = p.encode_server(msg)
    assert json.loads(text)["type"] == msg.type
    assert p.decode_server(text) == msg


def test_feedback_message_is_flat_feedback_plus_question_id():
    d = json.loads(p.encode_server(next(m for m in SERVER_MESSAGES if m.type == "feedback")))
    assert d["question_id"] == "q-drift" and d["overall"] == 61.0 and d["key_points"][0]["evidence"]


def test_feedback_carries_attempt_and_comparison_only_in_review_sessions():
    plain = json.loads(p.encode_server(p.FeedbackMsg("q-drift", dict(FEEDBACK))))
    assert "attempt" not in plain and "comparison" not in plain
    first = json.loads(p.encode_server(p.FeedbackMsg("q-drift", dict(FEEDBACK), 1)))
    assert first["attempt"] == 1 and "comparison" not in first


@pytest.mark.parametrize("kind", ["next", "retry"])
def test_review_choices_are_commands(kind):
    assert p.parse_client_message(json.dumps({"type": kind})) == p.Command(kind)


def test_error_frame_carries_code_and_message():
    d = json.loads(p.error(ProtocolError(p.BAD_FRAME, "odd bytes")))
    assert d == {"type": "error", "code": "bad_frame", "message": "odd bytes"}


def test_unknown_server_type_is_rejected():
    with pytest.raises(ProtocolError):
        p.decode_server('{"type": "nope"}')


def test_turn_latency_stages_from_injected_clock():
    now = [100.0]
    lat = TurnLatency(lambda: now[0])
    assert lat.first_audio() is None  # nothing ended yet: the greeting has no latency
    lat.answer_ended("done")
    now[0] = 100.25
    lat.transcribed()
    now[0] = 100.30
    lat.thinking()
    now[0] = 100.40
    lat.speaking()
    now[0] = 100.45
    assert lat.first_audio() == {"finish": 250.0, "decide": 150.0, "synth": 50.0, "total": 450.0}
    assert lat.first_audio() is None  # reported once per turn


def request(path: str = "/ws", **headers: str) -> Request:
    return Request(path, Headers({"Host": "127.0.0.1:8765", **{k.replace("_", "-"): v for k, v in headers.items()}}))


def test_origin_must_be_the_servers_own_page():
    assert origin_ok(request())  # scripts send no Origin
    assert origin_ok(request(Origin="http://127.0.0.1:8765"))
    for foreign in ("http://evil.example", "http://127.0.0.1:9999", "null", "file://", "http://127.0.0.1:8765.evil"):
        assert not origin_ok(request(Origin=foreign)), foreign


def test_token_checks():
    opts = ServerOptions(token="s" * 24)
    assert token_ok(opts, request(f"/ws?token={'s' * 24}"))
    assert token_ok(opts, request("/api/banks", Authorization=f"Bearer {'s' * 24}"))
    assert not token_ok(opts, request("/ws"))
    assert not token_ok(opts, request("/ws?token=wrong"))
    assert token_ok(ServerOptions(), request("/ws"))


def test_non_loopback_bind_gets_a_token_and_limits_are_checked():
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1") and is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0") and not is_loopback_host("192.168.1.4") and not is_loopback_host("")
    assert ServerOptions().validate().token is None
    generated = ServerOptions(host="0.0.0.0").validate().token
    assert generated and len(generated) >= 16
    with pytest.raises(ConfigError, match="at least 16"):
        ServerOptions(token="short").validate()
    with pytest.raises(ConfigError, match="max_frame_bytes"):
        ServerOptions(max_frame_bytes=300_000).validate()
    with pytest.raises(ConfigError, match="port"):
        ServerOptions(port=70000).validate()
    assert ServerOptions().max_sessions is None  # measured at start-up unless configured
    with pytest.raises(ConfigError, match="max_sessions must be ≥ 1"):
        ServerOptions(max_sessions=0).validate()


def test_loopback_server_only_answers_to_its_own_host_names():
    opts = ServerOptions()
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"):
        assert host_ok(opts, Request("/", Headers({"Host": host}))), host
    assert not host_ok(opts, Request("/", Headers({"Host": "attacker.example:8765"})))
    assert host_ok(ServerOptions(host="0.0.0.0"), Request("/", Headers({"Host": "myhost.lan:8765"})))
