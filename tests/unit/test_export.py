"""Exports of a stored session: valid HTML/JSON/Markdown, escaped candidate text, progress across sessions."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from voice_interviewer import export
from voice_interviewer.bank import parse_bank
from voice_interviewer.channels.base import Reply, ReplyAction, SessionInfo, Utterance, UtteranceKind
from voice_interviewer.errors import ConfigError
from voice_interviewer.report import QuestionResult, build_report
from voice_interviewer.scoring.feedback import Delivery, Feedback, KeyPointResult
from voice_interviewer.scoring.text import tokenize
from voice_interviewer.store import SessionStore
from voice_interviewer.transcript import Segment, Transcript, Word
from voice_interviewer.web_api import handle_api

BANK = parse_bank("""
role: export-role
title: Export <Role>
rounds:
  - {id: core, title: Core round}
questions:
  - id: explain-cache
    round: core
    text: "How would you design a cache for model predictions?"
    difficulty: medium
    answer_time_s: 90
    key_points:
      - {id: key, weight: 2, statement: Chooses a cache key, phrasings: [key]}
      - {id: ttl, weight: 1, statement: Sets an expiry, phrasings: [ttl, expiry]}
      - {id: invalidate, weight: 1, statement: Invalidates on model change, phrasings: [invalidate]}
    follow_ups:
      - {probes: ttl, text: "How long would entries live?"}
      - {probes: invalidate, text: "What happens when the model changes?"}
    strong_answer: Key on model version and input hash, set a TTL, invalidate when a new model ships.
""", "export.yaml")
HOSTILE = "um I would use a key <script>alert(1)</script> and uh a TTL & more"


def record(store: SessionStore, session_id: str, text: str, covered: tuple[bool, ...]) -> None:
    """Record one graded answer through the real recorder."""
    q = BANK.questions[0]
    rec = store.recorder()
    rec.session_started(SessionInfo(session_id, BANK.role, BANK.title, (q,)))
    rec.utterance(Utterance(q.text, UtteranceKind.QUESTION, q.id, "q1"))
    rec.interviewer_audio("q1", b"\0\1" * 8000, 16000)
    tokens = text.split()
    words = tuple(Word(t, i * 0.4, i * 0.4 + 0.3) for i, t in enumerate(tokens))
    segment = Segment(text, 0.0, words[-1].end_s, words)
    rec.candidate_audio("q1", b"\0\0" * 16000 * 5, 16000)
    rec.segment_committed("q1", segment)
    transcript = Transcript(text, words, (segment,), 5.0, 0.0)
    rec.answer(q, "q1", Reply(ReplyAction.ANSWERED, transcript, "done"))
    kps = tuple(KeyPointResult(k.id, k.statement, k.weight, c, 1.0 if c else 0.1)
                for k, c in zip(q.key_points, covered))
    content = sum(k.weight for k in kps if k.covered) / sum(k.weight for k in kps)
    fb = Feedback(q.id, content, round(content * 100, 1), kps,
                  Delivery(len(tokens), 5.0, 150.0, 2, 24.0, {"um": 1, "uh": 1}), ("Name the <expiry> policy.",))
    rec.feedback(q, fb)
    report = build_report(session_id, BANK, [QuestionResult(q, (transcript,), (), fb)])
    rec.session_finished(report, "completed")


@pytest.fixture()
def store(tmp_path: Path) -> SessionStore:
    s = SessionStore(tmp_path)
    record(s, "eeeeeeee00000001", "I would pick a key", (True, False, False))
    s.database.execute("UPDATE sessions SET started_at = started_at - 86400 WHERE id = 'eeeeeeee00000001'")
    record(s, "eeeeeeee00000002", HOSTILE, (True, True, False))
    return s


class Collect(HTMLParser):
    """Parses the document, tracking open tags so unbalanced markup and script elements are caught."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "line", "rect"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_escaped_and_complete(store: SessionStore) -> None:
    html = export.to_html(store.get("eeeeeeee00000002"))
    parser = Collect()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "src=" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    text = " ".join(parser.text)
    assert "Export <Role>" in text and "Core round" in text
    assert "What a strong answer covers:" in text and "invalidate when a new model ships" in text
    assert parser.tags.count("svg") == 3 and "Words per minute, per answer" in text
    assert "Score per question (0–100)" in text and "interviewer: offline rubric · grader: offline scorer" in text
    assert "Progress across sessions: 50 → 75 (improved, +25 since last time)" in text
    assert "Name the <expiry> policy." in text


