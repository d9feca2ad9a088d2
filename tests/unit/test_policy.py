"""The rubric follow-up policy as a pure decision."""

from __future__ import annotations

from voice_interviewer.bank import FollowUp, KeyPoint, Question
from voice_interviewer.interviewer.base import TurnContext
from voice_interviewer.interviewer.rubric import choose_follow_up
from voice_interviewer.scoring.feedback import KeyPointResult
from voice_interviewer.transcript import Transcript


def _question() -> Question:
    kps = (
        KeyPoint("define", 1.0, "Defines drift", ("drift",)),
        KeyPoint("detect", 3.0, "Detects drift with PSI or KS", ("psi", "ks test")),
        KeyPoint("respond", 2.0, "Retrains or rolls back", ("retrain",)),
        KeyPoint("labels", 2.0, "Handles delayed labels", ("label delay",)),
    )
    fus = (
        FollowUp("detect", "How would you detect it?"),
        FollowUp("respond", "What would you do once it fires?"),
        FollowUp("labels", "What if labels arrive weeks later?"),
    )
    return Question("drift", "deployment", "Explain drift.", "medium", 120, "technical", kps, fus,
                    "A strong answer covers detection and response.")


def _coverage(covered: set[str], strengths: dict[str, float] | None = None) -> tuple[KeyPointResult, ...]:
    strengths = strengths or {}
    return tuple(KeyPointResult(k, k, 1.0, k in covered, 1.0 if k in covered else strengths.get(k, 0.0))
                 for k in ("define", "detect", "respond", "labels"))


def _ctx(covered=(), probed=(), left=1, answer="Drift is when things change.", strengths=None) -> TurnContext:
    return TurnContext(_question(), (Transcript(answer),), _coverage(set(covered), strengths),
                       tuple(probed), left)


def test_probes_the_most_important_missed_key_point():
    decision = choose_follow_up(_ctx(covered={"define"}))
    assert decision is not None
    assert decision.key_point_id == "detect"
    assert decision.text == "How would you detect it?"
    assert decision.source == "rubric"


def test_never_reasks_what_was_covered():
    decision = choose_follow_up(_ctx(covered={"define", "detect"}))
    assert decision.key_point_id in {"respond", "labels"}


def test_never_probes_the_same_point_twice():
    decision = choose_follow_up(_ctx(covered={"define"}, probed=("detect",), left=2))
    assert decision.key_point_id != "detect"


def test_ties_go_to_the_point_the_answer_came_closest_to():
    decision = choose_follow_up(_ctx(covered={"define", "detect"}, strengths={"labels": 0.4, "respond": 0.1}))
    assert decision.key_point_id == "labels"


def test_budget_is_respected():
    assert choose_follow_up(_ctx(left=0)) is None


def test_nothing_to_probe_when_everything_with_a_follow_up_is_covered():
    assert choose_follow_up(_ctx(covered={"detect", "respond", "labels"})) is None


def test_no_follow_up_after_an_empty_answer():
    assert choose_follow_up(_ctx(answer="  ")) is None


def test_an_incorrect_point_is_challenged_before_a_heavier_missed_one():
    from voice_interviewer.scoring.feedback import Evidence

    coverage = tuple(
        KeyPointResult(k, k, 1.0, False, 0.0, Evidence("drift means the labels are noisy", 0, 33),
                       verdict="incorrect", correction="Drift is a change in distribution.")
        if k == "respond" else KeyPointResult(k, k, 1.0, k == "define", 1.0 if k == "define" else 0.0)
        for k in ("define", "detect", "respond", "labels"))
    ctx = TurnContext(_question(), (Transcript("Drift means the labels are noisy."),), coverage, (), 1)
    decision = choose_follow_up(ctx)
    assert decision is not None and decision.key_point_id == "respond"
    assert decision.text.startswith('You said "drift means the labels are noisy".')
    assert "Walk me through that again." in decision.text and "What would you do once it fires?" in decision.text
    # Once challenged, the next follow-up goes back to the heaviest missed point.
    again = choose_follow_up(TurnContext(_question(), ctx.answers, coverage, ("respond",), 1))
    assert again is not None and again.key_point_id == "detect"
