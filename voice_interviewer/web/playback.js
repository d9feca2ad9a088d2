// Replay of a recorded interview: both voices in order, the answer highlighted word by word.
//
// Talks only to the read-only sessions API (/api/sessions...). Every text from the
// session goes into the page through textContent, never as markup. Audio is fetched
// as a blob so the element can seek in it whatever the server's Range support.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const { withToken: api, getJson, el } = window.vi;
  const audio = $("audio");

  const state = { doc: null, items: [], index: -1, playing: false, blobs: new Map(), words: [], raf: 0,
                  timer: 0, runId: 0 };

  const when = (ts) => (ts ? new Date(ts * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "");
  const score = (v) => (v === null || v === undefined ? "—" : String(Math.round(v)));

  function setStatus(text) {
    $("status").textContent = text;
    $("status").hidden = !text;
  }

  // -- session list --------------------------------------------------------------------------

  async function loadList() {
    const { sessions } = await getJson("/api/sessions");
    const list = $("session-list");
    list.replaceChildren();
    $("sessions-empty").hidden = sessions.length > 0;
    for (const s of sessions) {
      const button = el("button", { type: "button", "data-id": s.id, onclick: () => openSession(s.id) },
        el("span", { class: "when", text: when(s.started_at) }),
        el("span", { class: "what", text: `${s.role_title || s.role} · ${s.status} · score ${score(s.overall)}` }));
      list.append(el("li", {}, button));
    }
    return sessions;
  }

  // -- one session ---------------------------------------------------------------------------

  async function openSession(id) {
    stop();
    setStatus("Loading…");
    let doc;
    try {
      doc = await getJson(`/api/sessions/${encodeURIComponent(id)}`);
    } catch (e) {
      setStatus(`Could not load session ${id}: ${e.message}`);
      return;
    }
    state.doc = doc;
    for (const b of document.querySelectorAll("#session-list button")) {
      b.setAttribute("aria-current", String(b.dataset.id === id));
    }
    const url = new URL(location.href);
    url.searchParams.set("session", id);
    history.replaceState(null, "", url);
    render(doc);
    setStatus("");
  }

  function render(doc) {
    $("session").hidden = false;
    $("session-title").textContent = doc.role_title || doc.role;
    $("session-meta").textContent = `${when(doc.started_at)} · ${doc.status} · interviewer: ${doc.interviewer}`;
    const graded = doc.questions.filter((q) => q.feedback);
    $("session-score").textContent = graded.length
      ? score(graded.reduce((a, q) => a + q.feedback.overall, 0) / graded.length) : "—";
    for (const fmt of ["html", "md", "json"]) {
      $(`report-${fmt}`).href = api(`/api/sessions/${doc.id}/report.${fmt}`);
    }
    state.items = doc.timeline;
    state.words = [];
    const nav = $("question-nav");
    const box = $("questions");
    nav.replaceChildren();
    box.replaceChildren();
    const asked = doc.questions.filter((q) => q.asked);
    asked.forEach((q, n) => {
      const first = doc.timeline.findIndex((i) => i.question_id === q.id && i.kind !== "transition");
      nav.append(el("li", {}, el("button", { type: "button", "data-question": q.id, text: `Q${n + 1}`,
        title: q.text, onclick: () => playFrom(first) })));
      const turns = el("div", { class: "turns" });
      doc.timeline.forEach((item, index) => {
        if (item.question_id === q.id && (item.kind === "question" || item.kind === "follow_up")) {
          turns.append(renderTurn(item, index));
        }
      });
      box.append(el("article", { class: "question", id: `question-${q.id}`, "data-question": q.id },
        el("h3", { text: `Question ${n + 1}: ${q.text}` }), turns, renderFeedback(q)));
    });
    $("play").disabled = !doc.timeline.some((i) => i.audio);
  }

  // An answer that did not end by the candidate's choice says so wherever it is shown or played,
  // so an answer cut off mid-sentence is not mistaken for a finished one.
  // Why an answer was cut short comes worded from the server (item.cut_short), so every
  // place that shows an end reason says it the same way.
  function answerLabel(item) {
    const why = item.cut_short;
    return why ? `Your answer — ${why}` : "Your answer";
  }

  function renderTurn(item, index) {
    const who = item.speaker === "interviewer" ? "Interviewer" : "You";
    const why = item.speaker === "candidate" ? item.cut_short : undefined;
    const text = el("p", { class: "text" });
    if (item.speaker === "candidate" && item.words && item.words.length) {
      item.words.forEach((w, k) => {
        const span = el("span", { class: "w", "data-start": w.start_s, "data-end": w.end_s, text: w.text });
        text.append(span, k + 1 < item.words.length ? " " : "");
      });
    } else {
      text.textContent = item.text || (item.speaker === "candidate" ? "(no answer)" : "");
    }
    const node = el("div", { class: `turn ${item.speaker}`, id: `turn-${index}`, "data-index": index,
                              "data-name": item.name }, el("span", { class: "who", text: who }),
                      why ? el("span", { class: "cut-short", text: `(${why})` }) : null, text);
    node.addEventListener("dblclick", () => playFrom(index));
    return node;
  }

  const VERDICT_LABELS = { covered: "Covered", partial: "Partly covered", missed: "Missed", incorrect: "Incorrect" };

  function renderFeedback(q) {
    const box = el("aside", { class: "feedback", "aria-label": "Feedback" });
    const fb = q.feedback;
    if (!fb) {
      box.append(el("p", { class: "no-feedback", text: "Not graded (skipped or the session ended first)." }));
    } else {
      box.append(el("p", { class: "score", text: `${score(fb.overall)} / 100` }));
      const kps = el("ul", { class: "key-points" });
      for (const k of fb.key_points) {
        const v = k.verdict || (k.covered ? "covered" : (k.partial ? "partial" : "missed"));
        const item = el("li", { class: `kp ${v}`, "data-verdict": v, text: `${VERDICT_LABELS[v]}: ${k.statement}` });
        if (v === "incorrect" && k.correction) item.append(el("p", { class: "correction", text: `Correction: ${k.correction}` }));
        kps.append(item);
      }
      box.append(el("h4", { text: "Key points" }), kps);
      if (fb.tips && fb.tips.length) {
        const tips = el("ul", { class: "tips" });
        for (const t of fb.tips) tips.append(el("li", { text: t }));
        box.append(el("h4", { text: "Tips" }), tips);
      }
    }
    const history = (state.doc.history || {})[q.id] || [];
    const scored = history.filter((h) => h.score !== null);
    if (scored.length > 1) {
      box.append(el("p", { class: "muted progress", text: `Across sessions: ${scored.map((h) => score(h.score)).join(" → ")}` }));
    }
    if (q.strong_answer) {
      box.append(el("details", {}, el("summary", { text: "What a strong answer covers" }),
        el("p", { text: q.strong_answer })));
    }
    return box;
  }

  // -- playback ------------------------------------------------------------------------------

  async function audioUrl(item) {
    const key = `${state.doc.id}/${item.name}`;
    if (!state.blobs.has(key)) {
      const r = await fetch(api(`/api/sessions/${state.doc.id}/audio/${item.name}.wav`));
      if (!r.ok) throw new Error(`audio ${item.name}: ${r.status}`);
      state.blobs.set(key, URL.createObjectURL(await r.blob()));
    }
    return state.blobs.get(key);
  }

  function markCurrent(index) {
    for (const n of document.querySelectorAll(".turn.current")) n.classList.remove("current");
    for (const n of document.querySelectorAll(".w.active, .w.spoken")) n.classList.remove("active", "spoken");
    const item = state.items[index];
    for (const b of document.querySelectorAll(".jump button")) {
      b.classList.toggle("current", !!item && b.dataset.question === item.question_id);
    }
    const node = $(`turn-${index}`);
    state.words = node ? Array.from(node.querySelectorAll(".w")) : [];
    if (node) {
      node.classList.add("current");
      node.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function highlight() {
    const t = audio.currentTime;
    let active = -1;
    state.words.forEach((w, k) => {
      const spoken = Number(w.dataset.start) <= t;
      w.classList.toggle("spoken", spoken);
      if (spoken) active = k;
    });
    state.words.forEach((w, k) => w.classList.toggle("active", k === active && t < Number(w.dataset.end) + 0.25));
    if (state.playing) state.raf = requestAnimationFrame(highlight);
  }

  async function playFrom(index) {
    stop();
    if (index < 0) return;
    state.playing = true;
    const runId = ++state.runId;
    document.body.dataset.playback = "playing";
    $("play").textContent = "Pause";
    for (let i = index; i < state.items.length; i++) {
      if (!state.playing || runId !== state.runId) return;
      const item = state.items[i];
      state.index = i;
      markCurrent(i);
      $("now-playing").textContent = item.speaker === "interviewer" ? "Interviewer speaking" : answerLabel(item);
      if (!item.audio) {
        await new Promise((resolve) => { state.timer = setTimeout(resolve, 600); });
        continue;
      }
      try {
        audio.src = await audioUrl(item);
        if (runId !== state.runId) return;
        audio.playbackRate = speed();
        await audio.play();
      } catch (e) {
        setStatus(`Could not play ${item.name}: ${e.message}`);
        continue;
      }
      state.raf = requestAnimationFrame(highlight);
      await new Promise((resolve) => {
        const done = () => { audio.removeEventListener("ended", done); audio.removeEventListener("error", done); resolve(); };
        audio.addEventListener("ended", done);
        audio.addEventListener("error", done);
        state.finish = done;
      });
      cancelAnimationFrame(state.raf);
      for (const w of state.words) { w.classList.add("spoken"); w.classList.remove("active"); }
    }
    if (runId === state.runId) {
      state.playing = false;
      document.body.dataset.playback = "ended";
      $("play").textContent = "Play again";
      $("now-playing").textContent = "";
    }
  }

  function stop() {
    state.runId++;
    state.playing = false;
    cancelAnimationFrame(state.raf);
    clearTimeout(state.timer);
    audio.pause();
    if (state.finish) state.finish();
    document.body.dataset.playback = "stopped";
    $("play").textContent = "Play";
  }

  function pauseOrResume() {
    if (state.playing && !audio.paused) {
      audio.pause();
      cancelAnimationFrame(state.raf);
      $("play").textContent = "Resume";
      document.body.dataset.playback = "paused";
    } else if (state.playing && audio.paused && audio.src) {
      audio.play();
      state.raf = requestAnimationFrame(highlight);
      $("play").textContent = "Pause";
      document.body.dataset.playback = "playing";
    } else {
      playFrom(state.index >= 0 && state.index < state.items.length - 1 ? state.index : 0);
    }
  }

  // Word timings are in audio seconds, so highlighting follows currentTime at any speed.
  const speed = () => Number($("speed").value) || 1;
  $("speed").addEventListener("change", () => { audio.defaultPlaybackRate = speed(); audio.playbackRate = speed(); });
  $("play").addEventListener("click", pauseOrResume);
  $("stop").addEventListener("click", () => { stop(); state.index = -1; markCurrent(-1); });

  loadList().then((sessions) => {
    const wanted = params.get("session");
    if (wanted) openSession(wanted);
    else if (!sessions.length) setStatus("No sessions recorded yet: finish an interview and it appears here.");
  }).catch((e) => setStatus(`Could not list sessions: ${e.message}`));
})();
