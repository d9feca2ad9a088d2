"""Fillers, pace, pauses, length and STAR: the delivery decisions, on hand-made transcripts."""

from __future__ import annotations

import pytest

from voice_interviewer.bank import FollowUp, KeyPoint, Question
from voice_interviewer.scoring.delivery import DeliveryOptions, long_pauses, measure, star_parts
from voice_interviewer.scoring.text import find_fillers, sentences, stem, tokenize
from voice_interviewer.transcript import Transcript, Word


def _question(kind: str = "technical", answer_time_s: int = 60) -> Question:
    kps = tuple(KeyPoint(f"k{i}", 1.0, f"point {i}", (f"term {i}",)) for i in range(3))
    star = {p: f"the {p}" for p in ("situation", "task", "action", "result")} if kind == "behavioural" else None
    return Question("q", "r", "Tell me about something.", "easy", answer_time_s, kind, kps,
                    (FollowUp("k0", "More?"), FollowUp("k1", "More?")), "A strong answer.", star)


def _timed(text: str, start_s: float = 0.0, step_s: float = 0.4, gaps: dict[int, float] | None = None) -> Transcript:
    """Words every ``step_s`` seconds, with extra silence before the word indices in ``gaps``."""
    words, t = [], start_s
    for i, w in enumerate(text.split()):
        t += (gaps or {}).get(i, 0.0)
        words.append(Word(w, t, t + step_s * 0.8))
        t += step_s
    return Transcript(text, tuple(words), duration_s=t + 0.5)


def _fillers(text: str) -> list[str]:
    return [f for f, _, _ in find_fillers(text)]


@pytest.mark.parametrize("text", [
    "I like Python.", "I would like to add a feature store.", "It looks like a cache for features.",
    "What kind of model would you use?", "That sort of problem is common.", "Do you know what drift is?",
    "I mean that the labels arrive late.", "We had something like ten models.",
])
def test_meaningful_uses_are_not_fillers(text: str) -> None:
    assert _fillers(text) == []


@pytest.mark.parametrize("text,expected", [
    ("Um, so we, uh, retrained it.", ["um", "uh"]),
    ("It was, like, really slow.", ["like"]),
    ("So like, we had this pipeline.", ["like"]),
    ("We monitored it, you know, every day.", ["you know"]),
    ("I mean, the data was wrong.", ["I mean"]),
    ("It was kind of slow and sort of flaky.", ["kind of", "sort of"]),
])
def test_fillers_are_found(text: str, expected: list[str]) -> None:
    assert _fillers(text) == expected


def test_stemming_meets_word_forms() -> None:
    assert stem("monitoring") == stem("monitored") == stem("monitors") == stem("monitor")
    assert stem("deployments") == stem("deploy")


def test_sentences_keep_offsets() -> None:
    text = "First idea here. Second one!  Third"
    spans = sentences(text, tokenize(text))
    assert [s.quote(text) for s in spans] == ["First idea here", "Second one", "Third"]


def test_words_per_minute_comes_from_word_timings() -> None:
    t = _timed(" ".join(["word"] * 60), step_s=0.4)  # 60 words over ~23.9 s
    d = measure(_question(), [t])
    span = t.words[-1].end_s - t.words[0].start_s
    assert d.duration_s == pytest.approx(span, abs=0.01)
    assert d.words_per_minute == pytest.approx(60 / (span / 60), rel=0.01)


def test_speech_before_the_first_word_is_not_counted() -> None:
    late = _timed(" ".join(["word"] * 40), start_s=10.0)
    early = _timed(" ".join(["word"] * 40), start_s=0.0)
    q = _question()
    assert measure(q, [late]).words_per_minute == pytest.approx(measure(q, [early]).words_per_minute)


def test_fillers_per_minute_and_by_word() -> None:
    text = "um we built it uh and um it worked like, you know, fine " * 3
    d = measure(_question(), [_timed(text)])
    assert d.fillers["um"] == 6 and d.fillers["uh"] == 3 and d.fillers["you know"] == 3
    assert d.fillers_per_minute == pytest.approx(d.filler_count / (d.duration_s / 60), rel=0.01)


