"""End-of-answer decisions over VAD results (long silence after speech, timer, never a thinking pause),
and what the streaming transcriber may commit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from voice_interviewer.errors import ConfigError
from voice_interviewer.speech.endpoint import Endpointer, EndpointOptions
from voice_interviewer.speech.streaming import StreamOptions, TailBuffer, agreed_prefix, drop_trailing_hallucinations
from voice_interviewer.speech.vocabulary import FILLER_EXAMPLE, build_prompt
from voice_interviewer.transcript import Word

WINDOW_S = 0.032  # one Silero window


def run(ep: Endpointer, pattern: list[tuple[str, float]]) -> list[tuple[float, str]]:
    """Feed speech ("s") / silence ("-") stretches; return (time, what) for every change."""
    seen: list[tuple[float, str]] = []
    for kind, seconds in pattern:
        for _ in range(round(seconds / WINDOW_S)):
            update = ep.update(0.9 if kind == "s" else 0.05, WINDOW_S)
            if update.speech_started:
                seen.append((ep.audio_s, "started"))
            if update.pause:
                seen.append((ep.audio_s, "pause"))
            if update.ended:
                seen.append((ep.audio_s, update.ended))
    return seen


def ends(seen: list[tuple[float, str]]) -> list[tuple[float, str]]:
    return [(t, what) for t, what in seen if what in ("silence", "timer")]


def test_long_silence_after_speech_ends_the_answer() -> None:
    ep = Endpointer(EndpointOptions(end_silence_s=3.0))
    seen = run(ep, [("s", 4.0), ("-", 5.0)])
    (t, reason), = ends(seen)
    assert reason == "silence" and t == pytest.approx(7.0, abs=2 * WINDOW_S)
    assert ep.ended == "silence"


def test_thinking_pause_of_1_5_s_does_not_end() -> None:
    ep = Endpointer(EndpointOptions(end_silence_s=3.0))
    seen = run(ep, [("s", 3.0), ("-", 1.5), ("s", 2.0), ("-", 2.9)])
    assert ends(seen) == [] and ep.ended is None
    assert [w for _, w in seen].count("pause") == 2  # each pause still commits a segment


def test_silence_before_speech_never_ends() -> None:
    ep = Endpointer(EndpointOptions(end_silence_s=3.0))
    seen = run(ep, [("-", 20.0)])
    assert seen == [] and ep.ended is None and not ep.started
    seen = run(ep, [("s", 1.0), ("-", 3.1)])
    assert ends(seen)[0][1] == "silence"
    assert ep.speech_start_s == pytest.approx(20.0, abs=WINDOW_S)


def test_short_blip_is_not_an_answer() -> None:
    ep = Endpointer(EndpointOptions(end_silence_s=3.0, min_speech_s=0.5, start_speech_s=0.2))
    seen = run(ep, [("-", 1.0), ("s", 0.1), ("-", 5.0)])
    assert ends(seen) == [] and not ep.started


def test_timer_ends_even_without_speech_and_during_speech() -> None:
    ep = Endpointer(EndpointOptions(), timer_s=10.0)
    assert ends(run(ep, [("-", 12.0)]))[0][1] == "timer"
    ep = Endpointer(EndpointOptions(), timer_s=5.0)
    (t, reason), = ends(run(ep, [("s", 8.0)]))
    assert reason == "timer" and t == pytest.approx(5.0, abs=WINDOW_S)


def test_nothing_changes_after_the_end() -> None:
    ep = Endpointer(EndpointOptions(end_silence_s=1.0))
    run(ep, [("s", 1.0), ("-", 1.1)])
    assert run(ep, [("s", 2.0), ("-", 2.0)]) == []


def test_hysteresis_keeps_speech_through_a_weak_window() -> None:
    ep = Endpointer(EndpointOptions(speech_threshold=0.5, silence_threshold=0.35))
    ep.update(0.9, WINDOW_S)
    ep.update(0.4, WINDOW_S)  # between thresholds: still speech
    assert ep.in_speech
    ep.update(0.2, WINDOW_S)
    assert not ep.in_speech


def test_infinite_end_silence_ends_only_on_timer() -> None:
    ep = Endpointer(EndpointOptions(end_silence_s=math.inf), timer_s=30.0)
    assert ends(run(ep, [("s", 2.0), ("-", 20.0)])) == []
    assert ends(run(ep, [("-", 9.0)]))[0][1] == "timer"


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(end_silence_s=0), "end_silence_s must be > 0"),
    (dict(speech_threshold=0.3, silence_threshold=0.4), "silence_threshold"),
    (dict(commit_pause_s=0), "commit_pause_s"),
])
def test_bad_options_are_clear_errors(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        EndpointOptions(**kwargs)


# -- what gets committed: the tail bookkeeping and LocalAgreement ------------------------------------

def _words(text: str, start: float = 0.0) -> list[Word]:
    return [Word(t, start + i * 0.4, start + i * 0.4 + 0.3) for i, t in enumerate(text.split())]


def test_local_agreement_commits_only_the_common_prefix() -> None:
    previous = _words("We serve models with K serve on")
    current = _words("we serve models, with Kserve on Kubernetes")
    assert [w.text for w in agreed_prefix(previous, current)] == ["we", "serve", "models,", "with"]
    assert agreed_prefix([], current) == []


def test_tail_cut_keeps_answer_time_and_starts_a_new_generation() -> None:
    tail = TailBuffer()
    tail.append(np.ones(16000, dtype=np.float32))
    tail.drop_before(0.25, new_generation=False)  # leading silence trimmed: same generation
    assert (tail.start_s, tail.generation) == (0.25, 0)
    tail.append(np.zeros(8000, dtype=np.float32))
    job = tail.cut(1.0, speech_end_s=0.9)
    assert (job.start_s, len(job.audio), job.generation) == (0.25, 12000, 0)
    assert (tail.start_s, tail.duration_s, tail.generation) == (1.0, 0.5, 1)


def test_prompt_is_short_and_ends_with_recent_context() -> None:
    terms = [f"term{i}" for i in range(100)] + ["MLflow", "mlflow"]
    prompt = build_prompt(terms, "word " * 200 + "the last thing said", terms_in_prompt=True)
    assert prompt is not None
    assert prompt.startswith(FILLER_EXAMPLE) and prompt.endswith("the last thing said")
    assert len(prompt) < 450
    assert build_prompt(["MLflow", "mlflow", " KServe "], "", terms_in_prompt=True).count("MLflow") == 1
    assert "KServe" in build_prompt(["MLflow", " KServe "], "", terms_in_prompt=True)
    assert build_prompt(["MLflow"], "", prime=False) is None


def test_the_role_terms_stay_out_of_the_prompt_unless_asked_for() -> None:
    # they cost ordinary words (docs/decisions.md, Speech); the disfluent example and the context stay
    assert build_prompt(["MLflow", "KServe"], "we deploy it") == f"{FILLER_EXAMPLE} we deploy it"
    assert StreamOptions().terms_in_prompt is False


def test_improbable_trailing_word_after_speech_is_dropped() -> None:
    words = [Word("in", 15.76, 16.02, 1.0), Word("heaven.", 16.02, 16.2, 0.74), Word("in.", 16.2, 16.54, 0.01)]
    assert [w.text for w in drop_trailing_hallucinations(words, speech_end_s=16.32)] == ["in", "heaven."]
    quiet_middle = [Word("so", 1.0, 1.2, 0.05), Word("yes", 1.3, 1.6, 0.9)]
    assert drop_trailing_hallucinations(quiet_middle, speech_end_s=1.6) == tuple(quiet_middle)
    still_speaking = [Word("yes", 1.0, 1.3, 0.9), Word("mm", 1.4, 1.6, 0.05)]
    assert len(drop_trailing_hallucinations(still_speaking, speech_end_s=3.0)) == 2


def _timed(spec: str, start_s: float, step_s: float = 0.2, probability: float = 0.9) -> list[Word]:
    return [Word(t, start_s + i * step_s, start_s + (i + 1) * step_s, probability) for i, t in enumerate(spec.split())]


def test_known_phantom_phrase_the_vad_did_not_hear_is_dropped_with_its_connective() -> None:
    real = _timed("a blessed soul in heaven.", 14.9)  # ends 15.9; the VAD hears speech until 16.0
    squeezed = _timed("and we'll see you next time.", 16.0, step_s=0.1)  # crammed into the last 0.6 s
    assert [w.text for w in drop_trailing_hallucinations(real + squeezed, speech_end_s=16.0)] == \
        [w.text for w in real]
    thanks = _timed("Thank you. Thanks for watching!", 16.1)
    assert len(drop_trailing_hallucinations(real + thanks, speech_end_s=16.0)) == len(real)


def test_a_real_closing_thank_you_and_a_real_last_word_are_kept() -> None:
    said = _timed("the online store in Redis. Thank you.", 10.0, step_s=0.3)  # "Thank" starts 11.5
    assert drop_trailing_hallucinations(said, speech_end_s=12.1) == tuple(said)
    short_last = _timed("I would tell you", 5.0, step_s=0.15)  # "you" starts 0.15 s before speech end
    assert drop_trailing_hallucinations(short_last, speech_end_s=5.6) == tuple(short_last)
    # the phrase is only a phantom at the very end: the same words mid-answer are speech
    middle = _timed("thank you for watching the dashboard closely", 3.0)
    assert drop_trailing_hallucinations(middle, speech_end_s=4.6) == tuple(middle)


def test_unsure_phantom_is_dropped_even_inside_speech() -> None:
    said = _timed("and that is the design", 1.0) + _timed("thank you", 2.0, probability=0.2)
    assert [w.text for w in drop_trailing_hallucinations(said, speech_end_s=2.4)] == \
        "and that is the design".split()
