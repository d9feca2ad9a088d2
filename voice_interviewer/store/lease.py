"""A serving process's lease in the store: how servers sharing one database tell a dead peer from a live one.

A file lock can only be seen on its own host, so with many servers the database
carries liveness instead: each server keeps a ``servers`` row whose ``expires_at`` it
pushes ``lease_s`` ahead every ``renew_s`` (on the database's clock), and names that
row as the ``owner`` of each session it records. On every renewal it also takes over
the running sessions of servers whose lease ran out (see
:meth:`~.sessions.SessionStore.take_over_orphans`), so a killed server's interviews
are marked ``interrupted`` within about ``lease_s + renew_s`` and can be continued.

Renewal and takeover each run on a thread of their own: they touch the database and
files, which must never happen on a server's event loop, and a takeover that converts
a lot of audio must never delay this server's own renewal.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ConfigError, StoreError

if TYPE_CHECKING:
    from .sessions import SessionStore

log = logging.getLogger(__name__)

DEFAULT_LEASE_S = 15.0


class ServerLease:
    """Held while a server runs; ``with store_lease:`` or :meth:`start` / :meth:`stop`.

    Args:
        store: The store whose sessions this server records.
        lease_s: How long the server counts as alive after its last renewal. Shorter means
            quicker takeover, but a server stalled longer than this (a database outage)
            would be judged dead while alive; a few renewals' worth is the safe minimum.
    """

    def __init__(self, store: "SessionStore", lease_s: float = DEFAULT_LEASE_S):
        if not 1.0 <= lease_s <= 3600.0:
            raise ConfigError(f"lease of {lease_s:g} s is out of range; use 1–3600 seconds (default "
                              f"{DEFAULT_LEASE_S:g}): how long a silent server counts as alive")
        self.store = store
        self.lease_s = lease_s
        self.renew_s = lease_s / 3  # two renewals may fail before peers judge us dead
        self.id = f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"
        self.taken_over: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "ServerLease":
        """Register the lease, take over what dead servers left, then renew in the background."""
        self._renew()
        self.store.owner = self.id
        self._take_over()
        self._threads = [threading.Thread(target=self._every, args=(job,), name=f"store-lease-{name}", daemon=True)
                         for name, job in (("renew", self._renew), ("takeover", self._take_over))]
        for thread in self._threads:
            thread.start()
        return self

    def _renew(self) -> None:
        if not self.store.records.renew_lease(self.id, host=socket.gethostname(), pid=os.getpid(),
                                              lease_s=self.lease_s) and self.store.owner is not None:
            log.error("lease %s had expired (this server stalled for over %g s); peers may have taken "
                      "over its sessions", self.id, self.lease_s)

    def _take_over(self) -> None:
        recovered = self.store.take_over_orphans()
        if recovered:
            log.warning("marked %d session(s) of a dead server as interrupted: %s", len(recovered),
                        ", ".join(recovered))
            self.taken_over.extend(recovered)

    def _every(self, job: Callable[[], None]) -> None:
        while not self._stop.wait(self.renew_s):
            try:
                job()
            except StoreError:  # a database outage: keep trying, the next round may succeed
                log.exception("server lease: %s failed", getattr(job, "__name__", job))

    def stop(self) -> None:
        """Stop renewing and give the lease back (sessions still running then are taken over by peers)."""
        self._stop.set()
        for thread in self._threads:
            thread.join()
        try:
            self.store.records.end_lease(self.id)
        except StoreError:
            log.exception("could not end the server lease")
        self.store.owner = None

    def __enter__(self) -> "ServerLease":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
