"""The store's :class:`~voice_interviewer.recording.Recorder`: one session, written as it happens.

The flow calls it from the event loop and voice channels call :meth:`candidate_audio`
and :meth:`interviewer_audio` from audio threads, so every method takes the
recorder's lock before touching shared state; audio bytes go straight to an
append-only file, and committed transcript segments are committed to SQLite the
moment they arrive. After a crash the store finds the raw audio and the segments
and rebuilds what it can (see :meth:`SessionStore.recover_interrupted`). Rows are
written through the store's :class:`~.records.Records`, never with SQL of its own.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from .audio import PcmAppender, pcm_duration_s, pcm_to_wav
from .locks import SessionLock
from .paths import TURN_ID_PATTERN, validate_session_id

if TYPE_CHECKING:
    from ..bank import Question
    from ..channels.base import Reply, SessionInfo, Utterance
    from ..report import SessionReport
    from ..scoring.feedback import Feedback
    from ..transcript import Segment
    from .sessions import SessionStore

FINAL_STATUSES = ("completed", "stopped", "failed")
TURN_KINDS = {"question": "question", "follow_up": "follow_up"}


def question_record(q: "Question", round_title: str | None = None) -> dict[str, Any]:
    """What a report needs to know about a question long after the bank has changed."""
    return {"id": q.id, "round": q.round, "round_title": round_title, "text": q.text, "kind": q.kind,
            "strong_answer": q.strong_answer,
            "key_points": [{"id": k.id, "statement": k.statement, "weight": k.weight} for k in q.key_points]}


class StoreRecorder:
    """Records one session into a :class:`SessionStore`; create it with ``store.recorder()``."""

    def __init__(self, store: "SessionStore", expected_id: str | None = None, continuing: bool = False):
        """``continuing``: the session is already stored and was reopened by
        :meth:`SessionStore.continue_session`; recording goes on after what it holds."""
        self._store = store
        self._expected_id = expected_id
        self._continuing = continuing
        self._lock = threading.RLock()
        self.session_id: str | None = None
        self._dir: Path | None = None
        self._session_lock: SessionLock | None = None
        self._ord = 0
        self._utterances = 0
        self._last_utterance: str | None = None
        self._utterance_by_turn: dict[str, str] = {}
        self._interviewer: dict[str, PcmAppender] = {}
        self._candidate: dict[str, PcmAppender] = {}
        self._answers: set[str] = set()
        self._closed = False

    # -- helpers ---------------------------------------------------------------------------

    def _next_ord(self) -> int:
        self._ord += 1
        return self._ord

    @property
    def _sid(self) -> str:
        """The session's id, once started (every caller has checked :meth:`_active`)."""
        assert self.session_id is not None
        return self.session_id

    @property
    def _folder(self) -> Path:
        assert self._dir is not None
        return self._dir

    def _active(self) -> bool:
        return self.session_id is not None and not self._closed

    def _ensure_answer(self, turn_id: str, question_id: str | None = None) -> None:
        if turn_id in self._answers:
            return
        self._answers.add(turn_id)
        self._store.records.add_answer(self._sid, turn_id, question_id=question_id, ord_=self._next_ord())

    # -- Recorder protocol ------------------------------------------------------------------

    def session_started(self, session: "SessionInfo") -> None:
        with self._lock:
            if self.session_id is not None:
                raise StoreError(f"this recorder already records session {self.session_id}; "
                                 f"call store.recorder() once per session")
            sid = validate_session_id(session.session_id)
            if self._expected_id is not None and sid != self._expected_id:
                raise StoreError(f"this recorder was made for session {self._expected_id}, "
                                 f"not {sid}; call store.recorder({sid!r})")
            if not self._continuing and self._store.exists(sid):
                raise StoreError(f"session {sid} is already stored; a new session needs a new id")
            self._dir = self._store.session_dir(sid)
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._session_lock = SessionLock(self._dir)
            if not self._session_lock.acquire():
                raise StoreError(f"session {sid} is being recorded by another process")
            records = self._store.records
            if self._continuing:
                # Numbering goes on after what the first sitting recorded: turn ids, utterance
                # names and timeline positions stay unique within the session.
                self._ord = records.next_ord(sid)
                self._utterances = len(records.utterances(sid))
                self._answers = {r["turn_id"] for r in records.answers(sid)}
            else:
                records.add_session(
                    sid, role=session.role, role_title=session.role_title, interviewer=session.interviewer,
                    started_at=time.time(), settings=session.settings,
                    questions=[question_record(q, session.round_titles.get(q.round)) for q in session.questions],
                    recorded_in=self._store.recorded_in, owner=self._store.owner)
            self.session_id = sid

    def utterance(self, utterance: "Utterance") -> None:
        with self._lock:
            if not self._active():
                return
            self._utterances += 1
            name = f"u{self._utterances:03d}"
            kind = getattr(utterance.kind, "value", str(utterance.kind))
            ord_ = self._next_ord()
            records = self._store.records
            records.add_utterance(self._sid, name, turn_id=utterance.turn_id,
                                  question_id=utterance.question_id, kind=kind, text=utterance.text, ord_=ord_)
            if kind in TURN_KINDS and utterance.turn_id and utterance.question_id:
                records.add_turn(self._sid, utterance.turn_id, question_id=utterance.question_id,
                                 kind=TURN_KINDS[kind], text=utterance.text, ord_=ord_)
            self._last_utterance = name
            if utterance.turn_id:
                self._utterance_by_turn[utterance.turn_id] = name

    def interviewer_audio(self, turn_id: str, pcm16: bytes, sample_rate: int) -> None:
        with self._lock:
            if not self._active():
                return
            name = self._utterance_by_turn.get(turn_id) or self._last_utterance
            if name is None:
                return  # audio before anything was said: nothing to attach it to
            appender = self._interviewer.get(name)
            if appender is None:
                appender = PcmAppender(self._folder / f"{name}.pcm", int(sample_rate),
                                       self._store.options.flush_interval_s)
                self._interviewer[name] = appender
                self._store.records.set_utterance_audio(self._sid, name, f"{name}.pcm", int(sample_rate))
        appender.append(pcm16, sample_rate)

    def candidate_audio(self, turn_id: str, pcm16: bytes, sample_rate: int) -> None:
        with self._lock:
            if not self._active():
                return
            if not TURN_ID_PATTERN.fullmatch(str(turn_id)):
                raise StoreError(f"turn id {turn_id!r} is not of the form q1 or q1f1 "
                                 f"(q1r2, q1r2f1 for a second attempt)")
            appender = self._candidate.get(turn_id)
            if appender is None:
                self._ensure_answer(turn_id)
                appender = PcmAppender(self._folder / f"{turn_id}.pcm", self._store.options.candidate_sample_rate,
                                       self._store.options.flush_interval_s)
                self._candidate[turn_id] = appender
                self._store.records.set_answer_audio(self._sid, turn_id, f"{turn_id}.pcm")
        appender.append(pcm16, sample_rate)

    def segment_committed(self, turn_id: str, segment: "Segment") -> None:
        with self._lock:
            if not self._active():
                return
            self._ensure_answer(turn_id)
            self._store.records.add_segment(self._sid, turn_id, segment)

    def answer(self, question: "Question", turn_id: str, reply: "Reply") -> None:
        with self._lock:
            if not self._active():
                return
            self._ensure_answer(turn_id, question.id)
            appender = self._candidate.pop(turn_id, None)
            audio_file = None
            duration = reply.transcript.duration_s
            if appender is not None:
                appender.close()
                audio_file = appender.path.name
                duration = pcm_duration_s(appender.path, appender.sample_rate)
            self._store.records.finish_answer(self._sid, turn_id, question_id=question.id,
                action=getattr(reply.action, "value", str(reply.action)), transcript=reply.transcript,
                end_reason=str(reply.end_reason), duration_s=duration, audio_file=audio_file)

    def feedback(self, question: "Question", feedback: "Feedback", attempt: int = 1, turn_id: str = "") -> None:
        with self._lock:
            if not self._active():
                return
            data = feedback.to_dict()
            self._store.records.add_attempt(self._sid, question.id, attempt, turn_id=turn_id,
                                            overall=feedback.overall, feedback=data)
            self._store.records.put_feedback(self._sid, question.id, feedback.overall, data)

    def session_finished(self, report: "SessionReport | None", status: str) -> None:
        with self._lock:
            if not self._active():
                return
            if status not in FINAL_STATUSES:
                status = "failed"
            self._closed = True
            for appender in [*self._candidate.values(), *self._interviewer.values()]:
                appender.close()
            self._store.rebuild_unfinished(self._sid, reason="unfinished")
            self._store.finalise_audio(self._sid)
            self._store.records.end_session(self._sid, status, time.time(),
                                            report.to_dict() if report else None)
            if self._session_lock is not None:
                self._session_lock.release()

    def flush(self) -> None:
        """Push every open audio file to the kernel now (the appenders also do it each interval)."""
        with self._lock:
            appenders = [*self._candidate.values(), *self._interviewer.values()]
        for appender in appenders:
            appender.flush()


def finalise_pcm(directory: Path, name: str, sample_rate: int) -> str | None:
    """Turn ``name.pcm`` into ``name.wav`` and drop the raw file; returns the WAV's name (None if neither exists)."""
    pcm = directory / f"{name}.pcm"
    wav = directory / f"{name}.wav"
    if pcm.exists():
        pcm_to_wav(pcm, wav, sample_rate)
        pcm.unlink(missing_ok=True)
    return wav.name if wav.exists() else None
