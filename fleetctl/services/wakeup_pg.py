"""Live wake across servers on PostgreSQL: NOTIFY at commit, one LISTEN connection per server process.

Every change sends `NOTIFY fleetctl_wake, '<node> <fleet> <member>'` inside its transaction;
PostgreSQL delivers it to every listener when (and only if) the transaction commits. Each server
listens on a connection of its own in a background thread and wakes its waiters (`wakeup.hub`);
its own notifications are skipped (the local wake-up already ran after the commit). When the
connection is lost, the listener reconnects with backoff and then wakes every waiter, since
notifications sent meanwhile are lost: each re-checks its wake, so no news waits for a timeout.
"""

from __future__ import annotations

import logging
import threading

import psycopg

from fleetctl.services import wakeup
from fleetctl.services.pg_notify import CHANNEL, NODE, parse

log = logging.getLogger("fleetctl.wakeup")

BACKOFF_CAP = 10.0
POLL = 0.5  # how often the listener looks at its stop flag


class Listener:
    """The background thread that turns other servers' NOTIFYs into local wake-ups."""

    def __init__(self, url: str, hub: wakeup.Hub | None = None) -> None:
        self.url = url
        self.hub = hub or wakeup.hub
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()  # set while listening (tests wait on it)

    def start(self) -> Listener:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="fleetctl-wake-listener", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - the database went away: reconnect
                self.connected.clear()
                failures += 1
                delay = min(BACKOFF_CAP, 0.5 * 2 ** (failures - 1))
                if failures == 1 or failures % 10 == 0:
                    log.warning("wake listener lost the database (%s); reconnecting in %.1fs", exc, delay)
                self._stop.wait(delay)

    def _listen(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.connected.set()
            self.hub.wake(None)  # anything sent while we were not listening: every waiter re-checks
            while not self._stop.is_set():
                for item in conn.notifies(timeout=POLL):
                    self._deliver(item.payload)
                if conn.closed:
                    raise ConnectionError("listener connection closed")
        self.connected.clear()

    def _deliver(self, payload: str) -> None:
        parsed = parse(payload)
        if parsed is None:
            self.hub.wake(None)
        elif parsed[0] != NODE:
            self.hub.wake(parsed[1], parsed[2])
