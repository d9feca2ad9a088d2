"""``voice-interviewer grade`` through a real subprocess: both line forms and a malformed line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, UNIT_S

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voice_interviewer", "grade", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120 * UNIT_S)


def test_grade_both_forms_and_a_malformed_line(tmp_path: Path) -> None:
    rows = [
        {"question_id": "model-and-data-drift",
         "answer": "Um, data drift is when the distribution of inputs shifts away from the training data, and I'd "
                   "catch it with a PSI check per feature and retrain on recent data when it fires.",
         "words": [{"text": "Um,", "start_s": 0.2, "end_s": 0.4}, {"text": "data", "start_s": 0.6, "end_s": 0.9}],
         "duration_s": 9.5},
        {"question": "Why do objects float in water?",
         "reference": "An object floats when the buoyant force from the water it displaces equals its weight, which "
                      "happens when its average density is lower than the density of water.",
         "answer": "Because they are less dense than water, so the water pushed aside pushes back up with a force "
                   "equal to their weight."},
        {"question": "Why do objects float in water?", "answer": 42},
    ]
    lines = [json.dumps(r) for r in rows[:2]] + ["{not json"] + [json.dumps(rows[2])]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"

    proc = _run(str(src), "-o", str(out), "--role", "mlops-engineer")

    assert proc.returncode == 1, proc.stderr
    results = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == 4
    bank_row, ref_row, bad_json, bad_field = results
    for r, src_row in ((bank_row, rows[0]), (ref_row, rows[1])):
        assert "error" not in r
        assert all(r[k] == v for k, v in src_row.items())  # input fields are kept
        assert 0.0 < r["score"] <= 1.0 and r["score"] == round(r["feedback"]["overall"] / 100, 4)
        assert len(r["feedback"]["tips"]) <= 4
        assert all(k["verdict"] in ("covered", "partial", "missed", "incorrect") for k in r["feedback"]["key_points"])
    covered = {k["key_point_id"] for k in bank_row["feedback"]["key_points"] if k["covered"]}
    assert "data-drift" in covered
    assert bank_row["feedback"]["delivery"]["duration_s"] is not None  # timed words make it a spoken answer
    assert bad_json["line"] == 3 and "line 3" in bad_json["error"] and "JSON" in bad_json["error"]
    assert "line 4" in bad_field["error"] and "'answer'" in bad_field["error"] and "int" in bad_field["error"]
    assert "line 3" in proc.stderr and "line 4" in proc.stderr


def test_grade_reports_a_missing_input_file(tmp_path: Path) -> None:
    proc = _run(str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2
    assert "nope.jsonl" in proc.stderr and "does not exist" in proc.stderr


def test_grade_rejects_an_unknown_bank_question(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"question_id": "no-such-question", "answer": "Something."}) + "\n")
    proc = _run(str(src))
    assert proc.returncode == 1
    row = json.loads(proc.stdout.splitlines()[0])
    assert "line 1" in row["error"] and "question_id" in row["error"] and "no-such-question" in row["error"]


def test_grade_places_a_json_error_on_its_own_line_and_column(tmp_path: Path) -> None:
    truncated = '{"question": "Why?", "answer": "x"'  # the closing brace is missing: the error is at its end
    trailing = '{"question": "Why?", "answer": "x",}'  # column 36 is the stray closing brace
    src = tmp_path / "in.jsonl"
    src.write_text(f"{truncated}\n{trailing}\n", encoding="utf-8")
    proc = _run(str(src))
    assert proc.returncode == 1
    first, second = (json.loads(x)["error"] for x in proc.stdout.splitlines())
    assert first == (f"line 1: not valid JSON (Expecting ',' delimiter at column {len(truncated) + 1}, "
                     "the end of the line)")
    assert second == f"line 2: not valid JSON (Expecting property name enclosed in double quotes at column " \
                     f"{trailing.index('}') + 1})"
