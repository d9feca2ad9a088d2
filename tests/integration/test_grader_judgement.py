"""The grader judges understanding, not vocabulary: real embedding model, real MLOps bank.

Each test writes the kind of answer a candidate really gives — a list of the right
words, a confident swapped definition, a spoken STAR story — and checks the verdicts,
quotes and tips a senior interviewer would give.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from voice_interviewer.scoring.content import ContentScorer
from voice_interviewer.scoring.grader import OfflineGrader
from voice_interviewer.scoring.misconceptions import MisconceptionOptions
from voice_interviewer.transcript import Transcript

pytestmark = pytest.mark.slow



SWAPPED = ("So data drift is when the relationship between the features and the target changes, and concept drift "
           "is when the input features change, the distribution of the data coming in shifts. We'd run PSI on the "
           "features every day and alert when it goes over 0.2.")


def _grade(grader: OfflineGrader, question, text: str):
    return grader.grade_sync(question, [Transcript(text)])


def _point(feedback, key_point_id: str):
    return next(k for k in feedback.key_points if k.key_point_id == key_point_id)


def test_a_list_of_the_right_words_scores_like_a_vague_answer(bank, grader, seed_answers) -> None:
    q = bank.question("feature-store")
    buzz = _grade(grader, q, "Feast Tecton Redis DynamoDB training-serving skew point-in-time join offline store "
                             "online store")
    fluent = _grade(grader, q, (
        "So a feature store is a core piece of the modern ML stack, Feast, Tecton, Hopsworks, with the offline store "
        "on BigQuery or Snowflake and the online store on Redis or DynamoDB, point-in-time joins, feature views, "
        "entities, materialisation, streaming features with Kafka and Flink, and it handles training-serving skew, "
        "governance and lineage, which is why every mature MLOps platform has one."))
    vague = _grade(grader, q, seed_answers["feature-store"]["vague"])
    strong = _grade(grader, q, seed_answers["feature-store"]["strong"])
    for listed in (buzz, fluent):
        assert listed.overall <= vague.overall + 15, (listed.overall, vague.overall)
        assert strong.overall >= listed.overall + 30, (strong.overall, listed.overall)
        assert not listed.covered, [k.key_point_id for k in listed.covered]
    assert any(k.verdict == "partial" for k in buzz.key_points)


def test_a_swapped_definition_is_incorrect_with_the_correction(bank, grader) -> None:
    q = bank.question("model-and-data-drift")
    wrong = _grade(grader, q, SWAPPED)
    flagged = [k for k in wrong.key_points if k.verdict == "incorrect"]
    assert flagged, [(k.key_point_id, k.verdict) for k in wrong.key_points]
    for k in flagged:
        assert k.evidence is not None and k.evidence.quote in SWAPPED
        assert k.correction and k.misconception and not k.covered
    assert any("concept drift" in k.evidence.quote.lower() or "data drift" in k.evidence.quote.lower()
               for k in flagged if k.evidence)
    # The correction is the first tip, quoting the candidate's words.
    assert wrong.tips and wrong.tips[0].startswith("You said") and flagged[0].correction in " ".join(wrong.tips)


def test_a_stated_misconception_scores_below_saying_nothing_about_it(bank, grader) -> None:
    q = bank.question("champion-challenger-shadow")
    base = ("In a shadow deployment the new model gets a copy of the live requests, its predictions are logged and "
            "compared with the champion's, and users only ever see the champion's answers.")
    wrong = base + " And a shadow deployment is free, it doesn't cost any extra compute at all."
    plain, mistaken = _grade(grader, q, base), _grade(grader, q, wrong)
    assert any(k.verdict == "incorrect" for k in mistaken.key_points), [(k.key_point_id, k.verdict)
                                                                         for k in mistaken.key_points]
    assert mistaken.overall < plain.overall


def test_correct_strong_answers_are_not_flagged_incorrect(bank, grader, seed_answers) -> None:
    flagged = []
    for qid, answers in seed_answers.items():
        fb = _grade(grader, bank.question(qid), answers["strong"])
        flagged += [(qid, k.key_point_id, k.evidence.quote if k.evidence else "") for k in fb.key_points
                    if k.verdict == "incorrect"]
    assert not flagged


def test_no_tip_for_a_covered_point_and_none_invented_for_a_strong_answer(bank, grader, seed_answers) -> None:
    for qid in ("mlops-vs-devops", "feature-store", "ml-lifecycle"):
        q = bank.question(qid)
        fb = _grade(grader, q, seed_answers[qid]["strong"])
        covered_tips = {q.key_point(k.key_point_id).tip for k in fb.key_points if k.verdict == "covered"}
        assert not covered_tips & set(fb.tips)
        assert not any(t.startswith("Strengthen your point") for t in fb.tips)


def test_no_tip_asks_to_scale_on_what_the_answer_already_scales_on(bank, grader) -> None:
    q = bank.question("scaling-inference-cost")
    said = ("CPU was useless as a signal for us, so we scaled on the number of requests waiting per pod, the queue "
            "depth, with KEDA, and we batch requests on the server so each GPU call does more work.")
    fb = _grade(grader, q, said)
    asks = [t for t in fb.tips if "queue depth" in t.lower() or "concurrency" in t.lower()]
    assert not asks, asks


def test_star_in_spoken_form_gets_no_result_tip(bank, grader) -> None:
    q = bank.question("degraded-model-story")
    story = ("So at my last company our fraud model started missing cases. I was on call, so it was my job to find "
             "out why. I pulled the feature distributions and found an upstream team had changed a currency field "
             "from cents to dollars. We rolled back the feature pipeline and added a schema check. In the end the "
             "detection delay went from nine minutes to four and we never saw that bug again.")
    fb = _grade(grader, q, story)
    assert fb.delivery.star == {"situation": True, "task": True, "action": True, "result": True}
    assert not [t for t in fb.tips if "Result" in t]


def test_partial_tip_quotes_the_named_term_and_keeps_its_case(bank, grader) -> None:
    q = bank.question("mlops-vs-devops")
    fb = _grade(grader, q, "MLOps is CI/CD plus CT, MLflow and a model registry, that's it.")
    text = " ".join(fb.tips)
    assert "mLOps" not in text and "cD" not in text
    assert any(t.startswith("You named") for t in fb.tips)


def test_verdict_is_in_every_result_and_survives_the_round_trip(bank, grader, seed_answers) -> None:
    q = bank.question("feature-store")
    fb = asyncio.run(grader.grade(q, [Transcript(seed_answers["feature-store"]["strong"])]))
    d = fb.to_dict()
    assert all(k["verdict"] in ("covered", "partial", "missed", "incorrect") for k in d["key_points"])
    assert type(fb).from_dict(d) == fb


def test_a_claim_carried_on_by_a_pronoun_is_still_caught(bank, grader) -> None:
    """Speech names a thing once and goes on with "they": the claim is the candidate's all the same."""
    q = bank.question("gdpr-pii-training-data")
    fb = _grade(grader, q, (
        "So the first step is that we hash the customer IDs with SHA-256 before anything reaches training. And once "
        "they're hashed, the data counts as anonymous, so the GDPR rules stop applying to the training set."))
    wrong = {k.key_point_id: k for k in fb.incorrect}
    assert "pseudonymisation" in wrong, [(k.key_point_id, k.verdict) for k in fb.key_points]
    assert "anonymous" in wrong["pseudonymisation"].evidence.quote and wrong["pseudonymisation"].correction


