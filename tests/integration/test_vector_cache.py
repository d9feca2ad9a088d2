"""Rubric vectors on disk: a new process grades without re-embedding the rubric, and a bad or
unwritable cache costs speed, never a grade. Real embedding model, real files."""

from __future__ import annotations

import numpy as np
import pytest

from voice_interviewer.scoring.content import ContentScorer
from voice_interviewer.scoring.embed import load_embedder
from voice_interviewer.scoring.grader import OfflineGrader
from voice_interviewer.scoring.vector_cache import ENV_CACHE
from voice_interviewer.transcript import Transcript

pytestmark = pytest.mark.slow

ANSWER = Transcript("A feature store keeps one definition of each feature, so training reads point-in-time "
                    "correct history and serving reads the latest value from a fast online store.")


def _new_process_grader():
    """A grader with its own model and an empty memory cache, as in a freshly started process;
    it records every text it has to run through the model."""
    embedder = load_embedder()
    seen: list[str] = []
    compute = embedder._encode_uncached

    def recording(texts):
        seen.extend(texts)
        return compute(texts)

    embedder._encode_uncached = recording  # type: ignore[method-assign]
    return OfflineGrader(scorer=ContentScorer(embedder=embedder)), seen


def test_a_new_process_reads_the_rubric_vectors_the_last_one_stored(bank, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_CACHE, str(tmp_path))
    q = bank.question("feature-store")
    first, first_seen = _new_process_grader()
    before = first.grade_sync(q, [ANSWER])
    stored = list((tmp_path / "vectors").glob("*.npy"))
    assert len(stored) == 1
    second, second_seen = _new_process_grader()
    after = second.grade_sync(q, [ANSWER])
    rubric = {kp.statement.lower() for kp in q.key_points} | {q.text.lower()}
    assert len(second_seen) < len(first_seen) / 3, (len(second_seen), len(first_seen))
    assert not rubric & {t.lower() for t in second_seen}
    assert after.overall == pytest.approx(before.overall, abs=0.01)
    assert [k.verdict for k in after.key_points] == [k.verdict for k in before.key_points]


def test_a_corrupt_vector_file_is_recomputed_and_replaced(bank, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_CACHE, str(tmp_path))
    q = bank.question("feature-store")
    reference = OfflineGrader(scorer=ContentScorer(embedder=load_embedder())).grade_sync(q, [ANSWER])
    (path,) = (tmp_path / "vectors").glob("*.npy")
    path.write_bytes(b"not a numpy file")
    graded = OfflineGrader(scorer=ContentScorer(embedder=load_embedder())).grade_sync(q, [ANSWER])
    assert graded.overall == pytest.approx(reference.overall, abs=0.01)
    assert np.load(path).shape[1] == 384  # rewritten whole


def test_a_cache_folder_that_cannot_be_written_still_grades(bank, tmp_path, monkeypatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv(ENV_CACHE, str(blocked))
    q = bank.question("feature-store")
    graded = OfflineGrader(scorer=ContentScorer(embedder=load_embedder())).grade_sync(q, [ANSWER])
    assert graded.key_points and 0 <= graded.overall <= 100
    assert blocked.read_text() == "a file where the cache folder should be"  # left as it was
