"""Shared fixtures: where the real recordings are, and one scalable time unit.

Real speech comes from ``../shared/data/speech`` (never copied into the repo);
``VI_SHARED_DATA`` points elsewhere if the checkout lives somewhere else.
Every timeout in the tests is a multiple of ``UNIT_S`` so a slow machine can
scale them all at once with ``VI_TEST_TIME_SCALE``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT_S = float(os.environ.get("VI_TEST_TIME_SCALE", "1.0"))


def shared_data_dir() -> Path:
    env = os.environ.get("VI_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def rubric_vector_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One rubric-vector folder for the run (servers started by tests inherit it), never the user's."""
    from voice_interviewer.scoring.vector_cache import ENV_CACHE

    folder = tmp_path_factory.mktemp("rubric-vectors")
    os.environ[ENV_CACHE] = str(folder)
    return folder


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    d = shared_data_dir() / "speech"
    if not (d / "manifest.jsonl").exists():
        pytest.fail(f"real speech data not found at {d}; set VI_SHARED_DATA to the shared data folder")
    return d


@pytest.fixture(scope="session")
def speech_clips(speech_dir: Path) -> list[dict]:
    """Manifest rows with ``path`` resolved to an absolute file."""
    rows = [json.loads(line) for line in (speech_dir / "manifest.jsonl").read_text().splitlines() if line.strip()]
    for r in rows:
        r["path"] = str(speech_dir / r["audio"])
    return rows


@pytest.fixture(scope="session")
def asag_csv() -> Path:
    return shared_data_dir() / "asag" / "dev.csv"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL server for the whole run (see ``tests/postgres.py``); fails if it cannot run."""
    from tests.postgres import missing_requirement, start_postgres

    problem = missing_requirement()
    if problem:
        pytest.fail(problem, pytrace=False)
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """Run a store test on each backend: None is the default SQLite file, else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_server").new_database()
