"""Plain-text rendering of feedback, reveals and reports (terminal channels share it)."""

from __future__ import annotations

import textwrap

from ..bank import Question
from ..report import SessionReport
from ..review import AttemptNote, ReviewRequest
from ..scoring.feedback import VERDICT_LABELS, Feedback

VERDICT_MARKS = {"covered": "✓", "partial": "~", "missed": "✗", "incorrect": "!"}


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent)


def render_feedback(question: Question, fb: Feedback) -> str:
    lines = [f"Feedback — score {fb.overall:.0f}/100 (content {fb.content_score * 100:.0f}%, graded {fb.grader})"]
    for k in fb.key_points:
        lines.append(_wrap(f"{VERDICT_MARKS[k.verdict]} {VERDICT_LABELS[k.verdict]}: {k.statement}", "  "))
        if k.evidence and k.verdict != "missed":
            lines.append(_wrap(f'you said: "{k.evidence.quote}"', "      "))
        if k.verdict == "incorrect" and k.correction:
            lines.append(_wrap(f"correction: {k.correction}", "      "))
    d = fb.delivery
    parts = [f"{d.word_count} words"]
    if d.words_per_minute is not None:
        parts.append(f"{d.words_per_minute:.0f} wpm")
    if d.fillers_per_minute is not None:
        parts.append(f"{d.fillers_per_minute:.1f} fillers/min")
    elif d.filler_count:
        parts.append(f"{d.filler_count} fillers")
    if d.long_pauses:
        parts.append(f"{len(d.long_pauses)} long pause(s)")
    if d.star:
        parts.append("STAR: " + " ".join(p[0].upper() if ok else "·" for p, ok in d.star.items()))
    lines.append("  Delivery: " + ", ".join(parts))
    if fb.tips:
        lines.append("  Tips:")
        lines += [_wrap(f"- {t}") for t in fb.tips]
    return "\n".join(lines)


def render_attempt(note: AttemptNote) -> str:
    """The line(s) above a retried answer's feedback: the score's move and the points gained or lost."""
    c = note.comparison
    if c is None:
        return f"Attempt {note.number}"
    lines = [f"Attempt {c.attempt} — score {c.previous_score:.0f} → {c.score:.0f} ({c.score_change:+.0f}) "
             f"since attempt {c.previous_attempt}"]
    for label, changes in (("Gained", c.gained), ("Lost", c.lost)):
        for ch in changes:
            lines.append(_wrap(f"{label}: {ch.statement} ({VERDICT_LABELS[ch.before].lower()} → "
                               f"{VERDICT_LABELS[ch.after].lower()})", "  "))
    if not c.gained and not c.lost:
        lines.append("  Same key points as before.")
    return "\n".join(lines)


def review_prompt(request: ReviewRequest, next_key: str, retry_key: str, stop_key: str) -> str:
    """What the candidate can do after reading a question's feedback."""
    onward = "see the report" if request.last else "next question"
    return f"[{next_key} = {onward} · {retry_key} = try this question again · {stop_key} = end]"


def render_reveal(question: Question) -> str:
    return "What a strong answer covers:\n" + _wrap(question.strong_answer, "  ")


def render_report(report: SessionReport) -> str:
    data = report.to_dict()
    ran = data["ran"]
    lines = [f"Session report — {report.role_title}: overall {report.overall if report.overall is not None else '—'}",
             f"  Interviewer: {ran['interviewer']} · grader: {ran['grader']}"]
    if early := data["ended_early"]:
        lines.append(_wrap(early, "  "))
    for r in report.rounds:
        avg = f"{r.average_score:.0f}" if r.average_score is not None else "—"
        lines.append(f"  {r.title}: {avg} ({r.answered}/{r.questions} answered)")
    for q in report.questions:
        score = "skipped" if q["skipped"] else (f"{q['score']:.0f}" if q["score"] is not None else "—")
        lines.append(f"  [{score}] {q['text']}")
    lines += [f"  [not reached] {q['text']} ({q['round_title']})" for q in report.not_reached]
    d = report.delivery
    if d.get("words_per_minute"):
        lines.append(f"  Pace: {d['words_per_minute']:.0f} wpm; fillers/min: {d.get('fillers_per_minute') or 0:.1f}")
    if report.top_tips:
        lines.append("  Top tips:")
        lines += [_wrap(f"- {t}") for t in report.top_tips]
    return "\n".join(lines)
