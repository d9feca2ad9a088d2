"""Durable sessions: SQLite (WAL) for sessions, turns, transcripts and feedback; audio files beside it.

Layout of the data directory (see ``docs/sessions.md``)::

    <data>/sessions.db                   sessions, turns, answers, segments, feedback, utterances
    <data>/sessions/<id>/q1.wav          the candidate's answer to turn q1 (q1.pcm while recording)
    <data>/sessions/<id>/u001.wav        the interviewer's first utterance
"""

from .paths import default_data_dir, new_session_id, validate_audio_name, validate_session_id
from .recorder import StoreRecorder
from .schema import SCHEMA_VERSION
from .sessions import SessionStore, StoreOptions

__all__ = ["SCHEMA_VERSION", "SessionStore", "StoreOptions", "StoreRecorder", "default_data_dir",
           "new_session_id", "validate_audio_name", "validate_session_id"]
