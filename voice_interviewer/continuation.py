"""Going on with an interrupted session on another server: its plan, and what its first sitting did.

A server that dies mid-interview leaves the session ``interrupted`` (its peers mark it,
see :mod:`voice_interviewer.store.lease`). The candidate may then send ``start`` with
``continue_session`` to any server: this module claims the session in the store and
rebuilds what :class:`~voice_interviewer.interview.Interview` needs to go on — the
stored role and settings, the questions already asked (not asked again) and the
grades already given (they count in the final report).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from .bank import Bank
from .errors import VoiceInterviewerError
from .plan import InterviewSettings
from .report import QuestionResult
from .scoring.feedback import Feedback
from .store import SessionStore
from .transcript import Transcript

INTERVIEWER_KINDS = ("rubric", "llm")


@dataclass(frozen=True)
class ContinuedPlan:
    """Everything an :class:`~voice_interviewer.interview.Interview` needs to continue ``session_id``."""

    session_id: str
    bank: Bank
    settings: InterviewSettings
    asked: frozenset[str]
    prior_results: tuple[QuestionResult, ...]


def continue_plan(store: SessionStore, session_id: str, load_bank: Callable[[str], Bank]) -> ContinuedPlan:
    """Claim the interrupted session ``session_id`` and rebuild its plan; blocking (database, bank files).

    Raises:
        SessionNotFoundError / StoreError: it cannot be continued (the message says why).
        VoiceInterviewerError: its role or questions are no longer in the bank; the session
            is left interrupted, as it was.
    """
    c = store.continue_session(session_id)
    sid = c.row["id"]
    try:
        bank = load_bank(c.row["role"])
        stored = json.loads(c.row["settings_json"])
        ids = tuple(q["id"] for q in json.loads(c.row["questions_json"]))
        interviewer = c.row["interviewer"] if c.row["interviewer"] in INTERVIEWER_KINDS else "rubric"
        settings = InterviewSettings(role=c.row["role"], question_ids=ids, questions=max(1, len(ids)),
                                     order=stored.get("order", "by-round"), timer_s=stored.get("timer_s"),
                                     max_follow_ups=int(stored.get("max_follow_ups", 1)), interviewer=interviewer)
        prior = []
        for qid in c.asked:
            question = bank.question(qid)
            feedback = c.feedback.get(qid)
            prior.append(QuestionResult(question, tuple(Transcript(t) for t in c.answers.get(qid, [])), (),
                                        Feedback.from_dict(feedback) if feedback else None))
        return ContinuedPlan(sid, bank, settings, frozenset(c.asked), tuple(prior))
    except VoiceInterviewerError:
        store.records.end_session(sid, "interrupted", time.time())  # give it back as it was
        raise
