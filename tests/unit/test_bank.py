"""Rubric banks: the shipped MLOps bank, precise problems for broken files, and the CLI.

Broken-file tests start from one small valid bank, change one thing, and assert the
exact problem (file, line, field, message fragment), because a bank author fixes
files from those three coordinates alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from voice_interviewer.bank import STAR_PARTS, Bank, load_bank, parse_bank
from voice_interviewer.errors import BankError, BankProblem

UNIT_S = float(os.environ.get("VI_TEST_TIME_SCALE", "1.0"))
FILE = "broken.yaml"

ROUND_IDS = ["fundamentals", "pipelines", "deployment", "scenario"]
SEED_IDS = {
    1: "mlops-vs-devops", 2: "ml-lifecycle", 3: "batch-vs-realtime-serving", 4: "model-and-data-drift",
    5: "feature-store", 6: "versioning-reproducibility", 7: "online-vs-offline-features", 8: "ci-cd-for-ml",
    9: "monitoring-beyond-service-metrics", 10: "champion-challenger-shadow", 11: "scaling-inference-cost",
    12: "degraded-model-story",
}


# ---------------------------------------------------------------------------
# The shipped bank
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bank(repo_root: Path) -> Bank:
    return load_bank(repo_root / "rubrics" / "mlops-engineer.yaml")


def _seed_questions(path: Path) -> dict[int, str]:
    """Number -> question text from the numbered list under "The 12 most-asked questions".

    A trailing parenthesised note such as "(behavioural: a story)" describes the
    question; it is not part of what the interviewer says.
    """
    text = path.read_text(encoding="utf-8")
    section = text.split("## The 12 most-asked questions", 1)[1].split("\n## ", 1)[0]
    seeds = {}
    for line in section.splitlines():
        m = re.match(r"^(\d+)\.\s+(.*?)(?:\s+\([^()]*\))?\s*$", line)
        if m:
            seeds[int(m[1])] = m[2]
    return seeds


def test_shipped_bank_has_the_four_rounds_in_order(bank: Bank) -> None:
    assert bank.role == "mlops-engineer"
    assert bank.title == "MLOps Engineer"
    assert [r.id for r in bank.rounds] == ROUND_IDS
    assert all(r.description for r in bank.rounds)


def test_shipped_bank_has_enough_questions_in_every_round(bank: Bank) -> None:
    assert len(bank.questions) >= 30
    for round_id in ROUND_IDS:
        assert len(bank.in_round(round_id)) >= 6, round_id


def test_seed_questions_are_present_word_for_word(bank: Bank, repo_root: Path) -> None:
    expected = _seed_questions(repo_root.parent / "shared" / "SEED_QUESTIONS.md")
    assert sorted(expected) == list(range(1, 13))
    by_seed = {q.seed: q for q in bank.questions if q.seed is not None}
    assert sorted(by_seed) == list(range(1, 13))
    for number, text in expected.items():
        assert by_seed[number].text == text, f"seed {number}"
        assert by_seed[number].id == SEED_IDS[number]
    assert by_seed[12].is_behavioural


def test_every_follow_up_probes_an_existing_key_point(bank: Bank) -> None:
    for q in bank.questions:
        ids = {kp.id for kp in q.key_points}
        assert 2 <= len(q.follow_ups) <= 4, q.id
        for f in q.follow_ups:
            assert f.key_point in ids, (q.id, f.key_point)


def test_behavioural_questions_have_every_star_part(bank: Bank) -> None:
    behavioural = [q for q in bank.questions if q.is_behavioural]
    assert len([q for q in behavioural if q.round == "scenario"]) >= 3
    for q in behavioural:
        assert q.star is not None and set(q.star) == set(STAR_PARTS), q.id
        assert all(len(part) >= 20 for part in q.star.values()), q.id
    assert all(q.star is None for q in bank.questions if not q.is_behavioural)


def test_shipped_bank_meets_the_authoring_guidelines(bank: Bank) -> None:
    """The bar in docs/rubrics.md, tighter than what the loader accepts."""
    assert 40 <= len(bank.vocabulary) <= 100
    assert len(set(bank.vocabulary)) == len(bank.vocabulary)
    assert {"MLflow", "Kubernetes", "Kubeflow", "Feast", "Kolmogorov-Smirnov"} <= set(bank.vocabulary)
    assert len({q.id for q in bank.questions}) == len(bank.questions)
    for q in bank.questions:
        assert 90 <= q.answer_time_s <= 240, q.id
        assert 3 <= len(q.key_points) <= 7, q.id
        assert max(kp.weight for kp in q.key_points) == 3, q.id
        for kp in q.key_points:
            assert kp.weight in (1, 2, 3), (q.id, kp.id)
            assert 4 <= len(kp.phrasings) <= 12, (q.id, kp.id)
            assert len(set(kp.phrasings)) == len(kp.phrasings), (q.id, kp.id)
            assert kp.tip, (q.id, kp.id)
        for f in q.follow_ups:
            # Spoken aloud: one short question.
            assert f.text.endswith("?") and f.text.count("?") == 1, (q.id, f.text)
            assert len(f.text.split()) <= 30, (q.id, f.text)
        assert len({f.key_point for f in q.follow_ups}) == len(q.follow_ups), q.id


# ---------------------------------------------------------------------------
# Broken files: one change to a valid bank, one precise problem
# ---------------------------------------------------------------------------

VALID = """\
role: demo-role
title: Demo Role
rounds:
  - id: basics
    title: Basics
