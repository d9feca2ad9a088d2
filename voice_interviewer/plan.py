"""Choosing which questions a session asks, in which order: a pure function of bank and settings."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from .bank import Bank, Question
from .errors import ConfigError

ORDERS = ("by-round", "mixed")


@dataclass(frozen=True)
class InterviewSettings:
    """What the candidate chose for a session.

    Attributes:
        role: Bank role id (file stem under ``rubrics/``).
        rounds: Round ids to draw from; empty means all rounds.
        questions: How many questions; spread evenly over the chosen rounds.
        order: "by-round" (rounds in bank order) or "mixed" (shuffled).
        timer_s: Answer time limit; None uses each question's suggested time.
        max_follow_ups: Follow-up budget per question (0 disables follow-ups).
        question_ids: Ask exactly these questions (overrides rounds/questions).
        seed: Random seed for question choice; None picks a fresh one.
        interviewer: "rubric" (offline) or "llm".
        review: After each question's feedback, wait for the candidate to continue or to
            answer the same question again (off: the next question follows at once).
    """

    role: str = "mlops-engineer"
    rounds: tuple[str, ...] = ()
    questions: int = 4
    order: str = "by-round"
    timer_s: float | None = None
    max_follow_ups: int = 1
    question_ids: tuple[str, ...] = ()
    seed: int | None = None
    interviewer: str = "rubric"
    review: bool = False
    extra: dict = field(default_factory=dict)

    def validate(self, names: Mapping[str, str] | None = None) -> None:
        """Check the ranges; ``names`` maps a field to how the caller spells it (``timer_s`` → ``--timer``),
        so the message names what the user typed rather than this class's attribute."""
        def name(attr: str) -> str:
            return (names or {}).get(attr, attr)

        if self.order not in ORDERS:
            raise ConfigError(f"{name('order')} {self.order!r} is not one of {', '.join(ORDERS)}")
        if not (1 <= self.questions <= 100):
            raise ConfigError(f"{name('questions')} must be 1..100, got {self.questions}")
        if self.timer_s is not None and not (10 <= self.timer_s <= 1800):
            raise ConfigError(f"{name('timer_s')} must be 10..1800 seconds, got {self.timer_s:g}")
        if not (0 <= self.max_follow_ups <= 5):
            raise ConfigError(f"{name('max_follow_ups')} must be 0..5, got {self.max_follow_ups}")

    def check_bank(self, bank: Bank, names: Mapping[str, str] | None = None) -> None:
        """Check the rounds and question ids against the bank.

        Cheap and separate from planning, so an entry point can reject a typo before it
        loads any model (spoken practice takes seconds to start).
        """
        names = names or {}
        for rid in self.rounds:
            try:
                bank.round(rid)
            except ConfigError as exc:
                raise ConfigError(f"{names.get('rounds', 'rounds')} {rid}: {exc}") from None
        for qid in self.question_ids:
            try:
                bank.question(qid)
            except ConfigError as exc:
                raise ConfigError(f"{names.get('question_ids', 'question_ids')} {qid}: {exc}") from None


def plan_questions(bank: Bank, settings: InterviewSettings) -> list[Question]:
    """Pick the session's questions.

    Within a round, the role's most-asked (seed) questions come first in a by-round
    interview, because they are what a candidate most needs to rehearse; the rest
    are drawn at random so repeated sessions vary.
    """
    settings.validate()
    settings.check_bank(bank)  # raises with the list of valid rounds
    if settings.question_ids:
        return [bank.question(qid) for qid in settings.question_ids]
    rounds = list(settings.rounds) or [r.id for r in bank.rounds]
    rng = random.Random(settings.seed)
    pools: list[list[Question]] = []
    for rid in rounds:
        qs = bank.in_round(rid)
        seeds = sorted((q for q in qs if q.seed), key=lambda q: q.seed or 0)  # seed is set here
        others = [q for q in qs if not q.seed]
        rng.shuffle(others)
        if settings.order == "mixed":
            rng.shuffle(seeds)
        pools.append(seeds + others)
    chosen_per_round: list[list[Question]] = [[] for _ in pools]
    remaining = min(settings.questions, sum(len(p) for p in pools))
    i = 0
    while remaining:
        pool = pools[i % len(pools)]
        if pool:
            chosen_per_round[i % len(pools)].append(pool.pop(0))
            remaining -= 1
        i += 1
    chosen = [q for group in chosen_per_round for q in group]
    if settings.order == "mixed":
        rng.shuffle(chosen)
    return chosen
