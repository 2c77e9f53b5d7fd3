"""What one app owns: its database, rate limiter, audit writer, token cache and wake listener.

One process serves one app's database at a time: the models reach the database through `db.database`
(peewee's DatabaseProxy), and the services reach the audit writer and the token cache through
`audit.writer` and `tokens.cache`, which the open runtime binds. A second app on another database
while one is open is refused with a clear error; `close()` unbinds everything, after which the
process may open another.
"""

from __future__ import annotations

import logging
import threading

from fleetctl import config, db
from fleetctl.errors import FleetError
from fleetctl.services import audit, tokens
from fleetctl.services.ratelimit import SlidingWindow
from fleetctl.services.ratelimit_shared import SharedWindow
from fleetctl.services.wakeup_pg import Listener
from fleetctl.settings import ServerSettings

log = logging.getLogger("fleetctl.server")
_open: list[Runtime] = []  # the runtimes open in this process (all on one database)
_lock = threading.Lock()


def make_limiter(settings: ServerSettings) -> SlidingWindow:
    """In memory on SQLite (one process); shared through the database on PostgreSQL (many servers)."""
    if db.engine() == "postgres":
        return SharedWindow(db.database.obj, 60.0, interval=settings.rate_sync_ms / 1000).start()
    return SlidingWindow(60.0)


def make_wake_listener(url: str):
    """On PostgreSQL, the thread that wakes this server's waiters on other servers' writes; None on SQLite."""
    if db.engine() != "postgres":
        return None
    return Listener(url).start()


class Runtime:
    """The state of one app, built from its settings; `close()` stops its threads and closes its database."""

    def __init__(self, settings: ServerSettings, migrate: bool = True) -> None:
        self.settings = settings
        self.url = settings.db or config.default_db()
        with _lock:
            if _open and _open[0].url != self.url:
                raise FleetError(f"this process already serves the database {config.shown(_open[0].url)}; "
                                 "close that app first (one process serves one app's database at a time)")
            if not _open:
                db.open_database(self.url, migrate_now=migrate)
            _open.append(self)
        self.closed = False
        self.audit = audit.AuditWriter()
        self.tokens = tokens.AuthCache(ttl=settings.auth_cache_ttl, failure_limit=settings.auth_failures_per_minute)
        self.failures = SlidingWindow(60.0)
        self.limiter = self.wake_listener = None
        try:
            self.limiter = make_limiter(settings)
            self.wake_listener = make_wake_listener(self.url)
        except BaseException:
            self.close()
            raise
        audit.writer, tokens.cache, tokens.failures = self.audit, self.tokens, self.failures
        self.audit.start()

    def close(self) -> None:
        """Stop the wake listener, the shared limiter and the audit writer (after a last flush), then
        close the database when no other app of this process uses it. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for stop in (getattr(self.wake_listener, "stop", None), getattr(self.limiter, "stop", None),
                     self.audit.stop):
            if stop is not None:
                try:
                    stop()
                except Exception:  # noqa: BLE001 - shutting down: stop the others all the same
                    log.exception("while stopping the server")
        with _lock:
            _open.remove(self)
            if audit.writer is self.audit:
                audit.writer = _open[-1].audit if _open else audit.AuditWriter()
            if tokens.cache is self.tokens:
                tokens.cache = _open[-1].tokens if _open else tokens.AuthCache()
                tokens.failures = _open[-1].failures if _open else SlidingWindow(60.0)
            if not _open:
                db.close_database()