def test_json_export_parses_and_carries_the_figures(store: SessionStore) -> None:
    data = json.loads(export.to_json(store.get("eeeeeeee00000002")))
    assert data["overall"] == 75.0 and data["rounds"][0]["average"] == 75.0
    assert data["progress"]["explain-cache"]["improved"] is True
    assert data["progress"]["explain-cache"]["scores"] == [50.0, 75.0]
    q1 = data["delivery_by_answer"]["q1"]
    # The scorer's own definitions: its tokenizer counts the words, its filler detector the fillers.
    assert q1["fillers"] == 2 and q1["word_count"] == len(tokenize(HOSTILE))
    candidate = [i for i in data["timeline"] if i["speaker"] == "candidate"][0]
    assert candidate["text"] == HOSTILE and candidate["audio"] == "q1.wav"


def test_markdown_export_has_headings_and_escapes_html(store: SessionStore) -> None:
    md = export.to_markdown(store.get("eeeeeeee00000002"))
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings[0] == "# Interview report: Export \\<Role>"  # a backslash escape, not an HTML entity
    assert "## Scores by round" in headings
    assert "## Question 1: How would you design a cache for model predictions?" in headings
    assert {"### Transcript", "### Key points", "### What a strong answer covers"} <= set(headings)
    assert "\\<script>alert(1)\\</script>" in md and "TTL & more" in md
    assert re.search(r"(?<!\\)<", md) is None  # every "<" is escaped: no tag reaches a Markdown viewer
    assert "- Interviewer: offline rubric" in md and "- Grader: offline scorer" in md
    assert "- **Covered**: Chooses a cache key" in md and "- **Missed**: Invalidates on model change" in md
    assert "Progress: 50 → 75 (improved, +25 since last time)" in md


def test_first_attempt_has_no_progress_line(store: SessionStore) -> None:
    doc = store.get("eeeeeeee00000001")
    assert export.progress(doc)["explain-cache"]["change"] is None
    assert "first attempt" in export.to_markdown(doc)


def test_unknown_format_is_a_clear_error(store: SessionStore) -> None:
    with pytest.raises(ConfigError, match="'pdf' is not supported; choose one of html, json, md"):
        export.render(store.get("eeeeeeee00000001"), "pdf")


def test_api_routes(store: SessionStore) -> None:
    listed = json.loads(handle_api("GET", "/api/sessions", {}, store).body)
    assert [s["id"] for s in listed["sessions"]] == ["eeeeeeee00000002", "eeeeeeee00000001"]
    one = handle_api("GET", "/api/sessions/eeeeeeee00000002", {}, store)
    assert one.status == 200 and json.loads(one.body)["timeline"][1]["text"] == HOSTILE
    audio = handle_api("GET", "/api/sessions/eeeeeeee00000002/audio/q1.wav", {}, store)
    assert audio.status == 200 and audio.content_type == "audio/wav" and audio.body[:4] == b"RIFF"
    assert len(audio.body) == 44 + 16000 * 5 * 2
    voice = handle_api("GET", "/api/sessions/eeeeeeee00000002/audio/u001.wav", {}, store)
    assert voice.status == 200 and len(voice.body) == 44 + 16000
    for fmt, ctype in (("html", "text/html"), ("json", "application/json"), ("md", "text/markdown")):
        r = handle_api("GET", f"/api/sessions/eeeeeeee00000002/report.{fmt}", {}, store)
        assert r.status == 200 and r.content_type.startswith(ctype)


@pytest.mark.parametrize("path", ["/api/sessions/..%2Fetc", "/api/sessions/../../etc/passwd",
                                  "/api/sessions/eeeeeeee00000002/audio/..%2F..%2Fsessions.db.wav",
                                  "/api/sessions/eeeeeeee00000002/audio/q9.wav",
                                  "/api/sessions/ffffffff00000000", "/api/sessions/eeeeeeee00000002/x",
                                  "/api/other", "/api/sessions/" + "a" * 5000])
def test_api_rejects_bad_paths(store: SessionStore, path: str) -> None:
    r = handle_api("GET", path, {}, store)
    assert r.status == 404
    assert "error" in json.loads(r.body)


def test_api_is_read_only_and_checks_limits(store: SessionStore) -> None:
    assert handle_api("DELETE", "/api/sessions/eeeeeeee00000002", {}, store).status == 405
    assert handle_api("GET", "/api/sessions", {"limit": ["x"]}, store).status == 400
    r = handle_api("GET", "/api/sessions", {"limit": ["1"]}, store)
    assert len(json.loads(r.body)["sessions"]) == 1
    assert store.get("eeeeeeee00000002")["status"] == "completed"


def _question(qid: str, round_id: str, text: str) -> str:
    return f"""
  - id: {qid}
    round: {round_id}
    text: "{text}"
    difficulty: easy
    answer_time_s: 60
    key_points:
      - {{id: a, weight: 1, statement: Names the first thing, phrasings: [first]}}
      - {{id: b, weight: 1, statement: Names the second thing, phrasings: [second]}}
      - {{id: c, weight: 1, statement: Names the third thing, phrasings: [third]}}
    follow_ups:
      - {{probes: b, text: "And the second?"}}
      - {{probes: c, text: "And the third?"}}
    strong_answer: Names all three things, each explained."""


