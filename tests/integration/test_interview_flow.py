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


def _run(bank, grader, script, reviews=(), **settings):
    channel = ScriptedChannel.answering(script)
    channel.reviews = list(reviews)
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


def test_without_review_the_flow_never_waits(bank, grader):
    channel, _ = _run(bank, grader, ["Drift is bad.", "Feature stores store features."],
                      question_ids=("model-and-data-drift", "feature-store"), max_follow_ups=0)
    assert not any(k in ("review", "attempt") for k, _ in channel.events)


def test_review_waits_after_each_feedback_then_a_retry_is_compared_with_the_first_attempt(bank, grader):
    channel, report = _run(bank, grader, ["Drift is when the model gets worse.", STRONG_DRIFT, "It stores features."],
                           reviews=["retry", "next", "next"], review=True, max_follow_ups=0,
                           question_ids=("model-and-data-drift", "feature-store"))
    kinds = [k for k, _ in channel.events]
    # Each feedback is followed by a review before anything else is said, the last one included.
    for i, kind in enumerate(kinds):
        if kind == "feedback":
            assert kinds[i + 1:i + 3] == ["attempt", "review"], kinds
    assert kinds[-2:] == ["review", "close"]
    assert [v for k, v in channel.events if k == "listen"] == ["q1", "q1r2", "q2"]
    assert channel.said("question")[0] == channel.said("question")[1]  # the same question, asked again

    reviews = [v for k, v in channel.events if k == "review"]
    assert [(r.question_id, r.attempt, r.last) for r in reviews] == [
        ("model-and-data-drift", 1, False), ("model-and-data-drift", 2, False), ("feature-store", 1, True)]
    notes = [v for k, v in channel.events if k == "attempt"]
    assert notes[0].number == 1 and notes[0].comparison is None
    comparison = notes[1].comparison
    assert comparison.previous_attempt == 1 and comparison.attempt == 2
    assert comparison.score_change > 10
    first, second = [v for k, v in channel.events if k == "feedback"][:2]
    before = {k.key_point_id: k.verdict for k in first.key_points}
    after = {k.key_point_id: k.verdict for k in second.key_points}
    assert "data-drift" in [c.key_point_id for c in comparison.gained]
    changed = {c.key_point_id for c in (*comparison.gained, *comparison.lost)}
    assert changed == {kp for kp in after if after[kp] != before[kp]}
    assert all((c.before, c.after) == (before[c.key_point_id], after[c.key_point_id])
               for c in (*comparison.gained, *comparison.lost))

    drift = report.questions[0]
    assert drift["attempts"] == [first.overall, second.overall] and drift["score"] == second.overall
    assert drift["answers"] == [STRONG_DRIFT]  # the attempt that counts is the last one
    assert "attempts" not in report.questions[1]


def test_a_skipped_question_is_not_reviewed_and_stop_at_a_review_ends_the_session(bank, grader):
    channel, report = _run(bank, grader, ["skip", "Feature stores keep features.", "never asked"],
                           reviews=["stop"], review=True, max_follow_ups=0,
                           question_ids=("mlops-vs-devops", "feature-store", "ml-lifecycle"))
    assert [v.question_id for k, v in channel.events if k == "review"] == ["feature-store"]
    assert len(channel.said("question")) == 2 and channel.events[-1][0] == "close"
    assert [q["id"] for q in report.questions] == ["mlops-vs-devops", "feature-store"]


def test_a_retry_that_is_skipped_leaves_the_graded_attempt_in_the_report(bank, grader):
    _, report = _run(bank, grader, [STRONG_DRIFT, "skip"], reviews=["retry"], review=True, max_follow_ups=0,
                     question_ids=("model-and-data-drift",))
    drift = report.questions[0]
    assert drift["score"] is not None and not drift["skipped"] and drift["answers"] == [STRONG_DRIFT]
    assert drift["attempts"] == [drift["score"], None]


def test_the_flow_tells_the_channel_each_questions_place_and_timer(bank, grader):
    """Channels show "question n of N" and the answer time from what the flow says, not from their own rules."""
    ids = ("model-and-data-drift", "feature-store")
    channel, _ = _run(bank, grader, ["Drift is when the model gets worse.", "I would look at some graphs.",
                                     "Feature stores store features."],
                      question_ids=ids, max_follow_ups=1, timer_s=90)
    assert [(qid, p.number, p.total, p.timer_s) for qid, p in channel.places] == [
        ("model-and-data-drift", 1, 2, 90.0), ("feature-store", 2, 2, 90.0)]
    assert channel.timers["q1"] == 90.0 and channel.timers["q1f1"] == 60.0  # a follow-up: half, at least a minute
    channel, _ = _run(bank, grader, ["Feature stores store features."], question_ids=("feature-store",),
                      max_follow_ups=0)
    suggested = bank.question("feature-store").answer_time_s
    assert [(p.number, p.total, p.timer_s) for _, p in channel.places] == [(1, 1, float(suggested))]
    assert channel.timers["q1"] == float(suggested)
