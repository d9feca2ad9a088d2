"""Session exports: a self-contained HTML report, JSON and Markdown, from a stored session.

Every function takes the plain session document of :meth:`SessionStore.get`, so exports
work the same for completed and interrupted sessions and need no bank. The HTML has no
external assets (inline CSS, inline SVG charts) so it can be mailed or archived, and
every text that came from the candidate or a model is escaped.
"""

from __future__ import annotations

import json
import re
import time
from html import escape
from statistics import mean
from typing import Any

from .end_reason import EndReason
from .errors import ConfigError
from .report import GRADER_LABELS, INTERVIEWER_LABELS, ended_early_text
from .scoring.delivery import answer_pace
from .scoring.feedback import VERDICT_LABELS, derive_verdict
from .transcript import Transcript, Word

FORMATS = ("html", "json", "md")


# -- numbers shared by every format ---------------------------------------------------------------

def progress(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per question answered in more than one session: the score history and whether it improved.

    "Improved" compares this session's score with the one before it (not the best ever),
    because that is the question a candidate asks after practising again.
    """
    out = {}
    for qid, rows in (doc.get("history") or {}).items():
        scored = [r for r in rows if r.get("score") is not None]
        if len(scored) < 2:
            continue
        mine = next((i for i, r in enumerate(scored) if r["session_id"] == doc["id"]), len(scored) - 1)
        current = scored[mine]["score"]
        previous = scored[mine - 1]["score"] if mine > 0 else None
        change = round(current - previous, 1) if previous is not None else None
        out[qid] = {"scores": [r["score"] for r in scored], "sessions": [r["session_id"] for r in scored],
                    "current": current, "previous": previous, "change": change,
                    "improved": None if change is None else change > 0}
    return out


def answer_delivery(item: dict[str, Any]) -> dict[str, Any]:
    """Words per minute and filler count of one recorded answer, by the scorer's own definitions."""
    words = tuple(Word.from_dict(w) for w in item.get("words") or ())
    pace = answer_pace(Transcript(item.get("text") or "", words))
    return {"words_per_minute": pace.words_per_minute, "fillers": pace.filler_count, "word_count": pace.word_count}


def verdict_mark(k: dict[str, Any]) -> tuple[str, str]:
    """(verdict, short label) of a stored key point result; results stored before verdicts get one derived."""
    verdict = k.get("verdict") or derive_verdict(bool(k.get("covered")), bool(k.get("partial")),
                                                 float(k.get("strength") or 0.0))
    return verdict, VERDICT_LABELS[verdict]


def round_title(doc: dict[str, Any], round_id: str) -> str:
    """A round's title: stored with its questions, else from the report, else (old sessions) its id."""
    for q in doc["questions"]:
        if q["round"] == round_id and q.get("round_title"):
            return str(q["round_title"])
    titles = {r["round_id"]: r["title"] for r in (doc.get("report") or {}).get("rounds", [])}
    return titles.get(round_id, round_id)


def round_scores(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per round of the plan: questions planned, reached and graded, and the average score of those graded.

    Every planned round is listed, reached or not, so a session that ended early shows what it left out.
    """
    rounds: dict[str, dict[str, Any]] = {}
    shown = {q["id"] for q in reached(doc)}
    for q in doc["questions"]:
        r = rounds.setdefault(q["round"], {"round": q["round"], "title": round_title(doc, q["round"]),
                                           "questions": 0, "reached": 0, "scores": []})
        r["questions"] += 1
        r["reached"] += q["id"] in shown
        if q.get("feedback"):
            r["scores"].append(float(q["feedback"]["overall"]))
    return [{"round": r["round"], "title": r["title"], "questions": r["questions"], "reached": r["reached"],
             "answered": len(r["scores"]), "average": round(mean(r["scores"]), 1) if r["scores"] else None}
            for r in rounds.values()]


def not_reached(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The planned questions the session ended before: never asked, or (as the session's own report
    counts them) asked but ended before any answer, so every report of a session lists the same ones."""
    ended_on = {q["id"] for q in (doc.get("report") or {}).get("not_reached", ())}
    return [q for q in doc["questions"] if not q.get("asked") or q["id"] in ended_on]


def reached(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions the report shows with their transcript: the planned ones minus :func:`not_reached`."""
    missing = {q["id"] for q in not_reached(doc)}
    return [q for q in doc["questions"] if q["id"] not in missing]


def ended_early(doc: dict[str, Any]) -> str | None:
    """The sentence saying the session ended before its last question, and why when that is known."""
    if doc["status"] == "running":
        return None
    report = doc.get("report") or {}
    reason = report.get("end_reason") or EndReason.of_status(doc["status"])
    return ended_early_text(doc["status"], reason, len(not_reached(doc)))


def who_ran(doc: dict[str, Any]) -> tuple[str, str]:
    """(interviewer, grader) in words. The grader is read from the grades themselves: the language model
    falls back to the offline scorer answer by answer, and the report should say when it did."""
    interviewer = INTERVIEWER_LABELS.get(doc["interviewer"], doc["interviewer"])
    used = [q["feedback"].get("grader", "offline") for q in doc["questions"] if q.get("feedback")]
    if not used:
        name = (doc.get("report") or {}).get("grader")
        return interviewer, GRADER_LABELS.get(name, name) if name else "— (nothing was graded)"
    counts = {g: used.count(g) for g in dict.fromkeys(used)}
    if len(counts) == 1:
        return interviewer, GRADER_LABELS.get(used[0], used[0])
    return interviewer, ", ".join(f"{GRADER_LABELS.get(g, g)} ({n} answer{'s' if n > 1 else ''})"
                                  for g, n in counts.items())


def overall(doc: dict[str, Any]) -> float | None:
    scores = [float(q["feedback"]["overall"]) for q in doc["questions"] if q.get("feedback")]
    return round(mean(scores), 1) if scores else None


def format_when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "—"


def format_score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def format_trend(p: dict[str, Any]) -> str:
    history = " → ".join(f"{s:.0f}" for s in p["scores"])
    if p["change"] is None:
        return f"{history} (first attempt)"
    word = "improved" if p["change"] > 0 else ("no change" if p["change"] == 0 else "declined")
    return f"{history} ({word}, {p['change']:+.0f} since last time)"


# -- JSON -----------------------------------------------------------------------------------------

def to_json(doc: dict[str, Any]) -> str:
    """The session document plus the derived figures, for other tools."""
    interviewer, grader = who_ran(doc)
    data = {**doc, "overall": overall(doc), "rounds": round_scores(doc), "progress": progress(doc),
            "ran": {"interviewer": interviewer, "grader": grader}, "ended_early": ended_early(doc),
            "not_reached": [q["id"] for q in not_reached(doc)],
            "delivery_by_answer": {i["turn_id"]: answer_delivery(i) for i in doc["timeline"]
                                   if i["speaker"] == "candidate"}}
    return json.dumps(data, indent=2, ensure_ascii=False)


# -- Markdown -------------------------------------------------------------------------------------

# Characters that would start raw HTML or an entity in a Markdown viewer. Escaped with a backslash
# (CommonMark), never as HTML entities: an entity shows as "&amp;" wherever the Markdown is read as text.
_MD_SPECIAL = re.compile(r"<|&(?=#?\w+;)")


def _md(text: Any) -> str:
    """Any text in Markdown: on one line, and shown as written (no tag or entity of it is interpreted)."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), str(text or "")).replace("\n", " ").strip()


def to_markdown(doc: dict[str, Any]) -> str:
    lines = [f"# Interview report: {_md(doc['role_title'] or doc['role'])}", "",
             f"- Session: `{doc['id']}`", f"- Started: {format_when(doc['started_at'])}",
             f"- Status: {doc['status']}", f"- Interviewer: {_md(who_ran(doc)[0])}",
             f"- Grader: {_md(who_ran(doc)[1])}", f"- Overall score: {format_score(overall(doc))}"]
    if (early := ended_early(doc)) is not None:
        lines += ["", f"**{_md(early)}**"]
    lines += ["", "## Scores by round", ""]
    lines += [f"- {_md(r['title'])}: {format_score(r['average'])} ({r['answered']} of {r['questions']} graded"
              f"{', not reached' if not r['reached'] else ''})" for r in round_scores(doc)]
    trends = progress(doc)
    for n, q in enumerate(reached(doc), 1):
        fb = q.get("feedback")
        lines += ["", f"## Question {n}: {_md(q['text'])}", "", f"Score: {format_score(fb['overall'] if fb else None)}"]
        if q["id"] in trends:
            lines.append(f"Progress: {format_trend(trends[q['id']])}")
        lines += ["", "### Transcript", ""]
        for item in doc["timeline"]:
            if item["question_id"] == q["id"] and item["kind"] in ("question", "follow_up"):
                who = "Interviewer" if item["speaker"] == "interviewer" else "You"
                lines.append(f"**{who}:** {_md(item['text']) or '*(no answer)*'}")
                lines.append("")
        if fb:
            lines += ["### Key points", ""]
            for k in fb["key_points"]:
                verdict, label = verdict_mark(k)
                lines.append(f"- **{label}**: {_md(k['statement'])}")
                if k.get("evidence") and verdict != "missed":
                    lines.append(f"  - you said: \"{_md(k['evidence']['quote'])}\"")
                if verdict == "incorrect" and k.get("correction"):
                    lines.append(f"  - correction: {_md(k['correction'])}")
            if fb.get("tips"):
                lines += ["", "### Tips", ""] + [f"- {_md(t)}" for t in fb["tips"]]
        lines += ["", "### What a strong answer covers", "", _md(q.get("strong_answer"))]
    if missing := not_reached(doc):
        lines += ["", "## Not reached", ""]
        lines += [f"- {_md(q['text'])} ({_md(round_title(doc, q['round']))})" for q in missing]
    return "\n".join(lines).rstrip() + "\n"


# -- HTML -----------------------------------------------------------------------------------------

CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2430}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #dde3ea;padding-bottom:.2rem;margin-top:2rem}
.meta{color:#5a6675}.score{font-weight:700;font-size:1.1rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .7rem;border-bottom:1px solid #eef1f5;
text-align:left}.ok,.v-covered{color:#17803d}.miss,.v-missed{color:#b42318}.v-partial{color:#b54708}.v-incorrect{color:#b42318;font-weight:700}.q{background:#f7f9fb;border-radius:8px;
padding:.8rem 1rem;margin:1rem 0}.turn{margin:.3rem 0}.who{font-weight:600;margin-right:.4rem}
.strong{background:#eef6ff;border-left:4px solid #3b82f6;padding:.5rem .8rem}.trend{color:#5a6675}
.charts{display:flex;gap:2rem;flex-wrap:wrap}svg text{font:14px system-ui,sans-serif;fill:#1d2430}
svg .chart-title{font-weight:600;font-size:15px}.early{background:#fff4e5;border-left:4px solid #b54708;
padding:.5rem .8rem}
"""


def bar_chart(title: str, labels: list[str], values: list[float | None], unit: str,
              top: float | None = None) -> str:
    """An inline SVG bar chart (no scripts, no external assets), wide enough for every label.

    ``top`` fixes the scale (100 for scores) so charts of different sessions compare; a missing
    value is drawn as a dash ("not graded"), not as a zero.
    """
    step = 64.0
    pad, height = 36, 220
    width = int(max(360, 2 * pad + step * len(values)))
    known = [v for v in values if v is not None]
    top = top or (max(known) if known else 1.0)
    top = top if top > 0 else 1.0
    base = height - pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text class="chart-title" x="{pad}" y="18">{escape(title)}</text>',
             f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#9aa5b1"/>']
    for i, (label, value) in enumerate(zip(labels, values)):
        x = pad + i * step + step * 0.15
        bar_w = step * 0.7
        mid = x + bar_w / 2
        if value is not None:
            h = (height - 2 * pad - 22) * (min(value, top) / top)
            parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="#3b82f6"><title>{escape(label)}: {value:g} {escape(unit)}</title></rect>')
            parts.append(f'<text x="{mid:.1f}" y="{base - h - 5:.1f}" text-anchor="middle">{value:.0f}</text>')
        else:
            parts.append(f'<text x="{mid:.1f}" y="{base - 5}" text-anchor="middle">—</text>')
        parts.append(f'<text x="{mid:.1f}" y="{base + 20}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def answer_label(turn_id: str) -> str:
    """A bar label short enough to sit under a bar: q2 → "Q2", q2f1 → "Q2 f1" (its first follow-up answer)."""
    return turn_id.upper().replace("F", " f")


def _charts(doc: dict[str, Any]) -> str:
    asked = reached(doc)
    scores = bar_chart("Score per question (0–100)", [f"Q{n}" for n in range(1, len(asked) + 1)],
                       [float(q["feedback"]["overall"]) if q.get("feedback") else None for q in asked],
                       "points", top=100.0) if asked else ""
    answers = [i for i in doc["timeline"] if i["speaker"] == "candidate" and (i.get("text") or "").strip()]
    if not answers:
        return f'<div class="charts">{scores}</div><p>No spoken answers to chart.</p>'
    stats = [answer_delivery(i) for i in answers]
    labels = [answer_label(i["turn_id"]) for i in answers]
    return ('<div class="charts">' + scores
            + bar_chart("Words per minute, per answer", labels, [s["words_per_minute"] for s in stats], "wpm")
            + bar_chart("Filler words, per answer", labels, [float(s["fillers"]) for s in stats], "fillers")
            + "</div>" + ('<p class="meta">Q2 f1 is the answer to the first follow-up of question 2.</p>'
                          if any(" f" in label for label in labels) else ""))


def _question_html(n: int, q: dict[str, Any], doc: dict[str, Any], trend: dict[str, Any] | None) -> str:
    fb = q.get("feedback")
    out = [f'<section class="q" id="{escape(q["id"])}"><h3>Question {n}: {escape(q["text"])}</h3>',
           f'<p class="score">Score: {format_score(fb["overall"] if fb else None)}</p>']
    if trend:
        out.append(f'<p class="trend">Progress across sessions: {escape(format_trend(trend))}</p>')
    for item in doc["timeline"]:
        if item["question_id"] == q["id"] and item["kind"] in ("question", "follow_up"):
            who = "Interviewer" if item["speaker"] == "interviewer" else "You"
            text = escape(item.get("text") or "") or "<em>(no answer)</em>"
            out.append(f'<p class="turn"><span class="who">{who}:</span>{text}</p>')
    if fb:
        out.append("<table><tr><th>Key point</th><th>Verdict</th><th>What you said</th></tr>")
        for k in fb["key_points"]:
            verdict, label = verdict_mark(k)
            said = escape(k["evidence"]["quote"]) if k.get("evidence") and verdict != "missed" else ""
            if verdict == "incorrect" and k.get("correction"):
                said += f'<br><strong>Correction:</strong> {escape(k["correction"])}'
            out.append(f'<tr><td>{escape(k["statement"])}</td><td><span class="v-{verdict}">{label}</span></td>'
                       f'<td>{said}</td></tr>')
        out.append("</table>")
        if fb.get("tips"):
            out.append("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in fb["tips"]) + "</ul>")
    out.append(f'<div class="strong"><strong>What a strong answer covers:</strong> '
               f'{escape(q.get("strong_answer") or "")}</div></section>')
    return "\n".join(out)


def to_html(doc: dict[str, Any]) -> str:
    title = escape(doc["role_title"] or doc["role"])
    rows = "".join(f"<tr><td>{escape(r['title'])}</td><td>{format_score(r['average'])}</td>"
                   f"<td>{r['answered']} of {r['questions']}{' (not reached)' if not r['reached'] else ''}</td></tr>"
                   for r in round_scores(doc))
    trends = progress(doc)
    asked = reached(doc)
    questions = "\n".join(_question_html(n, q, doc, trends.get(q["id"])) for n, q in enumerate(asked, 1))
    tips = (doc.get("report") or {}).get("top_tips") or []
    tips_html = ("<h2>Top tips</h2><ul>" + "".join(f"<li>{escape(t)}</li>" for t in tips) + "</ul>") if tips else ""
    early = ended_early(doc)
    early_html = f'<p class="early">{escape(early)}</p>' if early else ""
    missing = not_reached(doc)
    missing_html = ("<h2>Not reached</h2><ul>" + "".join(
        f"<li>{escape(q['text'])} <span class=\"meta\">({escape(round_title(doc, q['round']))})</span></li>"
        for q in missing) + "</ul>") if missing else ""
    interviewer, grader = who_ran(doc)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Interview report: {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><h1>Interview report: {title}</h1>
<p class="meta">Session {escape(doc['id'])} · {format_when(doc['started_at'])} · {escape(doc['status'])} ·
interviewer: {escape(interviewer)} · grader: {escape(grader)}</p>
<p class="score">Overall score: {format_score(overall(doc))}</p>
{early_html}
<h2>Scores by round</h2><table><tr><th>Round</th><th>Average</th><th>Graded</th></tr>{rows}</table>
<h2>Scores and delivery</h2>{_charts(doc)}
{tips_html}
<h2>Questions and transcript</h2>
{questions}
{missing_html}
</body></html>
"""


def render(doc: dict[str, Any], fmt: str) -> str:
    """Render in ``fmt`` ("html", "json" or "md")."""
    if fmt == "html":
        return to_html(doc)
    if fmt == "json":
        return to_json(doc)
    if fmt == "md":
        return to_markdown(doc)
    raise ConfigError(f"export format {fmt!r} is not supported; choose one of {', '.join(FORMATS)}")
