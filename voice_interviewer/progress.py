"""Progress across sessions: each question's scores over time, the key points most often missed,
and the weakest questions to practise next. Pure: the store hands in the graded attempts.

A candidate practising again asks three things — am I getting better at this question, what do I
keep leaving out, and what should I practise now — and this module answers exactly those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .scoring.feedback import derive_verdict

WEAKEST = 3  # questions a "practise my weakest" session asks: a short, focused session
MISSED_SHOWN = 10


@dataclass(frozen=True)
class Attempt:
    """One graded answer to one question in one session."""

    session_id: str
    role: str
    started_at: float
    question_id: str
    score: float  # 0..100
    feedback: dict[str, Any]


def _verdict(k: Mapping[str, Any]) -> str:
    return k.get("verdict") or derive_verdict(bool(k.get("covered")), bool(k.get("partial")),
                                              float(k.get("strength") or 0.0))


def summarise(attempts: list[Attempt], texts: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """Per question (oldest attempt first), the key points most often not covered, the weakest questions.

    A key point counts as missed when its verdict is anything but covered (partly covered and
    incorrect need work too). The weakest questions are those whose *latest* score is lowest: an
    old bad score that has since improved is no longer a weakness. They are chosen within one role
    (the role practised most recently), since one session asks the questions of one bank.
    """
    questions: dict[str, dict[str, Any]] = {}
    points: dict[tuple[str, str], dict[str, Any]] = {}
    for a in sorted(attempts, key=lambda a: a.started_at):
        info = texts.get(a.question_id, {})
        q = questions.setdefault(a.question_id, {
            "id": a.question_id, "role": a.role, "text": info.get("text", a.question_id),
            "round": info.get("round", ""), "attempts": []})
        q["attempts"].append({"session_id": a.session_id, "started_at": a.started_at, "score": round(a.score, 1)})
        for k in a.feedback.get("key_points") or ():
            p = points.setdefault((a.question_id, k["key_point_id"]), {
                "question_id": a.question_id, "key_point_id": k["key_point_id"], "statement": k["statement"],
                "question": q["text"], "attempts": 0, "missed": 0})
            p["attempts"] += 1
            p["missed"] += _verdict(k) != "covered"
    for q in questions.values():
        scores = [x["score"] for x in q["attempts"]]
        q.update(latest=scores[-1], best=max(scores), first=scores[0],
                 change=round(scores[-1] - scores[-2], 1) if len(scores) > 1 else None)
    missed = sorted((p for p in points.values() if p["missed"]),
                    key=lambda p: (-p["missed"] / p["attempts"], -p["missed"], p["statement"]))
    latest_role = max(attempts, key=lambda a: a.started_at).role if attempts else None
    weakest = sorted((q for q in questions.values() if q["role"] == latest_role),
                     key=lambda q: (q["latest"], -len(q["attempts"]), q["id"]))[:WEAKEST]
    return {"questions": sorted(questions.values(), key=lambda q: q["latest"]),
            "missed_key_points": missed[:MISSED_SHOWN],
            "weakest": {"role": latest_role, "question_ids": [q["id"] for q in weakest]}}
