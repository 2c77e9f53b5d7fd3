"""Rate limits shared by several servers on one PostgreSQL database.

Each server process counts requests in memory like `SlidingWindow` and keeps one row per
(key, fixed window) in `rate_counter` holding `its count + the part of the limit it has reserved`
(a grant). A request is allowed from the local grant without touching the database. When the
grant is spent the process reserves a new one - half of what is left divided by the number of
live servers - with one UPSERT (its own row only: servers never contend for a row) and one read
of the other servers' rows, and keeps only what still fits. As every reservation is written
before it is read back, of two servers racing for the last requests at least one sees the
other's, so the servers together never pass the limit; a refusal needs no database at all.
A background thread, every `interval` seconds, writes counts that changed, gives back grants
that went unused, refreshes the other servers' counts and the number of live servers
(heartbeat rows), and drops rows of windows that no longer count.

Cost: a handful of round trips per key per window (grants shrink geometrically), one per
request only for the last few requests below a limit. If the database is unreachable the
process keeps deciding on what it knows and catches up when it is back.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import threading
import time

from fleetctl import db, settings
from fleetctl.services.ratelimit import SlidingWindow, Verdict

log = logging.getLogger("fleetctl.ratelimit")

CHUNK = 500
HEARTBEAT = "~node"  # key of the liveness rows: hits = the unix time of the server's last sync
UPSERT = ("INSERT INTO rate_counter (key, period, node, hits) VALUES {values} "
          "ON CONFLICT (key, period, node) DO UPDATE SET hits = EXCLUDED.hits")
READ = ("SELECT key, period, SUM(hits) FROM rate_counter "
        "WHERE key = ANY(%s) AND period >= %s AND node <> %s GROUP BY key, period")
LIVE = "SELECT COUNT(*) FROM rate_counter WHERE key = %s AND hits >= %s"
CLEANUP = "DELETE FROM rate_counter WHERE (key <> %s AND period < %s) OR (key = %s AND hits < %s)"


def sync_interval() -> float:
    """Seconds between syncs: the `rate_sync_ms` setting (FLEET_RATE_SYNC_MS, 300 ms, 50 ms to 5 s)."""
    return settings.get("rate_sync_ms") / 1000


def node_name() -> str:
    """A name unique to this server process (host, pid and a random suffix)."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(4)}"


