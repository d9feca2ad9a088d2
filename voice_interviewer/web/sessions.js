// Past sessions and progress across them (GET /api/sessions, GET /api/progress).
//
// Every text from the store goes into the page through textContent; charts are SVG built with
// DOM calls. Deleting goes over the websocket (delete_session): the server's HTTP side only reads.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const { token, withToken, getJson, el } = window.vi;
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const when = (ts) => (ts ? new Date(ts * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "");
  const day = (ts) => new Date(ts * 1000).toLocaleDateString([], { month: "short", day: "numeric" });
  const score = (v) => (v === null || v === undefined ? "—" : String(Math.round(v)));

  function setStatus(text) {
    $("status").textContent = text;
    $("status").hidden = !text;
  }

  // -- score over time: one line chart per question, 0–100 so charts compare -------------------

  function scoreChart(q) {
    const w = 320, h = 150, left = 40, right = 14, top = 16, bottom = 28;
    const pts = q.attempts;
    const x = (i) => left + (pts.length === 1 ? (w - left - right) / 2 : i * (w - left - right) / (pts.length - 1));
    const y = (s) => top + (100 - s) * (h - top - bottom) / 100;
    const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img",
      "aria-label": `Score over time: ${pts.map((p) => score(p.score)).join(", ")}` });
    for (const s of [0, 50, 100]) {
      chart.append(svg("line", { x1: left, x2: w - right, y1: y(s), y2: y(s), stroke: "#dfe4e1" }),
        svg("text", { x: left - 6, y: y(s) + 4, "text-anchor": "end" }, String(s)));
    }
    if (pts.length > 1) {
      chart.append(svg("polyline", { points: pts.map((p, i) => `${x(i)},${y(p.score)}`).join(" "),
        fill: "none", stroke: "#2f6f62", "stroke-width": 2.5 }));
    }
    pts.forEach((p, i) => {
      const dot = svg("circle", { cx: x(i), cy: y(p.score), r: 5, fill: "#2f6f62", class: "point" });
      dot.append(svg("title", {}, `${when(p.started_at)}: ${score(p.score)}`));
      chart.append(dot, svg("text", { x: x(i), y: y(p.score) - 9, "text-anchor": "middle" }, score(p.score)));
      if (i === 0 || i === pts.length - 1) {  // the first and last dates, kept inside the chart
        const anchor = pts.length === 1 ? "middle" : (i === 0 ? "start" : "end");
        chart.append(svg("text", { x: x(i), y: h - 8, "text-anchor": anchor }, day(p.started_at)));
      }
    });
    const trend = q.change === null ? "first attempt"
      : `${q.change > 0 ? "up" : (q.change < 0 ? "down" : "no change")} ${q.change > 0 ? "+" : ""}${Math.round(q.change)} since last time`;
    return el("article", { class: "chart", "data-question": q.id },
      el("h3", { text: q.text }), chart,
      el("p", { class: "muted", text: `Latest ${score(q.latest)} · best ${score(q.best)} · ${trend}` }));
  }

  function renderProgress(progress) {
    const questions = progress.questions || [];
    $("progress").hidden = !questions.length;
    $("question-charts").replaceChildren(...questions.map(scoreChart));

    const missed = progress.missed_key_points || [];
    $("missed").hidden = !missed.length;
    $("missed-list").replaceChildren(...missed.map((k) => {
      const bar = el("div", { class: "bar", "aria-hidden": "true" }, el("span"));
      bar.firstChild.style.width = `${Math.round(100 * k.missed / k.attempts)}%`;
      return el("li", { "data-key-point": `${k.question_id}/${k.key_point_id}` },
        el("strong", { text: k.statement }),
        el("span", { class: "muted", text: ` — not covered in ${k.missed} of ${k.attempts} answer(s) · ${k.question}` }),
        bar);
    }));

    const weakest = progress.weakest || { question_ids: [] };
    const byId = Object.fromEntries(questions.map((q) => [q.id, q]));
    $("next").hidden = !weakest.question_ids.length;
    $("weakest").replaceChildren(...weakest.question_ids.map((id) =>
      el("li", { text: `${byId[id] ? byId[id].text : id} (latest ${score(byId[id] && byId[id].latest)})` })));
    const start = new URLSearchParams({ role: weakest.role || "", questions: weakest.question_ids.join(",") });
    if (token) start.set("token", token);
    $("practise-weakest").href = `index.html?${start}`;
  }

  // -- the list: replay, export, delete -------------------------------------------------------------

  function renderSessions(sessions) {
    $("session-table").hidden = !sessions.length;
    $("sessions-empty").hidden = sessions.length > 0;
    $("session-rows").replaceChildren(...sessions.map((s) => {
      const report = (fmt, label) => el("a", { href: withToken(`/api/sessions/${s.id}/report.${fmt}`),
        target: "_blank", rel: "noopener", text: label });
      const links = el("td", {}, el("a", { href: withToken(`playback.html?session=${encodeURIComponent(s.id)}`), text: "Replay" }),
        " · ", report("html", "HTML"), " · ", report("md", "Markdown"), " · ", report("json", "JSON"));
      const del = el("button", { type: "button", class: "button danger", text: "Delete",
        "aria-label": `Delete the session of ${when(s.started_at)}`, onclick: () => remove(s) });
      return el("tr", { "data-id": s.id }, el("td", { text: when(s.started_at) }),
        el("td", { text: s.role_title || s.role }), el("td", { text: s.status }),
        el("td", { text: score(s.overall) }), links, el("td", {}, del));
    }));
  }

  function remove(s) {
    if (!confirm(`Delete the session of ${when(s.started_at)} with its recordings? This cannot be undone.`)) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${withToken("/ws")}`);
    ws.onopen = () => ws.send(JSON.stringify({ type: "delete_session", id: s.id }));
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      ws.close();
      if (msg.type === "deleted") {
        setStatus(`Deleted the session of ${when(s.started_at)}.`);
        load();
      } else {
        setStatus(`Could not delete it: ${msg.message}`);
      }
    };
    ws.onerror = () => setStatus("Could not reach the server to delete the session.");
  }

  async function load() {
    try {
      const [{ sessions }, progress] = await Promise.all([getJson("/api/sessions"), getJson("/api/progress")]);
      renderSessions(sessions);
      renderProgress(progress);
      if ($("status").textContent === "Loading…") setStatus("");
    } catch (e) {
      setStatus(`Could not load your sessions: ${e.message}`);
    }
  }

  for (const id of ["nav-new", "nav-replay"]) $(id).href = withToken($(id).getAttribute("href"));
  load();
})();
