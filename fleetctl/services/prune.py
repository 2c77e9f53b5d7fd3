"""Bounded growth: delete audit records, delivered change-log entries and read message deliveries
older than the retention, never anything still pending for a member.

One function per table, each deleting in small batches, each batch its own short write
transaction: the server's writers get the lock between batches, and a prune killed at any moment
leaves a consistent database (every batch committed whole or not at all). On SQLite the freed
pages are then given back to the file system a few at a time (`PRAGMA incremental_vacuum`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from fleetctl import db, settings
from fleetctl.errors import Invalid
from fleetctl.models.base import iso, utcnow
from fleetctl.models.core import AuditEntry, Change, Member
from fleetctl.models.messages import Delivery
from fleetctl.models.wake import WakeMarks
from fleetctl.services import audit
from fleetctl.services.knowledge import parse_duration
from fleetctl.wake_layout import MARKED

log = logging.getLogger("fleetctl.prune")
DEFAULT_RETENTION = "90d"
BATCH = 1000
PAUSE = 0.01  # seconds between batches: room for the server's writers
VACUUM_PAGES = 256  # pages given back per short transaction
MAX_RETENTION = dt.timedelta(days=36500)


def retention(text: str) -> dt.timedelta:
    """A retention such as 90d, 12h or 2w; 0, negative or nonsense is an Invalid (exit 2)."""
    delta = parse_duration(text)
    if delta > MAX_RETENTION:
        raise Invalid(f"invalid retention {text!r}: at most 100 years")
    return delta


def _batches(model, key, condition, dry_run: bool) -> int:
    """Delete rows of `model` matching `condition` in batches of BATCH; returns how many (or, dry, would be)."""
    if dry_run:
        return model.select().where(condition).count()
    total = 0
    while True:
        with db.write():
            ids = [row[0] for row in model.select(key).where(condition).order_by(key).limit(BATCH).tuples()]
            if ids:
                model.delete().where(key.in_(ids)).execute()
        if not ids:
            return total
        total += len(ids)
        time.sleep(PAUSE)


def audit_log(before: dt.datetime, dry_run: bool = False) -> int:
    """Audit records written before `before`."""
    audit.writer.flush()
    return _batches(AuditEntry, AuditEntry.id, AuditEntry.at < before, dry_run)


def _marks(section: str) -> tuple[dict[int, int], set[int]]:
    """Each live member's mark for one news section (a member without marks is at 0), and the ids of
    revoked members."""
    column = getattr(WakeMarks, section)
    marks = dict(WakeMarks.select(WakeMarks.member, column).tuples())
    live, revoked = {}, set()
    for member_id, revoked_at in Member.select(Member.id, Member.revoked_at).tuples():
        if revoked_at is None:
            live[member_id] = marks.get(member_id, 0)
        else:
            revoked.add(member_id)
    return live, revoked


def changes(before: dt.datetime, dry_run: bool = False) -> int:
    """Change-log entries made before `before` that every member who reads them has been handed.

    A member's own stream (`tasks@42`) is delivered up to that member's mark for the section (all of
    it once the member is revoked); a fleet's or the cross-fleet streams of a section up to the lowest
    mark of that section among live members, so nothing a member has not been handed is deleted.
    Entries of the first design (no stream) are read by nobody.
    """
    old = Change.created_at < before
    total = _batches(Change, Change.seq, old & Change.stream.is_null(), dry_run)
    for section in MARKED:
        live, revoked = _marks(section)
        for member_id, mark in live.items():
            if mark:
                total += _batches(Change, Change.seq, old & (Change.stream == f"{section}@{member_id}")
                                  & (Change.seq <= mark), dry_run)
        for member_id in revoked:
            total += _batches(Change, Change.seq, old & (Change.stream == f"{section}@{member_id}"), dry_run)
        shared = min(live.values(), default=0)
        if shared:
            total += _batches(Change, Change.seq, old & (Change.stream.startswith(f"{section}:")
                                                         | Change.stream.startswith(f"{section}#"))
                              & (Change.seq <= shared), dry_run)
    return total


def deliveries(before: dt.datetime, dry_run: bool = False) -> int:
    """Message deliveries read before `before` (an unread message is pending: it is never deleted)."""
    return _batches(Delivery, Delivery.id, Delivery.read_at.is_null(False) & (Delivery.read_at < before), dry_run)


def reclaim() -> dict:
    """Give freed pages back to the file system (SQLite with incremental auto-vacuum), a few at a time."""
    if db.engine() != "sqlite":
        return {"vacuum": "postgresql (autovacuum reuses the space)", "reclaimed_bytes": 0}
    pragma = db.database.execute_sql
    if pragma("PRAGMA auto_vacuum").fetchone()[0] != 2:
        return {"vacuum": "none (freed pages are reused; see README to shrink an older file)",
                "reclaimed_bytes": 0, "free_bytes": pragma("PRAGMA freelist_count").fetchone()[0]
                * pragma("PRAGMA page_size").fetchone()[0]}
    page = pragma("PRAGMA page_size").fetchone()[0]
    freed = 0
    while True:
        free = pragma("PRAGMA freelist_count").fetchone()[0]
        if not free:
            break
        with db.write():
            # Python's sqlite3 steps a statement without result columns once, and each step of
            # incremental_vacuum frees one page: so one statement per page, a few hundred per transaction.
            for _ in range(min(free, VACUUM_PAGES)):
                pragma("PRAGMA incremental_vacuum(1)")
        step = free - pragma("PRAGMA freelist_count").fetchone()[0]
        if step <= 0:
            break
        freed += step
        time.sleep(PAUSE)
    pragma("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # the file shrinks when the WAL is copied back
    return {"vacuum": "incremental", "reclaimed_bytes": freed * page}


TABLES = (("audit_log", audit_log), ("change", changes), ("message_deliveries", deliveries))


def run(older_than: str = DEFAULT_RETENTION, dry_run: bool = False) -> dict:
    """Prune every table; returns what was (or, dry, would be) deleted per table."""
    before = utcnow() - retention(older_than)
    deleted = {name: prune(before, dry_run) for name, prune in TABLES}
    report = {"older_than": older_than, "before": iso(before), "dry_run": dry_run, "deleted": deleted}
    report.update(reclaim() if not dry_run else {"reclaimed_bytes": 0})
    return report


def _first_delay() -> float:
    """Seconds from server start to the first prune: the `prune_delay` setting (FLEET_PRUNE_DELAY, 60)."""
    return settings.get("prune_delay")


class Pruner:
    """`serve --retention`: prunes shortly after start, then once a day, in a background thread."""

    def __init__(self, older_than: str, first_delay: float | None = None, interval: float = 86400.0) -> None:
        retention(older_than)  # refuse a bad value before the server starts
        if first_delay is None:
            first_delay = _first_delay()
        self.older_than, self.first_delay, self.interval = older_than, first_delay, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: dict | None = None

    def start(self) -> Pruner:
        self._thread = threading.Thread(target=self._run, name="fleetctl-prune", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        delay = self.first_delay
        while not self._stop.wait(delay):
            delay = self.interval
            try:
                self.last = run(self.older_than)
                log.info("pruned records older than %s: %s", self.older_than, self.last)
            except Exception:  # a failed prune is retried tomorrow; the server goes on
                log.exception("prune failed")
            finally:
                db.database.close()  # this thread's connection

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