questions:
  - id: q-one
    round: basics
    text: What is a feature store for?
    difficulty: easy
    answer_time_s: 120
    strong_answer: It keeps training and serving features consistent.
    key_points:
      - id: consistency
        weight: 3
        statement: Same features in training and serving.
        phrasings: [training-serving skew, same features]
        tip: Say it removes training-serving skew.
      - id: point-in-time
        weight: 2
        statement: Point-in-time correct joins.
        phrasings: [point-in-time join]
      - id: online-store
        weight: 1
        statement: A low-latency online store.
        phrasings: [Redis, online store]
    follow_ups:
      - probes: consistency
        text: Why would features differ between training and serving?
      - probes: online-store
        text: Where do the features live at serving time?
"""

SECOND_QUESTION = """\
  - id: q-one
    round: basics
    text: What is model drift, and how do you see it?
    difficulty: medium
    answer_time_s: 150
    strong_answer: Drift is a change in data or concept over time.
    key_points:
      - id: a
        weight: 1
        statement: A.
        phrasings: [a]
      - id: b
        weight: 1
        statement: B.
        phrasings: [b]
      - id: c
        weight: 1
        statement: C.
        phrasings: [c]
    follow_ups:
      - probes: a
        text: Could you tell me more about a?
      - probes: b
        text: Could you tell me more about b?
