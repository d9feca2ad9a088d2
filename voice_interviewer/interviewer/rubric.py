"""The offline interviewer: probe the most important key point the answer missed.

Rules, in order: never exceed the follow-up budget; if an answer was empty, do not
follow up (the candidate had nothing to say, and asking again would feel like
nagging); a point the candidate got *wrong* comes first — an interviewer's first job
is to catch a confident misconception, so the follow-up quotes it back ("You said …;
walk me through that again"), heaviest such point first; otherwise never probe a key
point that is covered (by the main answer or an earlier follow-up answer) or already
probed, and among the rest pick the highest-weight key point that has a follow-up
written for it (ties: the one the answer came closest to, since a half-made point is
the most natural thing to dig into).
"""

from __future__ import annotations

from ..scoring.feedback import KeyPointResult
from .base import FollowUpDecision, TurnContext

MAX_QUOTED_WORDS = 14


def _spoken_quote(text: str) -> str:
    """A quote short enough to say back aloud."""
    ws = text.split()
    return " ".join(ws) if len(ws) <= MAX_QUOTED_WORDS else " ".join(ws[:MAX_QUOTED_WORDS]) + " …"


def _challenge(ctx: TurnContext, wrong: KeyPointResult) -> FollowUpDecision:
    """Quote the wrong claim back and ask for the reasoning, then the bank's probe of that point."""
    said = f'You said "{_spoken_quote(wrong.evidence.quote)}". ' if wrong.evidence else ""
    probe = next((f.text for f in ctx.question.follow_ups if f.key_point == wrong.key_point_id), "")
    ask = f"Walk me through that again. {probe}" if probe else "Walk me through that again: how does it work, and why?"
    return FollowUpDecision(text=said + ask, key_point_id=wrong.key_point_id, source="rubric")


def choose_follow_up(ctx: TurnContext) -> FollowUpDecision | None:
    """Pure decision used by the rubric policy and as the LLM policy's fallback."""
    if ctx.follow_ups_left <= 0 or not ctx.answers or not ctx.answers[-1].text.strip():
        return None
    wrong = [k for k in ctx.coverage if k.verdict == "incorrect" and k.key_point_id not in ctx.probed]
    if wrong:
        return _challenge(ctx, max(wrong, key=lambda k: k.weight))
    covered = {k.key_point_id for k in ctx.coverage if k.covered}
    strength = {k.key_point_id: k.strength for k in ctx.coverage}
    candidates = [
        f for f in ctx.question.follow_ups
        if f.key_point not in covered and f.key_point not in ctx.probed
    ]
    if not candidates:
        return None
    best = max(
        candidates,
        key=lambda f: (ctx.question.key_point(f.key_point).weight, strength.get(f.key_point, 0.0)),
    )
    return FollowUpDecision(text=best.text, key_point_id=best.key_point, source="rubric")


class RubricInterviewer:
    """Follow-ups straight from the bank; no network, instant."""

    name = "rubric"

    async def follow_up(self, ctx: TurnContext) -> FollowUpDecision | None:
        return choose_follow_up(ctx)

    async def transition(self, ctx: TurnContext) -> str | None:
        return None
