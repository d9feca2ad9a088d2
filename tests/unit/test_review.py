"""Review between questions: the gate for ``next``/``retry``, attempt turn ids, and comparing attempts."""

from __future__ import annotations

import pytest

from voice_interviewer.errors import ProtocolError
from voice_interviewer.protocol import NOTHING_TO_REVIEW, REVIEW_OFF
from voice_interviewer.review import ReviewChoice, ReviewGate, ReviewRequest, attempt_turn_id
from voice_interviewer.scoring.attempts import compare_attempts
from voice_interviewer.scoring.feedback import Delivery, Feedback, KeyPointResult
from voice_interviewer.store.paths import TURN_ID_PATTERN


def test_a_choice_is_taken_only_while_a_review_is_open():
    gate = ReviewGate(enabled=True)
    with pytest.raises(ProtocolError) as exc:
        gate.choose("next")
    assert exc.value.code == NOTHING_TO_REVIEW
    assert "'next' arrived with nothing to review" in str(exc.value) and "'reviewing'" in str(exc.value)

    gate.open(ReviewRequest("q-a", 1, last=False))
    assert gate.choose("retry") is ReviewChoice.RETRY
    assert gate.pending is None
    with pytest.raises(ProtocolError) as again:  # one choice per review: a second one is refused
        gate.choose("retry")
    assert again.value.code == NOTHING_TO_REVIEW


def test_a_session_without_review_says_how_to_turn_it_on():
    gate = ReviewGate(enabled=False)
    gate.open(ReviewRequest("q-a", 1, last=True))
    with pytest.raises(ProtocolError) as exc:
        gate.choose("next")
    assert exc.value.code == REVIEW_OFF
    assert '"review": true' in str(exc.value)


def test_closing_the_gate_without_a_choice_returns_what_was_pending():
    gate = ReviewGate(enabled=True)
    request = ReviewRequest("q-a", 2, last=False)
    gate.open(request)
    assert gate.close() == request
    assert gate.close() is None


def test_each_attempt_has_turn_ids_of_its_own_that_the_store_accepts():
    assert attempt_turn_id(1, 1) == "q1"
    assert attempt_turn_id(3, 2) == "q3r2"
    for turn in ("q1", "q3r2", "q3r2f1", "q12f2"):
        assert TURN_ID_PATTERN.fullmatch(turn)
    assert not TURN_ID_PATTERN.fullmatch("q1f1r2")  # an attempt is of the question, never of a follow-up
    with pytest.raises(ValueError):
        attempt_turn_id(1, 0)


def _feedback(overall: float, verdicts: dict[str, str], question_id: str = "q-a") -> Feedback:
    points = tuple(KeyPointResult(kp, f"statement {kp}", 1.0, covered=v == "covered",
                                  strength=0.9 if v == "covered" else 0.1, verdict=v)
                   for kp, v in verdicts.items())
    return Feedback(question_id, 0.5, overall, points, Delivery(word_count=40), ("tip",))


def test_comparison_names_points_gained_and_lost_and_the_score_change():
    first = _feedback(40.0, {"a": "missed", "b": "covered", "c": "incorrect", "d": "partial"})
    second = _feedback(72.46, {"a": "covered", "b": "partial", "c": "missed", "d": "partial"})
    c = compare_attempts(first, second, previous_attempt=1, attempt=2)
    assert (c.previous_score, c.score, c.score_change) == (40.0, 72.5, 32.5)
    assert [(p.key_point_id, p.before, p.after) for p in c.gained] == [("a", "missed", "covered"),
                                                                        ("c", "incorrect", "missed")]
    assert [(p.key_point_id, p.before, p.after) for p in c.lost] == [("b", "covered", "partial")]
    d = c.to_dict()
    assert d["gained"][0]["statement"] == "statement a" and d["attempt"] == 2 and d["previous_attempt"] == 1


def test_an_unchanged_attempt_gains_and_loses_nothing_and_a_worse_one_goes_down():
    same = compare_attempts(_feedback(50, {"a": "covered"}), _feedback(50, {"a": "covered"}),
                            previous_attempt=1, attempt=2)
    assert same.gained == same.lost == () and same.score_change == 0
    worse = compare_attempts(_feedback(60, {"a": "covered"}), _feedback(35, {"a": "missed"}),
                             previous_attempt=2, attempt=3)
    assert worse.score_change == -25 and [p.key_point_id for p in worse.lost] == ["a"]


def test_attempts_at_different_questions_are_not_compared():
    with pytest.raises(ValueError, match="different questions"):
        compare_attempts(_feedback(1, {}, "q-a"), _feedback(2, {}, "q-b"), previous_attempt=1, attempt=2)