def test_a_rebuttal_in_the_next_breath_is_not_the_mistake(bank, grader) -> None:
    """"..., never just latest" refutes "tagging latest is fine"; "nobody sees its output" is what a shadow is."""
    tag = _grade(grader, bank.question("containerising-a-model"), (
        "I'd pin every dependency in a lock file and build from a slim base image, and I'd tag the image with the "
        "model version and the git commit, never just latest, so a rollback is an exact image."))
    assert not tag.incorrect, [(k.key_point_id, k.evidence.quote) for k in tag.incorrect]
    shadow = _grade(grader, bank.question("champion-challenger-shadow"), (
        "In a shadow deployment the challenger gets a mirrored copy of the live traffic and its predictions are only "
        "logged. The catch is that shadow can't tell you about user facing effects, like whether people click more, "
        "since nobody sees its output."))
    assert not shadow.incorrect, [(k.key_point_id, k.evidence.quote) for k in shadow.incorrect]


def test_an_answer_made_of_vocabulary_is_marked_down_and_told_so(bank, grader, seed_answers) -> None:
    q = bank.question("online-vs-offline-features")
    fluent = _grade(grader, q, (
        "So online versus offline features is a core part of the modern feature platform, Feast or Tecton or "
        "Hopsworks, the offline store on BigQuery or Snowflake or S3 with Parquet and Delta, the online store on "
        "Redis or DynamoDB or Bigtable, materialisation jobs with Spark and Airflow, streaming with Kafka and Flink, "
        "point-in-time joins, TTLs, entity keys, feature views, which gives you parity between offline and online "
        "and really improves reliability and consistency in production."))
    assert any("tool names and buzzwords" in t for t in fluent.tips), fluent.tips
    assert _grade(grader, q, seed_answers[q.id]["strong"]).overall > fluent.overall + 15
    for qid, a in seed_answers.items():  # strong answers in the candidate's own words are never told so
        assert not any("buzzwords" in t for t in _grade(grader, bank.question(qid), a["strong"]).tips), qid


