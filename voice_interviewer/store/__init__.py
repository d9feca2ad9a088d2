"""Durable sessions: rows in a database, audio files in the data folder beside it.

The database is a SQLite file (WAL) in the data folder by default, or PostgreSQL when
a ``postgresql://`` store URL is given (``--store`` or ``$VOICE_INTERVIEWER_STORE``),
so that many interview servers can share one store. Layout of the data folder (see
``docs/sessions.md``)::

    <data>/sessions.db                   sessions, turns, answers, segments, feedback, utterances (SQLite)
    <data>/sessions/<id>/q1.wav          the candidate's answer to turn q1 (q1.pcm while recording)
    <data>/sessions/<id>/u001.wav        the interviewer's first utterance

The session folders may live elsewhere (``--audio-dir``): servers that share one
PostgreSQL store share one audio folder, and hold leases (:mod:`.lease`) so that
survivors take over a dead server's sessions.

Layers, each using only the public methods of the one below: :mod:`.database`
(connect, transaction, execute; :mod:`.dialect` holds what differs between engines),
:mod:`.schema` (migrations), :mod:`.records` (every query), then
:class:`SessionStore` and its :class:`StoreRecorder`.
"""

from .database import ENV_STORE, Database, open_database, store_url
from .lease import ServerLease
from .paths import ENV_AUDIO_DIR, default_data_dir, new_session_id, validate_audio_name, validate_session_id
from .recorder import StoreRecorder
from .schema import SCHEMA_VERSION
from .sessions import Continuation, SessionStore, StoreOptions

__all__ = ["ENV_AUDIO_DIR", "ENV_STORE", "SCHEMA_VERSION", "Continuation", "Database", "ServerLease",
           "SessionStore", "StoreOptions", "StoreRecorder",
           "default_data_dir", "new_session_id", "open_database", "store_url", "validate_audio_name",
           "validate_session_id"]
