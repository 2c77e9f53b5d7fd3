"""Live wake: requests waiting for a member's news, and the wake-up that each committed change sends them.

`changes.record` calls `note(fleet_id, member_id)` inside the write transaction. Once the transaction
commits, the waiters the change may concern are woken: the addressed member's when the change names
one, else every waiter of the change's fleet and every cross-fleet waiter. A waiter woken for nothing
re-checks its wake and waits again, so a coarse wake-up costs a peek, never news. On PostgreSQL the
change also sends a NOTIFY (delivered by PostgreSQL at commit) that wakes the waiters held by the
other servers on the same database (`pg_notify`, `wakeup_pg`).

A waiter cannot miss a wake-up that arrives between its check and its wait: it registers (`watch`)
before it peeks, and a wake-up sets its event, which its next wait sees at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from fleetctl import db
from fleetctl.services import pg_notify

log = logging.getLogger("fleetctl.wakeup")
T = TypeVar("T")

DEFAULT_MAX_WAITERS = 256
PROBE_INTERVAL = 1.0  # seconds between two probes of every waiter
PER_MEMBER = 8  # concurrent waits of one member; more answer at once (a daemon holds one per profile)


@dataclass(eq=False)
class Watcher:
    """One waiting request: the member it waits for, and the event that a wake-up (news) or a probe sets.

    `probe`, called by the hub's janitor thread about once a second, says whether the waiter must
    look at its client or its token (a hang-up, a token dropped from the cache): the waiters
    themselves sleep until something happens, so hundreds of them cost next to no CPU.
    """

    member_id: int
    fleet_id: int
    cross_fleet: bool
    probe: Callable[[], bool] | None = None
    event: threading.Event = field(default_factory=threading.Event)
    _news: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def notify(self, news: bool = True) -> None:
        with self._lock:
            self._news = self._news or news
            self.event.set()

    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` seconds pass; True if news may have arrived since the last wait."""
        self.event.wait(timeout)
        with self._lock:
            news, self._news = self._news, False
            self.event.clear()
        return news


class Hub:
    """The waiters of this process, indexed by member and by fleet, and the bound on how many may wait."""

    def __init__(self, max_waiters: int = DEFAULT_MAX_WAITERS) -> None:
        self._lock = threading.Lock()
        self._by_member: dict[int, set[Watcher]] = {}
        self._by_fleet: dict[int, set[Watcher]] = {}
        self._cross: set[Watcher] = set()
        self.closing = threading.Event()
        self._janitor: threading.Thread | None = None
        self.configure(max_waiters)

    def configure(self, max_waiters: int, db_slots: int = 8) -> None:
        """Set the bound on concurrent waiters, and the number of threads (each with its database
        connection) that run the waiters' checks and of waiter threads that may hold a connection."""
        self.max_waiters = max_waiters
        self._slots = threading.BoundedSemaphore(max(1, max_waiters))
        self.db_gate = DbGate(db_slots)
        old = getattr(self, "_checkers", None)
        self._checkers = ThreadPoolExecutor(max_workers=max(1, db_slots), thread_name_prefix="fleetctl-wake-check")
        if old is not None:
            old.shutdown(wait=False)
        self.closing.clear()

    def check(self, fn: Callable[[], T]) -> T:
        """Run a waiter's database work (its peek, its token check) on a checker thread and return the
        result: those threads keep their connections, so a re-check costs no new connection."""
        return self._checkers.submit(_checked, fn).result()

    @property
    def count(self) -> int:
        """How many requests are waiting now."""
        with self._lock:
            return sum(len(w) for w in self._by_member.values())

    @contextlib.contextmanager
    def watch(self, member, probe: Callable[[], bool] | None = None) -> Iterator[Watcher | None]:
        """Register a waiter for `member` for the block; yields None when over a bound or closing (answer at once)."""
        if self.closing.is_set() or self.max_waiters <= 0 or not self._slots.acquire(blocking=False):
            yield None
            return
        self._start_janitor()
        watcher = Watcher(member.id, member.fleet_id, bool(member.cross_fleet), probe)
        try:
            with self._lock:
                mine = self._by_member.setdefault(member.id, set())
                if len(mine) >= PER_MEMBER:
                    watcher = None
                else:
                    mine.add(watcher)
                    self._by_fleet.setdefault(member.fleet_id, set()).add(watcher)
                    if watcher.cross_fleet:
                        self._cross.add(watcher)
            yield watcher
        finally:
            if watcher is not None:
                self._forget(watcher)
            self._slots.release()

    def _forget(self, watcher: Watcher) -> None:
        with self._lock:
            for index, key in ((self._by_member, watcher.member_id), (self._by_fleet, watcher.fleet_id)):
                group = index.get(key)
                if group is not None:
                    group.discard(watcher)
                    if not group:
                        del index[key]
            self._cross.discard(watcher)

    def wake(self, fleet_id: int | None, member_id: int | None = None) -> int:
        """Wake the waiters a change may concern (all of them with no fleet); returns how many."""
        with self._lock:
            if fleet_id is None:
                targets = [w for group in self._by_member.values() for w in group]
            elif member_id is not None:
                targets = list(self._by_member.get(member_id, ()))
            else:
                targets = [*self._by_fleet.get(fleet_id, ()), *self._cross]
        for watcher in targets:
            watcher.notify()
        return len(targets)

    def _start_janitor(self) -> None:
        with self._lock:
            if self._janitor is None or not self._janitor.is_alive():
                self._janitor = threading.Thread(target=self._probe_all, name="fleetctl-wake-janitor", daemon=True)
                self._janitor.start()

    def _probe_all(self) -> None:
        """The janitor: about once a second, wake each waiter whose probe says it must look at something."""
        while not self.closing.wait(PROBE_INTERVAL):
            with self._lock:
                watchers = [w for group in self._by_member.values() for w in group if w.probe is not None]
            for watcher in watchers:
                try:
                    if watcher.probe():
                        watcher.notify(news=False)
                except Exception:  # noqa: BLE001 - a broken probe: let the waiter look for itself
                    watcher.notify(news=False)

    def close(self) -> int:
        """Server shutdown: release every waiter at once and admit no new one; returns how many were waiting."""
        self.closing.set()
        return self.wake(None)


