"""Progress across sessions from a real SQLite store: score over time, key points most often missed,
the weakest questions, and the API route that serves them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_export import TWO_ROUNDS
from voice_interviewer.channels.base import Reply, ReplyAction, SessionInfo, Utterance, UtteranceKind
from voice_interviewer.scoring.feedback import Delivery, Feedback, KeyPointResult
from voice_interviewer.store import SessionStore
from voice_interviewer.transcript import Transcript
from voice_interviewer.web_api import handle_api

QUESTIONS = {q.id: q for q in TWO_ROUNDS.questions}


def record(store: SessionStore, session_id: str, days_ago: int, graded: dict[str, tuple[bool, ...]]) -> None:
    """One session through the real recorder; each question's score is the share of key points covered."""
    rec = store.recorder()
    rec.session_started(SessionInfo(session_id, TWO_ROUNDS.role, TWO_ROUNDS.title,
                                    tuple(QUESTIONS[q] for q in graded),
                                    round_titles={r.id: r.title for r in TWO_ROUNDS.rounds}))
    for n, (qid, covered) in enumerate(graded.items(), 1):
        q = QUESTIONS[qid]
        rec.utterance(Utterance(q.text, UtteranceKind.QUESTION, q.id, f"q{n}"))
        rec.answer(q, f"q{n}", Reply(ReplyAction.ANSWERED, Transcript("an answer"), "done"))
        kps = tuple(KeyPointResult(k.id, k.statement, k.weight, c, 1.0 if c else 0.0)
                    for k, c in zip(q.key_points, covered))
        rec.feedback(q, Feedback(q.id, sum(covered) / 3, round(100 * sum(covered) / 3, 1), kps, Delivery(2), ()))
    rec.session_finished(None, "completed")
    store.database.execute("UPDATE sessions SET started_at = started_at - ? WHERE id = ?",
                           (days_ago * 86400, session_id))


@pytest.fixture()
def store(tmp_path: Path) -> SessionStore:
    s = SessionStore(tmp_path)
    record(s, "aaaaaaaa00000001", 3, {"cache": (True, False, False), "rollout": (False, False, False)})
    record(s, "aaaaaaaa00000002", 2, {"cache": (True, True, False), "rollback": (True, True, False)})
    record(s, "aaaaaaaa00000003", 1, {"cache": (True, True, True), "rollout": (True, False, False)})
    return s


def test_scores_over_time_per_question_oldest_first(store: SessionStore) -> None:
    progress = store.progress()
    by_id = {q["id"]: q for q in progress["questions"]}
    cache = by_id["cache"]
    assert [a["score"] for a in cache["attempts"]] == [33.3, 66.7, 100.0]
    assert [a["session_id"] for a in cache["attempts"]] == ["aaaaaaaa00000001", "aaaaaaaa00000002",
                                                             "aaaaaaaa00000003"]
    assert (cache["latest"], cache["best"], cache["change"]) == (100.0, 100.0, 33.3)
    assert cache["text"] == "How would you cache predictions?" and cache["round"] == "ML & coding fundamentals"
    assert by_id["rollback"]["change"] is None  # answered once


def test_key_points_most_often_missed_come_first(store: SessionStore) -> None:
    missed = store.progress()["missed_key_points"]
    top = [(k["question_id"], k["key_point_id"], k["missed"], k["attempts"]) for k in missed[:3]]
    # Missed every time first (rollout's second and third points), then by how often.
    assert top[:2] == [("rollout", "b", 2, 2), ("rollout", "c", 2, 2)]
    assert ("cache", "a", 0, 3) not in [(k["question_id"], k["key_point_id"], k["missed"], k["attempts"])
                                        for k in missed]  # always covered: never listed
    cache_c = next(k for k in missed if (k["question_id"], k["key_point_id"]) == ("cache", "c"))
    assert (cache_c["missed"], cache_c["attempts"], cache_c["statement"]) == (2, 3, "Names the third thing")


def test_weakest_questions_are_the_lowest_latest_scores(store: SessionStore) -> None:
    weakest = store.progress()["weakest"]
    # rollout: latest 33 (it was 0 before); rollback: 67; cache: 100 now, though it started at 33.
    assert weakest == {"role": "two-rounds", "question_ids": ["rollout", "rollback", "cache"]}


def test_progress_route_and_role_filter(store: SessionStore) -> None:
    r = handle_api("GET", "/api/progress", {}, store)
    assert r.status == 200 and json.loads(r.body)["weakest"]["question_ids"][0] == "rollout"
    other = json.loads(handle_api("GET", "/api/progress", {"role": ["mlops-engineer"]}, store).body)
    assert other == {"questions": [], "missed_key_points": [], "weakest": {"role": None, "question_ids": []}}
    bad = handle_api("GET", "/api/progress", {"role": ["../x"]}, store)
    assert bad.status == 400 and "role id" in json.loads(bad.body)["error"]["message"]