"""


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} occurs {len(hits)} times"
    return hits[occurrence - 1]


def _problems(text: str) -> list[BankProblem]:
    with pytest.raises(BankError) as info:
        parse_bank(text, FILE)
    return info.value.problems


def _only_problem(text: str, line: int | None, field: str, fragment: str) -> BankProblem:
    problems = _problems(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    p = problems[0]
    assert (p.file, p.line, p.field) == (FILE, line, field), str(p)
    assert fragment in p.message, str(p)
    return p


def test_the_valid_template_parses() -> None:
    bank = parse_bank(VALID, FILE)
    q = bank.question("q-one")
    assert [kp.id for kp in q.key_points] == ["consistency", "point-in-time", "online-store"]
    assert q.key_point("consistency").weight == 3.0
    assert q.kind == "technical" and q.star is None and q.seed is None


def test_missing_field_points_at_the_question() -> None:
    text = _swap(VALID, "    difficulty: easy\n", "")
    _only_problem(text, _line(text, "- id: q-one"), "questions[q-one].difficulty", "required field is missing")


def test_wrong_type_names_the_value_received() -> None:
    text = _swap(VALID, "answer_time_s: 120", "answer_time_s: soon")
    p = _only_problem(text, _line(text, "answer_time_s"), "questions[q-one].answer_time_s",
                      "expected a whole number")
    assert "'soon'" in p.message


def test_mapping_where_text_belongs_is_a_wrong_type() -> None:
    text = _swap(VALID, "    title: Basics\n", "    title:\n      en: Basics\n")
    _only_problem(text, _line(text, "en: Basics"), "rounds[0].title", "expected text, got a mapping")


def test_out_of_range_weight_states_the_range() -> None:
    text = _swap(VALID, "weight: 3", "weight: 12")
    p = _only_problem(text, _line(text, "weight: 12"), "questions[q-one].key_points[0].weight", "12 is outside")
    assert "0.1..10" in p.message


def test_unknown_round_lists_the_declared_ones() -> None:
    text = _swap(VALID, "round: basics", "round: advanced")
    p = _only_problem(text, _line(text, "round: advanced"), "questions[q-one].round",
                      "'advanced' is not a declared round")
    assert "declared: basics" in p.message


def test_follow_up_probing_an_unknown_key_point() -> None:
    text = _swap(VALID, "probes: online-store", "probes: latency")
    p = _only_problem(text, _line(text, "probes: latency"), "questions[q-one].follow_ups[1].probes",
                      "'latency' is not a key point of this question")
    assert "consistency, online-store, point-in-time" in p.message


def test_duplicate_question_id() -> None:
    text = VALID + SECOND_QUESTION
    _only_problem(text, _line(text, "- id: q-one", occurrence=2), "questions[q-one].id",
                  "duplicate question id 'q-one'")


def test_duplicate_key_point_id_points_at_the_second_one() -> None:
    text = _swap(VALID, "- id: point-in-time", "- id: consistency")
    _only_problem(text, _line(text, "- id: consistency", occurrence=2), "questions[q-one].key_points[1].id",
                  "duplicate key point id 'consistency'")


def test_duplicate_key_point_after_an_invalid_one_keeps_its_own_index() -> None:
    text = _swap(VALID, "weight: 2", "weight: heavy")
    text = _swap(text, "- id: online-store", "- id: consistency")
    text = _swap(text, "probes: online-store", "probes: point-in-time")
    problems = _problems(text)
    assert [(p.line, p.field) for p in problems] == [
        (_line(text, "weight: heavy"), "questions[q-one].key_points[1].weight"),
        (_line(text, "- id: consistency", occurrence=2), "questions[q-one].key_points[2].id"),
    ]


def test_follow_up_probing_an_invalid_key_point_is_not_reported_twice() -> None:
    text = _swap(VALID, "weight: 1\n", "weight: 0\n")
    _only_problem(text, _line(text, "weight: 0"), "questions[q-one].key_points[2].weight", "outside the allowed range")


def test_duplicate_round_id() -> None:
    text = _swap(VALID, "    title: Basics\n", "    title: Basics\n  - id: basics\n    title: Again\n")
    _only_problem(text, _line(text, "- id: basics", occurrence=2), "rounds[1].id", "duplicate round id 'basics'")


def test_too_few_key_points() -> None:
    text = _swap(VALID, "      - id: online-store\n        weight: 1\n        statement: A low-latency online store.\n"
                        "        phrasings: [Redis, online store]\n", "")
    text = _swap(text, "probes: online-store", "probes: point-in-time")
    p = _only_problem(text, _line(text, "- id: consistency"), "questions[q-one].key_points", "has 2 key points")
    assert "3 to 7" in p.message


def test_unknown_field_lists_the_allowed_ones() -> None:
    text = _swap(VALID, "    difficulty: easy\n", "    difficulty: easy\n    level: senior\n")
    p = _only_problem(text, _line(text, "level: senior"), "questions[q-one].level", "unknown field")
    assert "answer_time_s" in p.message and "strong_answer" in p.message


def test_invalid_yaml_reports_the_line_of_the_syntax_error() -> None:
    # The classic authoring slip: an unquoted ": " inside a question's text.
    text = _swap(VALID, "text: What is a feature store for?", "text: Feature stores: what are they for?")
    _only_problem(text, _line(text, "Feature stores: what"), "<yaml>", "not valid YAML")


def test_behavioural_question_without_star_parts() -> None:
    text = _swap(VALID, "    difficulty: easy\n", "    difficulty: easy\n    kind: behavioural\n")
    p = _only_problem(text, _line(text, "- id: q-one"), "questions[q-one].star",
                      "behavioural questions need STAR parts")
    assert "situation, task, action, result" in p.message


def test_behavioural_question_with_a_missing_star_part() -> None:
    star = ("    kind: behavioural\n    star:\n      situation: The context.\n      task: Your job.\n"
            "      action: What you did.\n")
    text = _swap(VALID, "    difficulty: easy\n", "    difficulty: easy\n" + star)
    _only_problem(text, _line(text, "situation: The context."), "questions[q-one].star.result",
                  "required field is missing")


def test_star_parts_on_a_technical_question() -> None:
    text = _swap(VALID, "    difficulty: easy\n", "    difficulty: easy\n    star:\n      situation: x\n")
    _only_problem(text, _line(text, "star:"), "questions[q-one].star", "only for kind: behavioural")


def test_empty_file() -> None:
    _only_problem("", 1, "<root>", "the file is empty")
    _only_problem("# nothing here yet\n", 1, "<root>", "the file is empty")


def test_null_text_is_not_read_as_the_word_null() -> None:
    text = _swap(VALID, "statement: Point-in-time correct joins.", "statement: null")
    _only_problem(text, _line(text, "statement: null"), "questions[q-one].key_points[1].statement",
                  "expected text, got an empty value")


def test_a_field_given_twice_is_reported_not_silently_overwritten() -> None:
    text = _swap(VALID, "    difficulty: easy\n", "    difficulty: easy\n    text: What else is a feature store for?\n")
    _only_problem(text, _line(text, "What else is"), "questions[q-one].text", "duplicate field")


def test_every_problem_is_reported_in_one_pass() -> None:
    text = _swap(VALID, "round: basics", "round: advanced")
    text = _swap(text, "weight: 3", "weight: 12")
    text = _swap(text, "probes: online-store", "probes: latency")
    problems = _problems(text)
    assert [(p.line, p.field) for p in problems] == [
        (_line(text, "round: advanced"), "questions[q-one].round"),
        (_line(text, "weight: 12"), "questions[q-one].key_points[0].weight"),
        (_line(text, "probes: latency"), "questions[q-one].follow_ups[1].probes"),
    ]
    assert all(p.file == FILE for p in problems)


def test_problem_text_is_file_line_field_message() -> None:
    p = BankProblem("rubrics/x.yaml", 7, "questions[a].text", "required field is missing")
    assert str(p) == "rubrics/x.yaml:7: questions[a].text: required field is missing"
    assert str(BankProblem("x.yaml", None, "<file>", "cannot read")) == "x.yaml: <file>: cannot read"


def test_unreadable_file_is_a_bank_error(tmp_path: Path) -> None:
    with pytest.raises(BankError) as info:
        load_bank(tmp_path / "missing.yaml")
    (p,) = info.value.problems
    assert (p.line, p.field) == (None, "<file>") and "cannot read" in p.message


# ---------------------------------------------------------------------------
# The CLI, through a real process
# ---------------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voice_interviewer", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60 * UNIT_S)


def test_cli_validate_broken_file_prints_every_problem_and_exits_1(tmp_path: Path, repo_root: Path) -> None:
    text = _swap(VALID, "round: basics", "round: advanced")
    text = _swap(text, "weight: 3", "weight: 12")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    result = _cli("bank", "validate", str(broken), cwd=repo_root)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"{broken}:{_line(text, 'round: advanced')}: questions[q-one].round: "
        "'advanced' is not a declared round; declared: basics",
        f"{broken}:{_line(text, 'weight: 12')}: questions[q-one].key_points[0].weight: "
        "12 is outside the allowed range 0.1..10",
    ]
    assert "ok" not in result.stdout


def test_cli_validate_shipped_bank_exits_0(repo_root: Path) -> None:
    result = _cli("bank", "validate", "rubrics/mlops-engineer.yaml", cwd=repo_root)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"rubrics/mlops-engineer\.yaml: ok — role mlops-engineer, 4 rounds, \d+ questions\n",
                        result.stdout)


def test_cli_list_prints_rounds_and_questions(repo_root: Path, bank: Bank) -> None:
    result = _cli("bank", "list", "--role", "mlops-engineer", "--ids", cwd=repo_root)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"mlops-engineer: MLOps Engineer ({len(bank.questions)} questions)\n")
    for r in bank.rounds:
        assert f"  {r.id}: {r.title} ({len(bank.in_round(r.id))})\n" in out
    for number, qid in SEED_IDS.items():
        assert f"   * {qid}: {bank.question(qid).text} [" in out, number
    assert "training-serving-skew: " in out


MISCONCEPTION = """\
        misconceptions:
          - claim: A feature store removes every cause of training-serving skew.
            says:
              - a feature store removes all training serving skew
              - with a feature store skew basically can't happen
            correction: It reduces skew by sharing one definition of each feature; upstream data can still differ.