class DbGate:
    """Bounds how many waiting requests hold a database connection of their own at once.

    A wait request needs one only to authenticate a token that is not cached; it gives its slot
    back, and closes its connection, while it waits (`released`), so hundreds of waiters cost a
    handful of connections (PostgreSQL's `max_connections` is finite). `held` nests: a thread that
    holds a slot keeps it.
    """

    def __init__(self, slots: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._local = threading.local()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold a slot for the block; the thread's connection is closed when the slot is given back."""
        if getattr(self._local, "held", False):
            yield
            return
        self._slots.acquire()
        self._local.held = True
        try:
            yield
        finally:
            self._local.held = False
            release_connection()
            self._slots.release()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Around a wait: no connection and no slot held during the block (taken back after it, if held before)."""
        release_connection()
        was_held = getattr(self._local, "held", False)
        if was_held:
            self._local.held = False
            self._slots.release()
        try:
            yield
        finally:
            if was_held:
                self._slots.acquire()
                self._local.held = True


def release_connection() -> None:
    """Close this thread's database connection unless a transaction is open (it reconnects when next used)."""
    with contextlib.suppress(Exception):
        if not db.database.in_transaction():
            db.database.close()


def _checked(fn: Callable[[], T]) -> T:
    """`fn` on a checker thread, with the outage rules of a request: a connection from before an
    outage (or one the server hung up) is dropped first, and one that fails is dropped after."""
    db.check_connection()
    try:
        return fn()
    except Exception as exc:
        if db.is_outage(exc):
            db.outage_seen()
        raise


hub = Hub()
_pending = threading.local()


def note(fleet_id: int, member_id: int | None = None) -> None:
    """Called inside a write transaction by `changes.record`: wake the waiters it concerns once it commits.

    Never raises: a wake-up that fails costs latency (the waiter's wait times out), never the write.
    """
    try:
        if db.engine() == "postgres" and _first_in_transaction(fleet_id, member_id):
            pg_notify.notify(fleet_id, member_id)
        db.database.after_commit(lambda: _wake_safely(fleet_id, member_id))
    except Exception as exc:  # noqa: BLE001 - the write matters more than its wake-up
        if db.is_outage(exc):  # the write itself fails next and answers 503: no traceback for an outage
            log.warning("cannot schedule the wake-up of fleet %s: %s", fleet_id, db.first_line(exc))
        else:
            log.exception("cannot schedule the wake-up of fleet %s", fleet_id)


def _first_in_transaction(fleet_id: int, member_id: int | None) -> bool:
    """Whether this (fleet, member) was not noted yet in the current transaction (one NOTIFY each)."""
    top = db.database.top_transaction()
    if top is None:
        return True
    if getattr(_pending, "transaction", None) is not top:
        _pending.transaction, _pending.keys = top, set()
    key = (fleet_id, member_id)
    if key in _pending.keys:
        return False
    _pending.keys.add(key)
    return True


def _wake_safely(fleet_id: int, member_id: int | None) -> None:
    try:
        hub.wake(fleet_id, member_id)
    except Exception:  # noqa: BLE001 - runs after the commit: the request must still succeed
        log.exception("wake-up of fleet %s failed", fleet_id)