def test_long_pauses_are_found_within_an_answer() -> None:
    t = _timed("we first checked the data and then retrained", gaps={3: 3.0, 6: 1.0})
    pauses = long_pauses(t, 2.5)
    assert len(pauses) == 1 and pauses[0].duration_s == pytest.approx(3.0 + 0.4 * 0.2, abs=0.01)


def test_no_pause_is_counted_between_two_answers() -> None:
    main = _timed("we checked the data carefully")
    follow = _timed("then we retrained the model", start_s=0.2)
    d = measure(_question(), [main, follow])
    assert d.long_pauses == ()
    # Even if a follow-up's words start long after the main answer ended, the gap is not a pause.
    late_follow = _timed("then we retrained the model", start_s=30.0)
    assert measure(_question(), [main, late_follow]).long_pauses == ()


def test_pause_times_are_shifted_into_the_joined_answers() -> None:
    main = _timed("we checked the data carefully")
    follow = _timed("then we retrained the model", gaps={2: 4.0})
    d = measure(_question(), [main, follow])
    assert len(d.long_pauses) == 1
    assert d.long_pauses[0].start_s > main.duration_s


def test_length_ratio_spoken_and_typed() -> None:
    q = _question(answer_time_s=60)
    spoken = _timed(" ".join(["word"] * 75), step_s=0.4)  # ~30 s of speech
    assert measure(q, [spoken]).length_ratio == pytest.approx(
        (spoken.words[-1].end_s - spoken.words[0].start_s) / 60, abs=0.01)
    typed = Transcript(" ".join(["word"] * 75))  # 75 words at 150 wpm = 30 s
    d = measure(q, [typed])
    assert d.length_ratio == pytest.approx(0.5, abs=0.01)
    assert d.words_per_minute is None and d.fillers_per_minute is None


def test_delivery_score_prefers_a_good_pace_to_a_rushed_one() -> None:
    q = _question(answer_time_s=60)
    text = " ".join(["word"] * 100)
    good = measure(q, [_timed(text, step_s=0.43)])   # ~140 wpm
    rushed = measure(q, [_timed(text, step_s=0.2)])  # ~300 wpm
    assert good.score > rushed.score
    assert DeliveryOptions().pace_low_wpm <= good.words_per_minute <= DeliveryOptions().pace_high_wpm


def test_star_detection() -> None:
    story = ("At my last company we had a churn model. I was responsible for its accuracy. "
             "I decided to compare the inputs with the training data and I built a drift check. "
             "As a result we reduced false alarms by 30%.")
    assert star_parts(story) == {"situation": True, "task": True, "action": True, "result": True}
    no_result = "At my last company we had a churn model. I was responsible for it and I built a drift check."
    assert star_parts(no_result)["result"] is False
    assert measure(_question("behavioural"), [Transcript(story)]).star == star_parts(story)
    assert measure(_question(), [Transcript(story)]).star is None


def test_empty_answer_scores_zero() -> None:
    d = measure(_question(), [Transcript("")])
    assert d.word_count == 0 and d.score == 0.0


def test_star_parts_and_results_are_recognised_in_spoken_form():
    from voice_interviewer.scoring.delivery import has_measurable_result, star_parts

    story = ("So a data scientist on the search team had a new ranking model. I had two concerns. I sat down with "
             "them and we agreed on a shadow run. It ended up cutting the error, which went from nine minutes to "
             "four.")
    assert star_parts(story) == {"situation": True, "task": True, "action": True, "result": True}
    assert has_measurable_result("the error went from nine minutes to four")
    assert has_measurable_result("we cut the bill in half") and has_measurable_result("twenty percent fewer pages")
    assert not has_measurable_result("one of the things we did was talk to the team")
    assert star_parts("I think drift is bad.") == {"situation": False, "task": False, "action": False,
                                                   "result": False}


def test_acronym_plurals_meet_their_singular() -> None:
    from voice_interviewer.scoring.text import stem

    assert stem("IDs") == stem("ID") == "id" and stem("GPUs") == stem("GPU") and stem("LLMs") == stem("LLM")
    assert stem("ids") == "ids" and stem("Ops") == stem("ops")  # only a written acronym loses its plural s