class SharedWindow(SlidingWindow):
    """Sliding-window limiter whose counts and reservations are shared through `rate_counter`."""

    def __init__(self, database, window: float = 60.0, interval: float | None = None,
                 clock=time.time, node: str | None = None) -> None:
        super().__init__(window, clock)  # wall clock: window numbers must agree across hosts
        self.database = database
        self.interval = sync_interval() if interval is None else interval
        self.node = node or node_name()
        self.nodes = 1  # live servers sharing the limits, this one included
        self._remote: dict[str, dict[int, int]] = {}  # key -> {window: the other servers' rows}
        self._grants: dict[str, list] = {}  # key -> [window, unused, used since the last sync]
        self._written: dict[tuple[str, int], int] = {}  # (key, window) -> value in our row
        self._acquiring = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_cleanup = 0
        self._failing = False

    # -- deciding ---------------------------------------------------------------------------

    def hit(self, key: str, limit: int, count: bool = True) -> Verdict:
        """Count one request against `key` and decide on the total of every server."""
        if not count:
            return super().hit(key, limit, count=False)
        if key not in self._remote:
            self._learn([key])
        verdict = self._take(key, limit)
        if verdict is None:
            with self._acquiring:  # one reservation at a time per process
                verdict = self._take(key, limit) or self._acquire(key, limit)
        return verdict

    def _others(self, key: str, index: int, elapsed: float) -> float:
        counts = self._remote.get(key)
        if not counts:
            return 0.0
        return counts.get(index - 1, 0) * (1.0 - elapsed) + counts.get(index, 0)

    def _now(self, key: str) -> tuple[list, float, int]:
        """(local state, weighted use of every server, seconds to reset); call under the lock."""
        now = self.clock()
        self._prune(now)
        state, local = self._estimate(key, now)
        used = local + self._others(key, state[0], (now % self.window) / self.window)
        return state, used, int(math.ceil(self.window - now % self.window))

    def _take(self, key: str, limit: int) -> Verdict | None:
        """Allow from the local grant, refuse when the known total is at the limit, else None."""
        with self._lock:
            state, used, reset = self._now(key)
            grant = self._grants.get(key)
            if grant and grant[0] == state[0] and grant[1] > 0:
                grant[1] -= 1
                grant[2] = True
                state[1] += 1
                return Verdict(True, limit, max(0, int(limit - used - 1)), reset)
            if used + 1 > limit:
                return Verdict(False, limit, 0, reset)
            return None

    def _acquire(self, key: str, limit: int) -> Verdict:
        """Reserve a share of what is left (write, then read back the others) and take one request."""
        with self._lock:
            state, used, reset = self._now(key)
            size = max(1, int((limit - used) // (2 * max(1, self.nodes))))
            row = (key, state[0], self.node, state[1] + size)
        if self._publish([row]):
            self._learn([key])
        with self._lock:
            state, used, reset = self._now(key)
            take = min(size, int(limit - used))  # what still fits, this request included
            if take >= 1:
                self._grants[key] = [state[0], take - 1, True]
                state[1] += 1
                verdict = Verdict(True, limit, max(0, int(limit - used - 1)), reset)
            else:
                self._grants.pop(key, None)
                verdict = Verdict(False, limit, 0, reset)
            fixed = (key, state[0], self.node, state[1] + max(0, take - 1))
        if take < size:
            self._publish([fixed])  # a smaller reservation than written: give the rest back at once
        return verdict

    # -- talking to the database ------------------------------------------------------------

    def _publish(self, rows: list[tuple]) -> bool:
        """UPSERT this server's rows (autocommit, so others can see them when this returns)."""
        try:
            with self.database.atomic():
                # Counters need no durability: skip the wait for the WAL flush (this transaction only).
                self.database.execute_sql("SET LOCAL synchronous_commit TO OFF")
                for start in range(0, len(rows), CHUNK):
                    chunk = rows[start:start + CHUNK]
                    sql = UPSERT.format(values=", ".join(["(%s, %s, %s, %s)"] * len(chunk)))
                    self.database.execute_sql(sql, [v for row in chunk for v in row])
        except Exception as exc:  # the database is down: decide on what we know until it is back
            self._trouble(exc)
            return False
        self._recovered()
        with self._lock:
            for key, index, _node, value in rows:
                self._written[(key, index)] = value
        return True

    def _learn(self, keys: list[str]) -> None:
        """Read the other servers' rows of `keys` (current and previous window)."""
        index = int(self.clock() // self.window)
        remote: dict[str, dict[int, int]] = {}
        try:
            for start in range(0, len(keys), CHUNK):
                cursor = self.database.execute_sql(READ, (keys[start:start + CHUNK], index - 1, self.node))
                for key, period, hits in cursor.fetchall():
                    remote.setdefault(key, {})[int(period)] = int(hits)
        except Exception as exc:  # keep what we knew
            self._trouble(exc)
            remote = None
        with self._lock:
            for key in keys:
                if remote is not None:
                    self._remote[key] = remote.get(key, {})
                else:
                    self._remote.setdefault(key, {})

    def _trouble(self, exc: Exception) -> None:
        """Drop this thread's connection (the next try reconnects); log the first failure of an outage
        only (the sync retries every interval and resynchronises when the database is back)."""
        if db.is_outage(exc):
            db.outage_seen()
        if not self._failing:
            self._failing = True
            log.warning("shared rate limits: database unreachable, deciding locally until it is back: %s", exc)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("shared rate limits: database reachable again")

    def _changed_rows(self) -> list[tuple]:
        """Rows whose value changed since written; grants unused since the last sync go back."""
        now = self.clock()
        rows = []
        with self._lock:
            self._prune(now)
            for key in list(self._state):
                state, _ = self._estimate(key, now)
                grant = self._grants.get(key)
                if grant and (grant[0] != state[0] or not grant[2]):
                    del self._grants[key]
                    grant = None
                elif grant:
                    grant[2] = False
                for index, count in ((state[0] - 1, state[2]), (state[0], state[1])):
                    value = count + (grant[1] if grant and index == grant[0] else 0)
                    if self._written.get((key, index), 0) != value:
                        rows.append((key, index, self.node, value))
            for table in (self._remote, self._grants):
                for key in [k for k in table if k not in self._state]:
                    del table[key]
            for pair in [p for p in self._written
                         if p[0] not in self._state or p[1] < self._state[p[0]][0] - 1]:
                del self._written[pair]
        return rows

    def sync(self) -> None:
        """Write changed counts and a heartbeat, refresh the others' counts and the live servers."""
        now = self.clock()
        rows = self._changed_rows()
        rows.append((HEARTBEAT, 0, self.node, int(now)))
        if not self._publish(rows):
            return
        try:
            alive = max(10, int(5 * self.interval))
            self.nodes = max(1, self.database.execute_sql(LIVE, (HEARTBEAT, int(now) - alive)).fetchone()[0])
            self._cleanup(now)
        except Exception as exc:
            self._trouble(exc)
        with self._lock:
            keys = list(self._state)
        if keys:
            self._learn(keys)

    def _cleanup(self, now: float) -> None:
        """Drop rows of windows that no longer count and of dead servers (about once a window)."""
        index = int(now // self.window)
        if index - self._last_cleanup < 1:
            return
        self._last_cleanup = index
        self.database.execute_sql(CLEANUP, (HEARTBEAT, index - 1, HEARTBEAT, int(now) - 2 * int(self.window)))

    # -- the background thread --------------------------------------------------------------

    def start(self) -> SharedWindow:
        """Sync once (so other servers count this one at once), start the sync thread; returns self."""
        if self._thread is None:
            self.sync()
            self._thread = threading.Thread(target=self._run, name="fleetctl-ratelimit-sync", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the sync thread after one last sync."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if db.database.obj is not self.database:
                return  # the process moved to another database (tests): this limiter is retired
            self.sync()
        self.sync()

