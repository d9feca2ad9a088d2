"""The interview flow end to end over a scripted channel, with the real bank, policy and grader."""

from __future__ import annotations

import asyncio

import pytest

from voice_interviewer.bank import load_role
from voice_interviewer.factory import make_grader, make_policy
from voice_interviewer.interview import Interview
from voice_interviewer.plan import InterviewSettings
from voice_interviewer.testing import ScriptedChannel

pytestmark = pytest.mark.slow

STRONG_DRIFT = (
    "Data drift is when the distribution of the inputs changes compared with training, and concept drift is "
    "when the relationship between inputs and the label changes. I detect it by comparing live feature "
    "distributions with the training baseline using PSI or a Kolmogorov-Smirnov test and alerting above a "
    "threshold, and I track model performance once labels arrive. When it fires I investigate the upstream "
    "data, retrain on recent data, validate against the champion and roll out with a canary."
)


@pytest.fixture(scope="module")
def bank():
    return load_role("mlops-engineer")


@pytest.fixture(scope="module")
def grader():
    return make_grader("rubric")


def _run(bank, grader, script, **settings):
    channel = ScriptedChannel.answering(script)
    interview = Interview(bank, InterviewSettings(**settings), channel, make_policy("rubric"), grader)
    report = asyncio.run(interview.run())
    return channel, report


def test_vague_answer_gets_a_follow_up_on_a_missed_point_then_feedback(bank, grader):
    channel, report = _run(bank, grader, ["Drift is when the model gets worse.", "I would look at some graphs."],
                           question_ids=("model-and-data-drift",), max_follow_ups=1)
    kinds = [k for k, _ in channel.events]
    assert kinds.index("question") < kinds.index("follow_up") < kinds.index("feedback") < kinds.index("close")
    follow_up = channel.said("follow_up")[0]
    question = bank.question("model-and-data-drift")
    probed = next(f for f in question.follow_ups if f.text == follow_up)
    feedback = report.questions[0]["feedback"]
    covered = {k["key_point_id"] for k in feedback["key_points"] if k["covered"]}
    assert probed.key_point not in covered
    assert len(feedback["tips"]) >= 2


def test_strong_answer_needs_no_follow_up_on_what_it_covered(bank, grader):
    channel, report = _run(bank, grader, [STRONG_DRIFT, "We would retrain."],
                           question_ids=("model-and-data-drift",), max_follow_ups=2)
    question = bank.question("model-and-data-drift")
    feedback = report.questions[0]["feedback"]
    covered = {k["key_point_id"] for k in feedback["key_points"] if k["covered"]}
    for text in channel.said("follow_up"):
        probed = next(f for f in question.follow_ups if f.text == text)
        assert probed.key_point not in covered or probed.key_point not in _covered_before(grader, question)
    assert report.questions[0]["score"] > 60


def _covered_before(grader, question):
    from voice_interviewer.transcript import Transcript
    return {k.key_point_id for k in grader.coverage(question, [Transcript(STRONG_DRIFT)]) if k.covered}


def test_follow_up_budget_zero_means_no_follow_ups(bank, grader):
    channel, _ = _run(bank, grader, ["Drift is bad.", "Feature stores store features."],
                      question_ids=("model-and-data-drift", "feature-store"), max_follow_ups=0)
    assert channel.said("follow_up") == []
    assert len(channel.said("question")) == 2


def test_skip_reveal_and_stop(bank, grader):
    channel, report = _run(bank, grader, ["skip", "reveal", "stop"],
                           question_ids=("mlops-vs-devops", "feature-store", "ml-lifecycle"))
    assert [q["skipped"] for q in report.questions] == [True, True]
    assert [q["revealed"] for q in report.questions] == [False, True]
    assert ("reveal", "feature-store") in channel.events
    assert channel.said("feedback") == []
    assert len(channel.said("question")) == 3
    assert channel.events[-1][0] == "close"
    # The report says the session ended early, why, and what it left out; and which interviewer and grader ran.
    assert (report.status, report.end_reason) == ("stopped", "stop")
    assert [(q["id"], q["round_title"]) for q in report.not_reached] == [("ml-lifecycle", "ML & coding fundamentals")]
    assert (report.interviewer, report.grader) == ("rubric", "offline")


def test_report_aggregates_rounds_key_points_delivery_and_tips(bank, grader):
    _, report = _run(bank, grader, [STRONG_DRIFT, "It stores features.", "no idea"],
                     question_ids=("model-and-data-drift", "feature-store"), max_follow_ups=1)
    assert report is not None and report.overall is not None
    assert {r.round_id for r in report.rounds} == {"deployment", "pipelines"}
    drift, store = report.questions
    assert drift["score"] > store["score"]
    assert any(k.question_id == "feature-store" and not k.covered for k in report.key_points)
    assert report.top_tips
