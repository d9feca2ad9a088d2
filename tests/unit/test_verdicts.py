"""Every output path carries each key point's verdict, and an incorrect point its correction."""

from __future__ import annotations

import pytest

from voice_interviewer.bank import FollowUp, KeyPoint, Question
from voice_interviewer.channels.render import render_feedback
from voice_interviewer.export import verdict_mark
from voice_interviewer.protocol import FeedbackMsg
from voice_interviewer.scoring.content import ContentOptions, content_score
from voice_interviewer.scoring.feedback import Delivery, Evidence, Feedback, KeyPointResult

CORRECTION = "That is data drift. Concept drift is a change in P(y|X)."


def _question() -> Question:
    kps = (KeyPoint("data-drift", 2.0, "Data drift is a change in P(X).", ("data drift",)),
           KeyPoint("concept-drift", 2.0, "Concept drift is a change in P(y|X).", ("concept drift",)),
           KeyPoint("detection", 1.0, "Detect with PSI.", ("PSI",)))
    return Question("drift", "deployment", "Explain drift.", "medium", 120, "technical", kps,
                    (FollowUp("detection", "How would you detect it?"), FollowUp("data-drift", "What is it?")),
                    "Strong answer.")


def _feedback() -> Feedback:
    said = "concept drift is when the input features change"
    return Feedback("drift", 0.3, 35.0, (
        KeyPointResult("data-drift", "Data drift is a change in P(X).", 2.0, True, 0.9,
                       Evidence("inputs shift", 0, 12), verdict="covered"),
        KeyPointResult("concept-drift", "Concept drift is a change in P(y|X).", 2.0, False, 0.0,
                       Evidence(said, 20, 20 + len(said)), verdict="incorrect", correction=CORRECTION,
                       misconception="Concept drift is a change in the input distribution."),
        KeyPointResult("detection", "Detect with PSI.", 1.0, False, 0.1),
    ), Delivery(word_count=30), ("You said ...",))


def test_results_without_a_verdict_get_one_derived() -> None:
    assert KeyPointResult("a", "A", 1.0, True, 0.9).verdict == "covered"
    assert KeyPointResult("a", "A", 1.0, False, 0.25, partial=True).verdict == "partial"
    assert KeyPointResult("a", "A", 1.0, False, 0.1).verdict == "missed"
    with pytest.raises(ValueError, match="not one of"):
        KeyPointResult("a", "A", 1.0, False, 0.1, verdict="wrong")


def test_stored_feedback_round_trips_with_verdict_and_correction() -> None:
    fb = _feedback()
    back = Feedback.from_dict(fb.to_dict())
    assert back == fb and back.key_points[1].correction == CORRECTION
    old = fb.to_dict()
    for k in old["key_points"]:
        del k["verdict"], k["correction"], k["misconception"]  # a session stored before verdicts
    assert [k.verdict for k in Feedback.from_dict(old).key_points] == ["covered", "missed", "missed"]


def test_protocol_feedback_message_carries_verdicts() -> None:
    wire = FeedbackMsg("drift", _feedback().to_dict()).to_dict()
    assert [k["verdict"] for k in wire["key_points"]] == ["covered", "incorrect", "missed"]
    assert wire["key_points"][1]["correction"] == CORRECTION


def test_desktop_rendering_names_the_verdict_and_gives_the_correction() -> None:
    text = render_feedback(_question(), _feedback())
    assert "Incorrect: Concept drift" in text and "correction: That is data drift" in text
    assert 'you said: "concept drift is when the input features change"' in text
    assert "Covered: Data drift" in text and "Missed: Detect with PSI." in text


def test_exports_label_verdicts_of_new_and_old_results() -> None:
    assert verdict_mark({"verdict": "incorrect"}) == ("incorrect", "Incorrect")
    assert verdict_mark({"covered": False, "partial": True, "strength": 0.2}) == ("partial", "Partly covered")


def test_a_stated_misconception_costs_at_least_a_quarter_of_the_content_score() -> None:
    # A light point said wrong next to four heavy points said right: an interviewer doubts the
    # whole answer, so the cost is not just that point's small weight.
    right = [KeyPointResult(f"p{i}", "s", 3, True, 1.0) for i in range(4)]
    wrong = KeyPointResult("light", "s", 1, False, 0.0, verdict="incorrect", correction="c")
    missed = KeyPointResult("light", "s", 1, False, 0.0)
    total = 13
    assert content_score([*right, missed], 100) == pytest.approx(12 / total, abs=1e-3)
    assert content_score([*right, wrong], 100) == pytest.approx((12 - 0.25 * total) / total, abs=1e-3)
    lenient = ContentOptions(incorrect_min_share=0.0)
    assert content_score([*right, wrong], 100, lenient) == pytest.approx(11 / total, abs=1e-3)
