"""Question planning: rounds, counts, order, explicit ids."""

from __future__ import annotations

import pytest

from voice_interviewer.bank import Bank, FollowUp, KeyPoint, Question, Round
from voice_interviewer.errors import ConfigError
from voice_interviewer.plan import InterviewSettings, plan_questions


def _bank() -> Bank:
    rounds = tuple(Round(r, r.title()) for r in ("a", "b", "c"))
    kps = tuple(KeyPoint(f"k{i}", 1.0, f"point {i}", (f"p{i}",)) for i in range(3))
    fus = (FollowUp("k0", "Tell me more about that?"), FollowUp("k1", "And what about this?"))
    qs = []
    for r in ("a", "b", "c"):
        for i in range(4):
            qs.append(Question(f"{r}{i}", r, f"Question {r}{i}?", "easy", 60, "technical", kps, fus,
                               "strong answer text", seed=(i + 1 if i < 2 else None)))
    return Bank("role", "Role", rounds, tuple(qs))


def test_by_round_spreads_evenly_and_puts_seed_questions_first():
    qs = plan_questions(_bank(), InterviewSettings(role="role", questions=6, seed=1))
    assert [q.round for q in qs] == ["a", "a", "b", "b", "c", "c"]
    assert [q.id for q in qs if q.round == "a"] == ["a0", "a1"]


def test_rounds_filter_and_count_cap():
    qs = plan_questions(_bank(), InterviewSettings(role="role", rounds=("b",), questions=10, seed=1))
    assert len(qs) == 4 and {q.round for q in qs} == {"b"}


def test_mixed_order_is_reproducible_with_a_seed_and_varies_without_repeats():
    settings = InterviewSettings(role="role", questions=12, order="mixed", seed=7)
    first = [q.id for q in plan_questions(_bank(), settings)]
    assert first == [q.id for q in plan_questions(_bank(), settings)]
    assert len(set(first)) == 12
    assert first != sorted(first)


def test_explicit_question_ids():
    qs = plan_questions(_bank(), InterviewSettings(role="role", question_ids=("c3", "a0")))
    assert [q.id for q in qs] == ["c3", "a0"]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"rounds": ("zzz",)}, "no round 'zzz'"),
    ({"order": "random"}, "order 'random'"),
    ({"questions": 0}, "questions must be"),
    ({"timer_s": 3}, "timer_s must be"),
    ({"question_ids": ("nope",)}, "no question 'nope'"),
])
def test_bad_settings_say_what_is_wrong(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        plan_questions(_bank(), InterviewSettings(role="role", **kwargs))
