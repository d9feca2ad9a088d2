"""The session limit derived from a measured decode time: the median of a class ending at once fits the budget."""

from __future__ import annotations

import pytest

from voice_interviewer.capacity import MAX_SESSIONS, MIN_SESSIONS, TRANSCRIBE_BUDGET_S, median_wait_s, sessions_for


def test_the_median_final_of_a_full_class_fits_the_budget_and_one_more_would_not():
    for decode_s, workers in ((0.2, 2), (0.35, 2), (0.5, 1), (0.15, 4)):
        n = sessions_for(decode_s, workers)
        assert median_wait_s(n, decode_s, workers) <= TRANSCRIBE_BUDGET_S
        assert median_wait_s(n + 1, decode_s, workers) > TRANSCRIBE_BUDGET_S


def test_the_median_of_eight_ending_together_on_two_workers_waits_two_decodes():
    # decodes finish after 1, 1, 2, 2, 3, 3, 4, 4 decode times: the median candidate waits about 2
    assert median_wait_s(8, 1.0, 2) == 2.0


def test_faster_decodes_and_more_workers_hold_more_sessions():
    assert sessions_for(0.2, 2) > sessions_for(0.4, 2)
    assert sessions_for(0.3, 4) > sessions_for(0.3, 2)


def test_a_busy_start_up_never_shuts_out_a_second_candidate_and_the_figure_is_bounded():
    assert sessions_for(30.0, 1) == MIN_SESSIONS
    assert sessions_for(0.0001, 4) == MAX_SESSIONS


def test_a_meaningless_measurement_is_refused():
    with pytest.raises(ValueError, match="positive decode time"):
        sessions_for(0.0, 2)
    with pytest.raises(ValueError, match="at least one worker"):
        sessions_for(0.3, 0)
