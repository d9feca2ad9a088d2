"""Fixtures the scorer tests share: the shipped bank, one offline grader and the seed answers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from voice_interviewer.bank import Bank, load_role
from voice_interviewer.scoring.grader import OfflineGrader

SEED_ANSWERS = Path(__file__).resolve().parent.parent / "data" / "answers" / "seed_answers.yaml"


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_role("mlops-engineer")


@pytest.fixture(scope="module")
def grader() -> OfflineGrader:
    return OfflineGrader()


@pytest.fixture(scope="module")
def seed_answers() -> dict:
    """Strong, vague and off-topic spoken answers to the seed questions."""
    return yaml.safe_load(SEED_ANSWERS.read_text(encoding="utf-8"))
