"""One end reason per way an answer ends, shared by every channel, worded in one place."""

from __future__ import annotations

import json

import pytest

from voice_interviewer.channels.base import ReplyAction, reply_action
from voice_interviewer.end_reason import EndReason
from voice_interviewer.report import ended_early_text


def test_values_are_the_strings_on_the_wire_and_in_the_store() -> None:
    assert json.dumps({"end_reason": EndReason.SESSION_LIMIT}) == '{"end_reason": "session_limit"}'
    assert str(EndReason.STOP) == "stop" and f"{EndReason.TIMER}" == "timer"
    assert EndReason.SILENCE == "silence"


@pytest.mark.parametrize("stored, expected", [("stop", EndReason.STOP), ("quit", EndReason.STOP),
                                              ("interrupted", EndReason.INTERRUPTED), ("", None), (None, None),
                                              ("a reason from a newer version", None)])
def test_parse_reads_stored_values_old_and_unknown(stored: str | None, expected: EndReason | None) -> None:
    assert EndReason.parse(stored) is expected


@pytest.mark.parametrize("reason, action", [
    (EndReason.DONE, ReplyAction.ANSWERED), (EndReason.SILENCE, ReplyAction.ANSWERED),
    (EndReason.TIMER, ReplyAction.ANSWERED), (EndReason.TYPED, ReplyAction.ANSWERED),
    (EndReason.SKIP, ReplyAction.SKIPPED), (EndReason.REVEAL, ReplyAction.REVEALED),
    (EndReason.STOP, ReplyAction.STOPPED), (EndReason.DISCONNECTED, ReplyAction.STOPPED),
    (EndReason.SESSION_LIMIT, ReplyAction.STOPPED),
])
def test_every_channel_maps_a_reason_to_the_same_action(reason: EndReason, action: ReplyAction) -> None:
    assert reply_action(reason) is action


def test_every_reason_that_ends_a_session_says_why() -> None:
    for reason in EndReason:
        assert (reason.ended_because is not None) == reason.ends_session, reason
    assert EndReason.TIMER.cut_short == "time ran out" and EndReason.DONE.cut_short is None


def test_report_sentence_words_the_reason_once() -> None:
    assert ended_early_text("stopped", "disconnected", 2) == (
        "The session ended early: the connection was lost and not resumed in time; 2 question(s) not reached.")
    assert ended_early_text("stopped", "quit", 0) == "The session ended early: you ended the interview."
    assert ended_early_text("stopped", "no-such-reason", 1) == "The session ended early; 1 question(s) not reached."
    assert ended_early_text("completed", None, 0) is None