def test_a_story_told_in_plain_words_covers_the_point_its_explanations_describe(bank, grader) -> None:
    # No rubric word in either sentence: what covers the points is the bank's spoken explanations.
    q = bank.question("prioritising-platform-work")
    bare = dataclasses.replace(q, key_points=tuple(dataclasses.replace(kp, explanations=()) for kp in q.key_points))
    story = {"data-driven": "I went through the on-call tickets from the last two quarters and counted how many "
                            "engineer hours each team lost waiting on the old deploy process, and that ranking "
                            "decided what we built first.",
             "stakeholder-communication": "Once we had decided, I wrote up the ranked list with the reasons, shared "
                                          "it in the platform channel and walked each team lead through why their "
                                          "request landed where it did."}
    for point, text in story.items():
        with_examples = _point(_grade(grader, q, text), point)
        without = _point(_grade(grader, bare, text), point)
        assert with_examples.verdict == "covered", (point, with_examples.strength)
        assert without.verdict != "covered" and with_examples.strength >= without.strength + 0.3, point


@pytest.mark.parametrize("qid, point, text", [
    ("model-and-data-drift", "concept-drift",  # a swap: every word is right about the other drift
     "So data drift is when the relationship between the features and the target changes, and concept drift is "
     "when the input features change. We run PSI every day."),
    ("scaling-inference-cost", "autoscaling",  # "CPU usage" for the claim's "CPU utilisation"
     "For the GPU inference service we autoscale on CPU usage, when the pods go over seventy percent CPU we add "
     "replicas, it works well as a signal."),
    ("feature-store", "point-in-time",  # "attach" for the claim's "join"
     "When we build a training set we simply take whatever the feature values are today and attach them to the "
     "old labels, that's simpler and it works fine for us."),
])
def test_a_misconception_said_in_the_candidates_own_words_is_caught(bank, grader, qid, point, text) -> None:
    result = _point(_grade(grader, bank.question(qid), text), point)
    assert result.verdict == "incorrect", (result.verdict, result.strength)
    assert result.correction and result.evidence is not None and result.evidence.quote in text