TWO_ROUNDS = parse_bank("""
role: two-rounds
title: Two rounds
rounds:
  - {id: fundamentals, title: ML & coding fundamentals}
  - {id: deployment, title: Deployment & serving}
questions:""" + _question("cache", "fundamentals", "How would you cache predictions?")
                        + _question("rollout", "deployment", "How do you roll out a model?")
                        + _question("rollback", "deployment", "How do you roll back?"), "two.yaml")


@pytest.fixture()
def stopped_doc(tmp_path: Path) -> dict:
    """Three planned questions over two rounds: one answered, one asked and stopped unanswered, one never asked."""
    store = SessionStore(tmp_path)
    cache, rollout, _ = TWO_ROUNDS.questions
    rec = store.recorder()
    rec.session_started(SessionInfo("eeeeeeee00000003", TWO_ROUNDS.role, TWO_ROUNDS.title, TWO_ROUNDS.questions,
                                    round_titles={r.id: r.title for r in TWO_ROUNDS.rounds}))
    rec.utterance(Utterance(cache.text, UtteranceKind.QUESTION, cache.id, "q1"))
    answer = Transcript("I key on the model version", (Word("I", 0.0, 0.2),), duration_s=2.0)
    rec.answer(cache, "q1", Reply(ReplyAction.ANSWERED, answer, "done"))
    fb = Feedback(cache.id, 1.0, 90.0, tuple(KeyPointResult(k.id, k.statement, k.weight, True, 1.0)
                                             for k in cache.key_points), Delivery(6), ())
    rec.feedback(cache, fb)
    rec.utterance(Utterance(rollout.text, UtteranceKind.QUESTION, rollout.id, "q2"))
    rec.answer(rollout, "q2", Reply(ReplyAction.STOPPED, Transcript(""), "stop"))
    report = build_report("eeeeeeee00000003", TWO_ROUNDS, [QuestionResult(cache, (answer,), (), fb)],
                          planned=list(TWO_ROUNDS.questions), status="stopped", end_reason="stop")
    rec.session_finished(report, "stopped")
    doc = store.get("eeeeeeee00000003")
    store.close()
    return doc


def test_markdown_shows_titles_as_written(stopped_doc: dict) -> None:
    md = export.to_markdown(stopped_doc)
    assert "- ML & coding fundamentals: 90 (1 of 1 graded)" in md and "&amp;" not in md
    # The unanswered round by its title, never its id.
    assert "- Deployment & serving: — (0 of 2 graded, not reached)" in md and "deployment" not in md


def test_reports_say_the_session_ended_early_and_list_what_was_not_reached(stopped_doc: dict) -> None:
    # The second question was asked but the session ended before an answer: not reached, as the live report says.
    said = "The session ended early: you ended the interview; 2 question(s) not reached."
    md = export.to_markdown(stopped_doc)
    assert f"**{said}**" in md
    assert md.rstrip().endswith("## Not reached\n\n- How do you roll out a model? (Deployment & serving)\n"
                                "- How do you roll back? (Deployment & serving)")
    assert "## Question 2" not in md
    parser = Collect()
    parser.feed(export.to_html(stopped_doc))
    text = " ".join(parser.text)
    assert said in text and "Not reached" in text and "How do you roll back?" in text
    assert "Deployment & serving" in text and "deployment" not in text.replace("Deployment", "")
    data = json.loads(export.to_json(stopped_doc))
    assert data["ended_early"] == said and data["not_reached"] == ["rollout", "rollback"]
    assert data["ran"] == {"interviewer": "offline rubric", "grader": "offline scorer"}
    assert [(r["title"], r["questions"], r["reached"], r["answered"]) for r in data["rounds"]] == [
        ("ML & coding fundamentals", 1, 1, 1), ("Deployment & serving", 2, 0, 0)]


def test_html_charts_scores_per_question_with_readable_labels(stopped_doc: dict) -> None:
    html = export.to_html(stopped_doc)
    charts = html[html.index('<div class="charts">'):]
    assert charts.startswith('<div class="charts"><svg') and 'aria-label="Score per question (0–100)"' in charts
    score_chart = charts[:charts.index("</svg>")]
    assert ">90</text>" in score_chart and ">Q1</text>" in score_chart and ">Q2</text>" not in score_chart
    skipped = export.bar_chart("Score per question (0–100)", ["Q1", "Q2"], [90.0, None], "points", top=100.0)
    assert skipped.count("<rect") == 1 and ">—</text>" in skipped  # not graded: a dash, not a zero bar
    assert "svg text{font:14px" in html
    assert export.answer_label("q2f1") == "Q2 f1"