"""


def _with_misconception(block: str) -> str:
    return _swap(VALID, "        tip: Say it removes training-serving skew.\n",
                 "        tip: Say it removes training-serving skew.\n" + block)


def test_misconceptions_parse_into_the_key_point() -> None:
    bank = parse_bank(_with_misconception(MISCONCEPTION), FILE)
    kp = bank.questions[0].key_point("consistency")
    assert len(kp.misconceptions) == 1
    mc = kp.misconceptions[0]
    assert mc.claim.startswith("A feature store removes") and len(mc.says) == 2
    assert mc.correction.startswith("It reduces skew")


def test_misconception_without_correction_is_reported_on_its_line() -> None:
    text = _with_misconception(MISCONCEPTION.replace(
        "            correction: It reduces skew by sharing one definition of each feature; upstream data can still "
        "differ.\n", ""))
    _only_problem(text, _line(text, "- claim: A feature store"), "questions[q-one].key_points[0].misconceptions[0]"
                  ".correction", "required field is missing")


def test_misconception_says_line_too_short_to_be_a_claim() -> None:
    text = _with_misconception(MISCONCEPTION.replace("              - a feature store removes all training serving "
                                                     "skew\n", "              - feature store\n"))
    _only_problem(text, _line(text, "- feature store"), "questions[q-one].key_points[0].misconceptions[0].says[0]",
                  "write the wrong claim as said")


def test_misconception_unknown_field_lists_the_allowed_ones() -> None:
    text = _with_misconception(MISCONCEPTION.replace("            correction:", "            fix: x\n"
                                                     "            correction:"))
    _only_problem(text, _line(text, "fix: x"), "questions[q-one].key_points[0].misconceptions[0].fix",
                  "allowed: claim, correction, says")


def test_every_shipped_question_lists_a_misconception_with_a_correction(bank: Bank) -> None:
    for q in bank.questions:
        found = [mc for kp in q.key_points for mc in kp.misconceptions]
        assert found, f"{q.id} has no misconception"
        assert all(mc.correction and mc.says for mc in found), q.id


EXPLANATIONS = ("        explanations:\n"
                "          - we compute each feature once and both training and serving read that same definition\n")


def test_explanations_parse_into_the_key_point() -> None:
    bank = parse_bank(_with_misconception(EXPLANATIONS), FILE)
    kp = bank.questions[0].key_point("consistency")
    assert kp.explanations == ("we compute each feature once and both training and serving read that same "
                               "definition",)


def test_an_explanation_too_short_to_explain_is_reported_on_its_line() -> None:
    text = _with_misconception("        explanations:\n          - shared feature definitions\n")
    _only_problem(text, _line(text, "- shared feature definitions"),
                  "questions[q-one].key_points[0].explanations[0]", "write one spoken sentence that explains the point")
