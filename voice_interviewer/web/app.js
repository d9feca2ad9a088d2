// The browser side of a spoken mock interview (protocol: docs/protocol.md).
// Everything the server or the candidate says is inserted with textContent, never as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const { token, withToken, el } = window.vi;
  // index.html?role=ROLE&questions=ID,ID,… (the sessions page's "practise my weakest questions")
  // starts a session of exactly those questions.
  const chosen = (params.get('questions') || '').split(',').map((q) => q.trim()).filter(Boolean);

  const ui = {
    setup: $('setup'), form: $('setup-form'), role: $('role'), rounds: $('round-list'), questions: $('questions'),
    timer: $('timer'), followUps: $('follow-ups'), voice: $('voice'), interviewer: $('interviewer'), start: $('start'),
    interview: $('interview'), progress: $('progress'), question: $('question-text'), followUp: $('follow-up'),
    state: $('state'), timerLeft: $('timer-left'), level: $('level'), partial: $('partial'), final: $('final'),
    captions: $('captions'), feedback: $('feedback'), feedbackList: $('feedback-list'), report: $('report'),
    reportBody: $('report-body'), again: $('again'), alert: $('alert'), connection: $('connection'),
    done: $('done'), pause: $('pause'), skip: $('skip'), reveal: $('reveal'), stop: $('stop'),
    review: $('review'), reviewCard: $('review-card'), continue: $('continue'), retry: $('retry'),
    answerControls: $('answer-controls'),
  };

  const st = {
    banks: null, ws: null, audio: null, node: null, stream: null, session: null, pendingSay: null,
    playEnd: 0, listening: null, paused: false, deadline: 0, answerS: 0, ended: false, retries: 0,
    sources: [], reviewing: null, first: null, continueTries: 0,
  };

  // ---- small DOM helpers --------------------------------------------------------------
  const fmtTime = (s) => {
    const t = Math.max(0, Math.ceil(s));
    return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
  };
  function showAlert(text, { sticky = false } = {}) {
    ui.alert.textContent = text;
    ui.alert.hidden = false;
    clearTimeout(showAlert.timer);
    if (!sticky) showAlert.timer = setTimeout(() => { ui.alert.hidden = true; }, 8000);
  }
  function setState(text, kind) {
    if (ui.state.textContent === text && ui.state.dataset.kind === (kind || '')) return; // no repeat announcements
    ui.state.textContent = text;
    ui.state.dataset.kind = kind || '';
  }
  function setControls(listening) {
    for (const b of [ui.done, ui.skip, ui.reveal, ui.pause]) b.disabled = !listening;
  }

  // ---- setup ------------------------------------------------------------------------------------
  async function loadBanks() {
    try {
      const res = await fetch(withToken('/api/banks'));
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      st.banks = await res.json();
    } catch (err) {
      showAlert(`Could not load the question banks: ${err.message}`);
      return;
    }
    ui.role.replaceChildren(...st.banks.roles.map((r) =>
      el('option', { value: r.role }, `${r.title} (${r.questions} questions)`)));
    for (const [name, status] of Object.entries(st.banks.voice_engines || {})) {
      const opt = el('option', { value: name }, status === 'ok' ? name : `${name} — unavailable`);
      if (status !== 'ok') { opt.disabled = true; opt.title = status; }
      ui.voice.append(opt);
    }
    showInterviewers(st.banks.llm);
    if (chosen.length && params.get('role')) ui.role.value = params.get('role');
    showRounds();
    showChosen();
  }

  // The language model is offered only when the server has an endpoint; otherwise the choice is
  // disabled and says why, instead of silently running the rubric interviewer.
  function showInterviewers(llm) {
    const opt = ui.interviewer.querySelector('option[value="llm"]');
    const why = $('interviewer-why');
    if (!opt || !llm || llm.configured) { if (why) why.hidden = true; return; }
    opt.disabled = true;
    opt.textContent = 'Language model — not available';
    opt.title = llm.reason;
    if (ui.interviewer.value === 'llm') ui.interviewer.value = 'rubric';
    why.textContent = `Language model unavailable: ${llm.reason}.`;
    why.hidden = false;
  }

  function showChosen() {
    const box = $('chosen');
    box.hidden = !chosen.length;
    if (!chosen.length) return;
    $('chosen-text').textContent = `This session asks the ${chosen.length} question(s) you chose on the sessions page.`;
    ui.questions.value = String(chosen.length);
    for (const node of [ui.questions, ...ui.rounds.querySelectorAll('input')]) node.disabled = true;
  }

  function showRounds() {
    const bank = (st.banks.roles || []).find((r) => r.role === ui.role.value);
    ui.rounds.replaceChildren(...(bank ? bank.rounds : []).map((r) => {
      const id = `round-${r.id}`;
      return el('label', { class: 'chip', for: id },
        el('input', { type: 'checkbox', id, value: r.id }), `${r.title} (${r.questions})`);
    }));
  }

  // ---- audio: capture and playback -------------------------------------------------------------------
  async function openAudio() {
    if (st.audio) st.audio.close(); // a previous session's context (its speech has finished by now)
    st.audio = new AudioContext({ latencyHint: 'interactive' });
    await st.audio.audioWorklet.addModule('worklet.js');
    st.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const source = st.audio.createMediaStreamSource(st.stream);
    st.node = new AudioWorkletNode(st.audio, 'pcm-capture');
    st.node.port.onmessage = (e) => onCapture(e.data);
    source.connect(st.node);
    await st.audio.resume();
  }

  function speaking() { return st.audio && st.audio.currentTime < st.playEnd - 0.05; }

  function onCapture({ pcm, rms }) {
    const db = 20 * Math.log10(rms + 1e-9);
    const live = st.listening && !st.paused && !speaking();
    ui.level.style.width = live ? `${Math.max(0, Math.min(100, (db + 60) * 100 / 60))}%` : '0%';
    if (live && st.ws && st.ws.readyState === WebSocket.OPEN) st.ws.send(pcm);
  }

  function play(msg, data) {
    const pcm = new Int16Array(data);
    if (!pcm.length) return;
    const buffer = st.audio.createBuffer(1, pcm.length, msg.sample_rate);
    const out = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 32768;
    const src = st.audio.createBufferSource();
    src.buffer = buffer;
    src.connect(st.audio.destination);
    const at = Math.max(st.audio.currentTime + 0.02, st.playEnd);
    src.start(at);
    st.playEnd = at + buffer.duration;
    st.sources.push(src);
    src.onended = () => { st.sources = st.sources.filter((s) => s !== src); };
  }

  // ---- connection --------------------------------------------------------------------------------
  function connect(first) {
    st.first = first;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}${withToken('/ws')}`);
    ws.binaryType = 'arraybuffer';
    st.ws = ws;
    ui.connection.textContent = 'Connecting…';
    ws.onopen = () => {
      ui.connection.textContent = 'Connected';
      st.retries = 0;
      ws.send(JSON.stringify(st.session ? { type: 'resume_session', resume_token: st.session.resume_token } : first));
    };
    ws.onmessage = (e) => (typeof e.data === 'string' ? onMessage(JSON.parse(e.data)) : onAudio(e.data));
    ws.onclose = (e) => {
      if (st.ended || e.code === 1000) { ui.connection.textContent = 'Session ended'; return; }
      ui.connection.textContent = 'Disconnected';
      if (e.code === 1009) showAlert('A message was too large for the server; the connection was closed.');
      if (st.session && st.retries < 10) {
        st.retries += 1;
        setState('Connection lost — reconnecting…', 'warn');
        setTimeout(() => connect(first), Math.min(5000, 500 * st.retries));
      } else if (!st.session) {
        showAlert('Could not connect to the interview server.');
        backToSetup();
      }
    };
  }

  function send(type) {
    if (st.ws && st.ws.readyState === WebSocket.OPEN) st.ws.send(JSON.stringify({ type }));
  }

  function onAudio(data) {
    const msg = st.pendingSay;
    st.pendingSay = null;
    if (msg) play(msg, data);
  }

  function onMessage(msg) {
    switch (msg.type) {
      case 'session':
        st.session = msg;
        st.continueTries = 0;
        ui.connection.textContent = `Session ${msg.id} · voice ${msg.voice_engine}`;
        if (st.wanted && st.wanted.interviewer !== msg.interviewer) {
          showAlert(`The ${msg.interviewer} interviewer runs this session: the ${st.wanted.interviewer} one is not available on this server.`);
        }
        break;
      case 'question':
        st.listening = null;
        endReview();
        ui.progress.textContent = `Question ${msg.index} of ${msg.total} · ${roundTitle(msg.id, msg.round)}`;
        ui.question.textContent = msg.text;
        ui.followUp.hidden = true;
        ui.partial.textContent = '';
        ui.final.textContent = '';
        ui.timerLeft.textContent = fmtTime(msg.timer_s);
        setState('Interviewer speaking', 'speaking');
        ui.question.focus();
        break;
      case 'say':
        st.pendingSay = msg;
        ui.captions.append(el('li', { class: msg.kind }, el('span', { class: 'kind' }, kindLabel(msg.kind)), msg.text));
        ui.captions.lastChild.scrollIntoView({ block: 'nearest' });
        if (msg.kind === 'follow_up') {
          ui.followUp.hidden = false;
          ui.followUp.textContent = ui.followUp.dataset.turn === msg.turn_id
            ? `${ui.followUp.textContent} ${msg.text}` : msg.text;
          ui.followUp.dataset.turn = msg.turn_id || '';
          ui.partial.textContent = '';
          ui.final.textContent = '';
        }
        break;
      case 'listening':
        st.listening = msg.turn_id;
        st.paused = msg.paused;
        // The server's clock starts after the question's audio; show the answer time meanwhile.
        st.answerS = msg.timer_s - Math.max(0, st.playEnd - st.audio.currentTime);
        st.deadline = performance.now() / 1000 + msg.timer_s;
        setControls(true);
        ui.pause.firstChild.textContent = msg.paused ? 'Resume ' : 'Pause ';
        setState(msg.paused ? 'Paused — press P to carry on' : 'Listening — answer when the question ends',
          msg.paused ? 'paused' : 'listening');
        break;
      case 'partial':
        ui.partial.textContent = msg.text;
        break;
      case 'final':
        st.listening = null;
        setControls(false);
        ui.partial.textContent = '';
        ui.final.textContent = msg.text || '(nothing was heard)';
        ui.timerLeft.textContent = '--:--';
        break;
      case 'thinking':
        setState('Thinking about your answer…', 'thinking');
        break;
      case 'feedback':
        showFeedback(msg);
        break;
      case 'reviewing':
        startReview(msg);
        break;
      case 'reveal':
        showReveal(msg);
        break;
      case 'report':
        st.ended = true;
        showReport(msg);
        break;
      case 'error':
        if (msg.code === 'server_full') { serverFull(); break; }
        if (continueElsewhere(msg)) break;
        showAlert(`${msg.message} (${msg.code})`);
        if (msg.code === 'unknown_session' || msg.code === 'cannot_continue') { st.session = null; backToSetup(); }
        break;
      default:
        break;
    }
  }

  // The server that ran the session is gone (its resume token is unknown here): once the
  // surviving servers have marked the session interrupted, go on with it from the next question.
  // Until the dead server's lease runs out (about 20 s) it still counts as running: retry.
  function continueElsewhere(msg) {
    if (!st.session || st.ended) return false;
    if (st.continueTries && msg.code === 'audio_before_start') return true; // sent before we knew
    const waiting = msg.code === 'cannot_continue' && /running on a live server/.test(msg.message);
    if (msg.code !== 'unknown_session' && !waiting) return false;
    if (st.continueTries >= 20) return false;
    st.continueTries += 1;
    st.listening = null; // no microphone audio until the continued session asks for an answer
    setState('The interview server stopped — continuing on another server…', 'warn');
    const ws = st.ws;
    const request = { ...st.first, type: 'start', continue_session: st.session.id };
    setTimeout(() => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(request)); },
      msg.code === 'unknown_session' ? 0 : 3000);
    return true;
  }

  function kindLabel(kind) {
    return { question: 'Question', follow_up: 'Follow-up', transition: '', greeting: '', closing: '' }[kind] || '';
  }

  // ---- feedback and report ----------------------------------------------------------------------------
  function pct(x) { return `${Math.round((x || 0) * 100)}%`; }

  const VERDICT_MARKS = { covered: '✓', partial: '~', missed: '✗', incorrect: '!' };
  const VERDICT_LABELS = { covered: 'Covered', partial: 'Partly covered', missed: 'Missed', incorrect: 'Incorrect' };
  // Results stored before verdicts existed carry only covered/partial.
  function verdictOf(k) { return k.verdict || (k.covered ? 'covered' : (k.partial ? 'partial' : 'missed')); }

  function showFeedback(fb) {
    ui.feedback.hidden = false;
    const card = feedbackCard(fb);
    const attempt = String(fb.attempt || 1);
    for (const old of ui.feedbackList.querySelectorAll('.fb')) { // a resumed connection re-sends the latest
      if (old.dataset.question === fb.question_id && old.dataset.attempt === attempt) old.remove();
    }
    ui.feedbackList.prepend(card);
    if (fb.attempt) { // a review session: the feedback takes the stage until the candidate goes on
      ui.reviewCard.replaceChildren(card.cloneNode(true));
      card.hidden = true; // joins the list beside the stage once the candidate moves on
      ui.feedback.hidden = !ui.feedbackList.querySelector('.fb:not([hidden])');
      ui.review.hidden = false;
      ui.answerControls.classList.add('reviewing'); // only End interview stays
      ui.review.scrollIntoView({ block: 'nearest' });
    }
  }

  function feedbackCard(fb) {
    const points = el('ul', { class: 'points' }, ...(fb.key_points || []).map((k) => {
      const v = verdictOf(k);
      return el('li', { class: v, 'data-verdict': v },
        el('span', { class: 'mark', 'aria-hidden': 'true' }, VERDICT_MARKS[v]),
        el('span', { class: 'statement' }, el('span', { class: 'verdict' }, `${VERDICT_LABELS[v]}: `), k.statement),
        k.evidence && v !== 'missed' ? el('q', { class: 'evidence' }, k.evidence.quote) : null,
        v === 'incorrect' && k.correction ? el('p', { class: 'correction' }, `Correction: ${k.correction}`) : null);
    }));
    const d = fb.delivery || {};
    const numbers = [
      `${d.word_count ?? 0} words`,
      d.words_per_minute != null ? `${Math.round(d.words_per_minute)} words/min` : null,
      d.fillers_per_minute != null ? `${d.fillers_per_minute.toFixed(1)} fillers/min` : null,
      d.long_pauses && d.long_pauses.length ? `${d.long_pauses.length} long pause(s)` : null,
    ].filter(Boolean);
    const card = el('article', { class: 'fb', 'data-question': fb.question_id, 'data-attempt': String(fb.attempt || 1) },
      el('header', {}, el('strong', {}, `Score ${Math.round(fb.overall)}/100`),
        el('span', { class: 'muted' }, ` · content ${pct(fb.content_score)}`),
        fb.attempt > 1 ? el('span', { class: 'muted' }, ` · attempt ${fb.attempt}`) : null),
      el('p', { class: 'q muted' }, questionText(fb.question_id)),
      fb.comparison ? comparisonBox(fb.comparison) : null,
      points,
      el('p', { class: 'delivery' }, numbers.join(' · ')),
      fb.tips && fb.tips.length ? el('ul', { class: 'tips' }, ...fb.tips.map((t) => el('li', {}, t))) : null);
    return card;
  }

  // What changed since the previous attempt: the score's move and the key points gained or lost.
  function comparisonBox(c) {
    const change = Math.round(c.score_change);
    const sign = change > 0 ? '+' : '';
    const changes = [
      ...c.gained.map((p) => el('li', { class: 'gained' }, `Gained: ${p.statement} `,
        el('span', { class: 'muted' }, `(${VERDICT_LABELS[p.before].toLowerCase()} → ${VERDICT_LABELS[p.after].toLowerCase()})`))),
      ...c.lost.map((p) => el('li', { class: 'lost' }, `Lost: ${p.statement} `,
        el('span', { class: 'muted' }, `(${VERDICT_LABELS[p.before].toLowerCase()} → ${VERDICT_LABELS[p.after].toLowerCase()})`))),
    ];
    return el('div', { class: 'compare' },
      el('strong', {}, `Attempt ${c.attempt} against attempt ${c.previous_attempt}: `),
      `${Math.round(c.previous_score)} → ${Math.round(c.score)} `,
      el('span', { class: change > 0 ? 'up' : (change < 0 ? 'down' : '') }, change ? `(${sign}${change})` : '(no change)'),
      changes.length ? el('ul', {}, ...changes) : el('p', { class: 'muted' }, 'The same key points as before.'));
  }

  function startReview(msg) {
    st.reviewing = msg;
    ui.review.hidden = false;
    ui.answerControls.classList.add('reviewing'); // only End interview stays
    ui.continue.firstChild.textContent = msg.last ? 'See the report ' : 'Continue ';
    ui.continue.disabled = false;
    ui.retry.disabled = false;
    setState(msg.last ? 'Read your feedback, then see the report' : 'Read your feedback, then continue when ready',
      'review');
    ui.continue.focus();
  }

  function endReview() {
    st.reviewing = null;
    for (const card of ui.feedbackList.querySelectorAll('.fb[hidden]')) card.hidden = false;
    ui.feedback.hidden = !ui.feedbackList.children.length;
    ui.review.hidden = true;
    ui.answerControls.classList.remove('reviewing');
    ui.continue.disabled = true;
    ui.retry.disabled = true;
  }

  function choose(type) {
    if (!st.reviewing) return;
    send(type);
    ui.continue.disabled = true;
    ui.retry.disabled = true;
    setState(type === 'retry' ? 'Asking the question again…' : 'Moving on…', 'thinking');
  }

  function roundTitle(questionId, roundId) {
    const q = st.session && st.session.questions.find((x) => x.id === questionId);
    return (q && q.round_title) || roundId;
  }

  function questionText(id) {
    const q = st.session && st.session.questions.find((x) => x.id === id);
    return q ? q.text : '';
  }

  function showReveal(msg) {
    const card = ui.feedbackList.querySelector(`[data-question="${CSS.escape(msg.question_id)}"]`);
    const box = el('div', { class: 'reveal' }, el('strong', {}, 'A strong answer covers: '), msg.text);
    if (card) card.append(box); else ui.feedbackList.prepend(box);
    if (!ui.review.hidden) {
      const shown = ui.reviewCard.querySelector('.fb');
      if (shown && !shown.querySelector('.reveal')) shown.append(box.cloneNode(true));
    }
  }

  function showReport(r) {
    stopCapture();
    endReview();
    ui.interview.hidden = true;
    ui.report.hidden = false;
    const body = [];
    body.push(el('p', { class: 'overall' }, r.overall != null ? `Overall ${Math.round(r.overall)}/100` : 'No answer was graded.'));
    if (r.ran) body.push(el('p', { class: 'ran muted' }, `Interviewer: ${r.ran.interviewer} · grader: ${r.ran.grader}`));
    if (r.ended_early) body.push(el('p', { class: 'early' }, r.ended_early));
    const notReached = r.not_reached || [];
    if (r.rounds && r.rounds.length) {
      body.push(el('table', {},
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Round'), el('th', { scope: 'col' }, 'Answered'),
          el('th', { scope: 'col' }, 'Average'))),
        el('tbody', {}, ...r.rounds.map((x) => el('tr', {}, el('td', {}, x.title), el('td', {}, `${x.answered}/${x.questions}`),
          el('td', {}, x.average_score != null ? `${Math.round(x.average_score)}` : '—'))))));
    }
    for (const q of r.questions || []) {
      body.push(el('details', {}, el('summary', {}, `${q.score != null ? Math.round(q.score) : '—'} · ${q.text}`),
        ...(q.answers || []).map((a) => el('p', { class: 'answer' }, a)),
        q.skipped ? el('p', { class: 'muted' }, 'Skipped') : null,
        el('p', { class: 'muted' }, `Strong answer: ${q.strong_answer || ''}`)));
    }
    if (notReached.length) {
      body.push(el('h3', {}, 'Not reached'), el('ul', { class: 'not-reached' },
        ...notReached.map((q) => el('li', {}, `${q.text} (${q.round_title})`))));
    }
    const d = r.delivery || {};
    if (d.words_per_minute != null) {
      body.push(el('p', {}, `Pace ${Math.round(d.words_per_minute)} words/min · fillers ${d.fillers_per_minute ?? 0}/min · ${d.long_pauses ?? 0} long pauses`));
    }
    if (r.top_tips && r.top_tips.length) {
      body.push(el('h3', {}, 'Top tips'), el('ol', { class: 'tips' }, ...r.top_tips.map((t) => el('li', {}, t))));
    }
    ui.reportBody.replaceChildren(...body);
    ui.report.focus();
  }

  // ---- flow --------------------------------------------------------------------------------------------
  function stopCapture() {
    if (st.stream) st.stream.getTracks().forEach((t) => t.stop());
    st.stream = null;
    st.listening = null;
  }

  // The server refused a new session because it runs as many as it can serve well: say so until the
  // candidate tries again, and do not reconnect (nothing was lost, there is just no room yet).
  function serverFull() {
    st.ended = true;
    if (st.ws) st.ws.close(1000);
    backToSetup();
    showAlert('The server is full: it is already running as many interviews as it can without slowing '
      + 'them all down. Please try again in a few minutes.', { sticky: true });
  }

  function backToSetup() {
    stopCapture();
    ui.interview.hidden = true;
    ui.report.hidden = true;
    ui.setup.hidden = false;
    ui.start.disabled = false;
  }

  // What getUserMedia's failure means for the candidate, and what to do about it: a missing
  // microphone and a blocked one need different fixes.
  function microphoneProblem(err) {
    switch (err && err.name) {
      case 'NotFoundError':
      case 'OverconstrainedError':
        return 'No microphone was found. Connect one (or turn it on in your system\'s sound settings), then press Start again.';
      case 'NotAllowedError':
      case 'SecurityError':
        return 'The microphone is blocked for this page. Allow it in the address bar (the microphone icon), then press Start again.';
      case 'NotReadableError':
        return 'The microphone is in use by another program or could not be started. Close the other program, then press Start again.';
      default:
        return `The microphone could not be opened (${err && err.message ? err.message : err}). Check it, then press Start again.`;
    }
  }

  async function start(e) {
    e.preventDefault();
    ui.start.disabled = true;
    try {
      await openAudio();
    } catch (err) {
      showAlert(microphoneProblem(err));
      ui.start.disabled = false;
      return;
    }
    const rounds = [...ui.rounds.querySelectorAll('input:checked')].map((i) => i.value);
    const msg = {
      type: 'start', role: ui.role.value, rounds, questions: Number(ui.questions.value),
      timer_s: ui.timer.value ? Number(ui.timer.value) : null, sample_rate: st.audio.sampleRate,
      interviewer: ui.interviewer.value, voice_engine: ui.voice.value || null,
      follow_ups: Number(ui.followUps.value), order: 'by-round', review: true,
    };
    if (chosen.length) msg.question_ids = chosen;
    Object.assign(st, { session: null, ended: false, playEnd: 0, wanted: msg });
    ui.alert.hidden = true;
    ui.captions.replaceChildren();
    ui.feedbackList.replaceChildren();
    ui.feedback.hidden = true;
    endReview();
    ui.setup.hidden = true;
    ui.interview.hidden = false;
    setState('Connecting…', '');
    connect(msg);
  }

  function tick() {
    if (st.listening && !st.paused) {
      const left = Math.min(st.answerS, st.deadline - performance.now() / 1000);
      ui.timerLeft.textContent = fmtTime(left);
      ui.timerLeft.parentElement.classList.toggle('low', left < 15);
      if (!speaking() && ui.state.dataset.kind === 'listening') setState('Listening — take your time', 'listening');
    }
    requestAnimationFrame(tick);
  }

  function onKey(e) {
    if (!(st.listening || st.reviewing) || e.target.closest('input, select, textarea') || e.ctrlKey || e.metaKey
        || e.altKey) return;
    const key = e.key.toLowerCase();
    if (e.target.closest('button') && (key === 'enter' || key === ' ')) return; // the focused button acts
    const map = st.reviewing ? { enter: ui.continue, r: ui.retry }
      : { enter: ui.done, ' ': ui.done, s: ui.skip, r: ui.reveal, p: ui.pause };
    const button = map[key];
    if (button && !button.disabled) { e.preventDefault(); button.click(); }
  }

  ui.form.addEventListener('submit', start);
  ui.role.addEventListener('change', showRounds);
  ui.done.addEventListener('click', () => { send('end_answer'); setControls(false); });
  ui.skip.addEventListener('click', () => { send('skip'); setControls(false); });
  ui.reveal.addEventListener('click', () => { send('reveal'); setControls(false); });
  ui.pause.addEventListener('click', () => send(st.paused ? 'resume' : 'pause'));
  ui.stop.addEventListener('click', () => { send('stop'); setState('Ending the interview…', 'thinking'); });
  ui.again.addEventListener('click', backToSetup);
  ui.continue.addEventListener('click', () => choose('next'));
  ui.retry.addEventListener('click', () => choose('retry'));
  document.addEventListener('keydown', onKey);
  for (const link of document.querySelectorAll('#sessions-link, #report-sessions, #chosen a')) {
    link.href = withToken(link.getAttribute('href'));
  }
  requestAnimationFrame(tick);
  loadBanks();
})();
