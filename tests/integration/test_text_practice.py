"""A full text-mode interview through a real subprocess: typed answers, follow-up, skip, report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import UNIT_S

pytestmark = pytest.mark.slow

DRIFT_ANSWER = (
    "Um, so data drift means the inputs the model sees in production no longer look like the training data, "
    "and concept drift means the relationship to the label changed."
)


def _practice(tmp_path, stdin: str, *args: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "voice_interviewer", "practice", "--text", "--report", str(report),
         "--data-dir", str(tmp_path / "data"), *args],
        input=stdin, capture_output=True, text=True, timeout=180 * UNIT_S,
    )
    return proc, (json.loads(report.read_text()) if report.exists() else None)


def test_full_text_interview_with_follow_up_feedback_and_report(tmp_path, store_url):
    stdin = (
        f"{DRIFT_ANSWER}\n\n"
        "I would compare feature distributions against the training baseline.\n\n"
        "skip\n"
    )
    store_args = ["--store", store_url] if store_url else []
    proc, report = _practice(tmp_path, stdin, "--question-id", "model-and-data-drift",
                             "--question-id", "feature-store", "--follow-ups", "1", *store_args)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Explain model drift and data drift, and how you would detect and respond to them." in out
    assert "Follow-up:" in out
    assert out.index("Follow-up:") < out.index("Feedback — score")
    assert "What is a feature store, and what problem does it solve?" in out
    assert "Session report" in out
    assert report is not None
    drift, store = report["questions"]
    assert drift["id"] == "model-and-data-drift" and drift["score"] is not None
    assert len(drift["answers"]) == 2 and len(drift["follow_ups"]) == 1
    assert store["skipped"] is True and store["score"] is None
    assert report["top_tips"]
    listing = subprocess.run([sys.executable, "-m", "voice_interviewer", "sessions", "list",
                              "--data-dir", str(tmp_path / "data"), *store_args], capture_output=True, text=True,
                             timeout=60 * UNIT_S)
    assert listing.returncode == 0, listing.stderr
    assert report["session_id"] in listing.stdout  # typed sessions are stored for progress tracking


def test_reveal_shows_what_a_strong_answer_covers(tmp_path):
    proc, report = _practice(tmp_path, "reveal\n", "--question-id", "feature-store")
    assert proc.returncode == 0, proc.stderr
    assert "What a strong answer covers:" in proc.stdout
    assert report["questions"][0]["revealed"] is True
    assert report["questions"][0]["score"] is None  # nothing said: nothing graded, no zero in the report
    assert report["overall"] is None


def test_end_of_input_stops_cleanly(tmp_path):
    proc, report = _practice(tmp_path, "", "--questions", "2")
    assert proc.returncode == 0, proc.stderr
    assert "Session ended before the first answer." in proc.stdout
    assert report is None


def test_bad_settings_give_a_clear_error(tmp_path):
    proc, _ = _practice(tmp_path, "", "--rounds", "nonsense")
    assert proc.returncode == 2
    assert "no round 'nonsense'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_rejected_value_is_named_by_the_flag_that_was_typed(tmp_path):
    proc, _ = _practice(tmp_path, "", "--timer", "5")
    assert proc.returncode == 2
    assert "--timer must be 10..1800 seconds, got 5" in proc.stderr and "timer_s" not in proc.stderr
    proc, _ = _practice(tmp_path, "", "--follow-ups", "9")
    assert proc.returncode == 2 and "--follow-ups must be 0..5, got 9" in proc.stderr


def test_report_says_the_session_ended_early_and_what_was_not_reached(tmp_path):
    stdin = f"{DRIFT_ANSWER}\n\nstop\n"
    proc, report = _practice(tmp_path, stdin, "--question-id", "model-and-data-drift", "--question-id",
                             "feature-store", "--question-id", "mlops-vs-devops", "--follow-ups", "0")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout[proc.stdout.index("Session report"):]
    assert "Interviewer: offline rubric · grader: offline scorer" in out
    assert "The session ended early: you ended the interview; 2 question(s) not reached." in out
    assert "[not reached] What is MLOps, and how does it differ from traditional DevOps? (ML & coding " \
           "fundamentals)" in out
    assert [q["id"] for q in report["not_reached"]] == ["feature-store", "mlops-vs-devops"]
    assert (report["status"], report["end_reason"], report["grader"]) == ("stopped", "stop", "offline")
def test_typed_review_retries_a_question_compares_the_attempts_and_stores_both(tmp_path, store_url):
    from voice_interviewer.store import SessionStore

    vague = "Drift is when the model gets worse."
    stdin = f"{vague}\n\nwhat?\n/retry\n{DRIFT_ANSWER}\n\n\n"
    store_args = ["--store", store_url] if store_url else []
    proc, report = _practice(tmp_path, stdin, "--question-id", "model-and-data-drift", "--follow-ups", "0",
                             "--review", *store_args)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Enter = see the report · /retry = try this question again · stop = end" in out
    assert "type /retry to answer this one again" in out  # "what?" is neither choice: said so, asked again
    assert out.count("Interviewer: Explain model drift and data drift") == 2
    first, second = out.index("Feedback — score"), out.rindex("Feedback — score")
    assert first < out.index("Attempt 2 — score") < second
    assert "since attempt 1" in out and "Gained: " in out
    assert out.index("Session report") > second

    question = report["questions"][0]
    assert len(question["attempts"]) == 2 and question["score"] == question["attempts"][1]
    with SessionStore(tmp_path / "data", url=store_url) as store:
        doc = store.get(report["session_id"])
    attempts = doc["questions"][0]["attempts"]
    assert [(a["attempt"], a["turn_id"]) for a in attempts] == [(1, "q1"), (2, "q1r2")]
    assert [a["overall"] for a in attempts] == question["attempts"]
    assert doc["questions"][0]["feedback"]["overall"] == question["score"]  # the attempt that counts
    answers = {i["turn_id"]: i["text"] for i in doc["timeline"] if i["speaker"] == "candidate"}
    assert answers == {"q1": vague, "q1r2": DRIFT_ANSWER}
    assert doc["settings"]["review"] is True


def test_piped_answers_are_not_held_for_review(tmp_path):
    proc, report = _practice(tmp_path, "Feature stores keep features.\n\n", "--question-id", "feature-store",
                             "--follow-ups", "0")
    assert proc.returncode == 0, proc.stderr
    assert "/retry" not in proc.stdout and report["questions"][0]["score"] is not None