def test_a_right_definition_is_not_read_as_its_neighbours_wrong_one(bank, grader) -> None:
    # "data drift is when the inputs shift" is the wrong definition of concept drift, word for word,
    # and the right definition of data drift: the rubric term it names decides.
    text = ("Um, data drift is when the distribution of inputs shifts away from the training data, and I'd catch it "
            "with a PSI check per feature.")
    feedback = _grade(grader, bank.question("model-and-data-drift"), text)
    assert not [k.key_point_id for k in feedback.key_points if k.verdict == "incorrect"]
    assert _point(feedback, "data-drift").verdict == "covered"


def test_a_stretch_that_sounds_like_a_known_mistake_is_no_evidence(bank) -> None:
    # Close to "skew only appears over time, as live data drifts" without saying it plainly enough
    # to be called wrong: the candidate is not told so, but it must not count for the definition.
    q = bank.question("training-serving-skew")
    text = ("Training-serving skew basically builds up after launch, as the live customers drift further away from "
            "the training data month by month, so the gap keeps growing.")
    graders = {name: OfflineGrader(scorer=ContentScorer(misconceptions=options)) for name, options in
               (("suspects", MisconceptionOptions()), ("no suspects", MisconceptionOptions(suspect_similarity=2.0)))}
    graded = {name: _grade(g, q, text) for name, g in graders.items()}
    assert not [k for k in graded["suspects"].key_points if k.verdict == "incorrect"]
    with_rule, without = (_point(graded[n], "definition").strength for n in ("suspects", "no suspects"))
    assert with_rule <= without - 0.1, (with_rule, without)


def test_a_swapped_definition_as_close_to_the_right_one_as_the_wrong_one_is_caught(bank) -> None:
    # Only the pairing is wrong, so the stretch is nearly as close to the right definition as to the
    # wrong one; saying the wrong pairing almost word for word is what gives it away.
    q = bank.question("model-and-data-drift")
    text = ("Data drift means the relationship between inputs and the target changes, while concept drift is just "
            "the inputs shifting.")
    default = _point(_grade(OfflineGrader(), q, text), "concept-drift")
    rule_off = OfflineGrader(scorer=ContentScorer(misconceptions=MisconceptionOptions(close_similarity=2.0)))
    assert default.verdict == "incorrect" and default.correction, default.verdict
    assert _point(_grade(rule_off, q, text), "concept-drift").verdict != "incorrect"


def test_a_concession_before_a_turn_is_not_the_claim(bank, grader, monkeypatch) -> None:
    # "Everything can be green ... and still the model is wrong" is the right point, set up by
    # conceding what the claim says; the same words without the turn are the claim.
    from voice_interviewer.scoring import misconceptions

    q = bank.question("mlops-vs-devops")
    conceded = "Everything can be green, uptime, latency, error rate, and still the model is wrong half the time."
    claimed = "We monitor it like any microservice, latency, errors, uptime, and if those are fine the model is fine."
    assert _point(_grade(grader, q, conceded), "silent-degradation").verdict != "incorrect"
    assert _point(_grade(grader, q, claimed), "silent-degradation").verdict == "incorrect"
    monkeypatch.setattr(misconceptions, "_after_turn", lambda *args: None)
    assert _point(_grade(grader, q, conceded), "silent-degradation").verdict == "incorrect"


def test_a_claim_in_other_words_than_its_wordings_share_is_still_about_the_claim(bank, grader, monkeypatch) -> None:
    # The candidate names too few of the words the claim's wordings share ("fit", "scaler"), but says
    # two of one wording's own words beyond its subject and the question: that is enough to look closer.
    from voice_interviewer.scoring import misconceptions

    q = bank.question("data-leakage")
    text = ("We scale and impute over all the rows first, then do the train test split, it's only preprocessing so "
            "it doesn't leak anything.")
    assert _point(_grade(grader, q, text), "preprocessing-fit").verdict == "incorrect"
    topic_only = misconceptions._about_claim

    def by_topic(mc, stems, own, subject, asked, options):
        return topic_only(mc, stems, set(), subject, asked, options)

    monkeypatch.setattr(misconceptions, "_about_claim", by_topic)
    assert _point(_grade(grader, q, text), "preprocessing-fit").verdict != "incorrect"
