"""Session exports: a self-contained HTML report, JSON and Markdown, from a stored session.

Every function takes the plain session document of :meth:`SessionStore.get`, so exports
work the same for completed and interrupted sessions and need no bank. The HTML has no
external assets (inline CSS, inline SVG charts) so it can be mailed or archived, and
every text that came from the candidate or a model is escaped.
"""

from __future__ import annotations

import json
import time
from html import escape
from statistics import mean
from typing import Any

from .errors import ConfigError
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


def round_scores(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Average score per round over the graded questions (titles from the report when there is one)."""
    titles = {r["round_id"]: r["title"] for r in (doc.get("report") or {}).get("rounds", [])}
    rounds: dict[str, list[float]] = {}
    for q in doc["questions"]:
        if q.get("asked"):
            rounds.setdefault(q["round"], [])
            if q.get("feedback"):
                rounds[q["round"]].append(float(q["feedback"]["overall"]))
    return [{"round": rid, "title": titles.get(rid, rid), "answered": len(s),
             "average": round(mean(s), 1) if s else None} for rid, s in rounds.items()]


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
    data = {**doc, "overall": overall(doc), "rounds": round_scores(doc), "progress": progress(doc),
            "delivery_by_answer": {i["turn_id"]: answer_delivery(i) for i in doc["timeline"]
                                   if i["speaker"] == "candidate"}}
    return json.dumps(data, indent=2, ensure_ascii=False)


# -- Markdown -------------------------------------------------------------------------------------

def _md(text: Any) -> str:
    """Candidate text in Markdown: HTML-escaped (viewers render raw HTML) and on one line."""
    return escape(str(text or ""), quote=False).replace("\n", " ").strip()


def to_markdown(doc: dict[str, Any]) -> str:
    lines = [f"# Interview report: {_md(doc['role_title'] or doc['role'])}", "",
             f"- Session: `{doc['id']}`", f"- Started: {format_when(doc['started_at'])}",
             f"- Status: {doc['status']}", f"- Interviewer: {_md(doc['interviewer'])}",
             f"- Overall score: {format_score(overall(doc))}", "", "## Scores by round", ""]
    lines += [f"- {_md(r['title'])}: {format_score(r['average'])} ({r['answered']} graded)" for r in round_scores(doc)]
    trends = progress(doc)
    for n, q in enumerate([q for q in doc["questions"] if q.get("asked")], 1):
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
.charts{display:flex;gap:2rem;flex-wrap:wrap}svg text{font:11px system-ui,sans-serif;fill:#1d2430}
"""


def bar_chart(title: str, labels: list[str], values: list[float | None], unit: str) -> str:
    """A small inline SVG bar chart (no scripts, no external assets)."""
    width, height, pad = 320, 170, 28
    known = [v for v in values if v is not None]
    top = max(known) if known else 1.0
    top = top if top > 0 else 1.0
    step = (width - 2 * pad) / max(1, len(values))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="{pad}" y="14">{escape(title)}</text>',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#9aa5b1"/>']
    for i, (label, value) in enumerate(zip(labels, values)):
        x = pad + i * step + step * 0.15
        bar_w = step * 0.7
        if value is not None:
            h = (height - 2 * pad - 10) * (value / top)
            parts.append(f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="#3b82f6"><title>{escape(label)}: {value:g} {escape(unit)}</title></rect>')
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - pad - h - 3:.1f}" '
                         f'text-anchor="middle">{value:.0f}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - pad + 14}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _delivery_charts(doc: dict[str, Any]) -> str:
    answers = [i for i in doc["timeline"] if i["speaker"] == "candidate" and (i.get("text") or "").strip()]
    if not answers:
        return "<p>No spoken answers to chart.</p>"
    stats = [answer_delivery(i) for i in answers]
    labels = [i["turn_id"] for i in answers]
    return ('<div class="charts">'
            + bar_chart("Words per minute, per answer", labels, [s["words_per_minute"] for s in stats], "wpm")
            + bar_chart("Filler words, per answer", labels, [float(s["fillers"]) for s in stats], "fillers")
            + "</div>")


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
                   f"<td>{r['answered']}</td></tr>"
                   for r in round_scores(doc))
    trends = progress(doc)
    asked = [q for q in doc["questions"] if q.get("asked")]
    questions = "\n".join(_question_html(n, q, doc, trends.get(q["id"])) for n, q in enumerate(asked, 1))
    tips = (doc.get("report") or {}).get("top_tips") or []
    tips_html = ("<h2>Top tips</h2><ul>" + "".join(f"<li>{escape(t)}</li>" for t in tips) + "</ul>") if tips else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Interview report: {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><h1>Interview report: {title}</h1>
<p class="meta">Session {escape(doc['id'])} · {format_when(doc['started_at'])} · {escape(doc['status'])} ·
interviewer: {escape(doc['interviewer'])}</p>
<p class="score">Overall score: {format_score(overall(doc))}</p>
<h2>Scores by round</h2><table><tr><th>Round</th><th>Average</th><th>Graded</th></tr>{rows}</table>
<h2>Delivery</h2>{_delivery_charts(doc)}
{tips_html}
<h2>Questions and transcript</h2>
{questions}
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
