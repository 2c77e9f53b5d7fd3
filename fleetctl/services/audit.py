"""The audit log: records are queued and written in batches by a background thread."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading

from fleetctl import db
from fleetctl.errors import Invalid
from fleetctl.models.base import iso, utcnow
from fleetctl.models.core import AuditEntry, Member
from fleetctl.services import paging, prepared

log = logging.getLogger("fleetctl.audit")
FLUSH_INTERVAL = 0.5
BATCH = 500
# Refusals of requests that identified no member (bad or forged tokens) are aggregated: one record
# per client address, fleet, status and minute, with a `count`, so a flood cannot fill the disk.
AGGREGATED_STATUSES = (401, 429)
MAX_AGGREGATES = 10_000  # distinct (address, fleet, status) keys held per flush before dropping
COLUMNS = ("at", "fleet", "member", "action", "resource", "status", "ip")
# Prepared: every mutation writes a record (peewee's insert_many spent 60 µs a row building the batch).
INSERT = f"INSERT INTO audit_log ({', '.join(COLUMNS)}, count) VALUES {{rows:{len(COLUMNS) + 1}}}"


class RefusalAggregator:
    """Counts unauthenticated refusals in memory and writes one record per key and minute: inserted
    at its first flush, its `count` raised by later flushes of the same minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple, dict] = {}
        self._written: dict[tuple, int] = {}  # key -> audit_log id, for the current and previous minute
        self.dropped = 0

    @staticmethod
    def applies(member: str | None, status: int) -> bool:
        return member is None and status in AGGREGATED_STATUSES

    def add(self, record: dict) -> None:
        key = (record["at"].replace(second=0, microsecond=0), record["fleet"], record["ip"], record["status"],
               record["resource"])
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None:
                pending["count"] += 1
            elif len(self._pending) < MAX_AGGREGATES:
                self._pending[key] = {**record, "count": 1}
            else:
                self.dropped += 1

    def _restore(self, pending: dict[tuple, dict]) -> None:
        with self._lock:
            for key, record in pending.items():
                if key in self._pending:
                    self._pending[key]["count"] += record["count"]
                elif len(self._pending) < MAX_AGGREGATES:
                    self._pending[key] = record

    def flush(self) -> int:
        """Write the counts gathered since the last flush (inside the writer's flush lock)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            with db.write():
                written = {}
                for key, record in pending.items():
                    row_id = self._written.get(key)
                    if row_id is None or not (AuditEntry.update(count=AuditEntry.count + record["count"])
                                              .where(AuditEntry.id == row_id).execute()):
                        written[key] = AuditEntry.insert(**record).execute()
        except Exception:
            self._restore(pending)  # counted again at the next flush
            raise
        self._written.update(written)
        newest = max(key[0] for key in pending)
        for key in [k for k in self._written if (newest - k[0]).total_seconds() > 60]:
            del self._written[key]
        return len(pending)


class AuditWriter:
    """A queue that never blocks a request, drained to the database every half second.

    While the database is unreachable the records stay queued (at most `maxsize`, then new ones are
    dropped and counted) and the batch that failed is kept to be written first when it is back.
    """

    def __init__(self, maxsize: int = 100_000) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()
        self._retry: list[dict] = []  # the batch a failed write left, written before anything newer
        self._failing = False
        self.dropped = 0
        self.refusals = RefusalAggregator()

    @property
    def pending(self) -> int:
        """Records queued or waiting for the database, not yet written."""
        return self._queue.qsize() + len(self._retry)

    def record(self, fleet: str | None, member: str | None, action: str, resource: str | None,
               status: int, ip: str | None) -> None:
        """Queue one record; if the queue is full the record is dropped and counted, never raised."""
        if self.refusals.applies(member, status):
            self.refusals.add(dict(at=utcnow(), fleet=fleet, member=member, action=action, resource=resource,
                                   status=status, ip=ip))
            return
        try:
            self._queue.put_nowait(dict(at=utcnow(), fleet=fleet, member=member, action=action,
                                        resource=resource, status=status, ip=ip))
        except queue.Full:
            self.dropped += 1

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fleetctl-audit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self.flush()
        self.flush()

    def flush(self) -> int:
        """Write everything queued so far; returns how many records were written."""
        written = 0
        with self._flush_lock:
            try:
                written += self.refusals.flush()
            except Exception:  # the audit writer must never take the server down
                log.exception("could not write aggregated refusals")
            while True:
                batch, self._retry = self._retry, []
                while len(batch) < BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not batch:
                    return written
                try:
                    with db.write():
                        prepared.run_many(INSERT, [tuple(r[c] for c in COLUMNS) + (1,) for r in batch])
                    written += len(batch)
                except Exception as exc:  # the audit writer must never take the server down
                    if not db.is_outage(exc):
                        log.exception("could not write %d audit records; dropped", len(batch))
                        self.dropped += len(batch)
                        return written
                    self._retry = batch
                    self._trouble(exc)
                    return written
                if self._failing:
                    self._failing = False
                    log.warning("audit log: database reachable again; writing the records kept meanwhile")

    def _trouble(self, exc: Exception) -> None:
        """Reconnect next time; log once per outage."""
        db.outage_seen()
        if not self._failing:
            log.warning("audit log: database unavailable, keeping up to %d records in memory: %s",
                        self._queue.maxsize, db.first_line(exc))
        self._failing = True

    def stop(self) -> None:
        """Stop the thread after a last flush (called on shutdown)."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.flush()


writer = AuditWriter()


def to_dict(row: AuditEntry) -> dict:
    return {"id": row.id, "at": iso(row.at), "fleet": row.fleet, "member": row.member,
            "action": row.action, "resource": row.resource, "status": row.status, "ip": row.ip,
            "count": row.count}


def query(caller: Member, member: str | None = None, action: str | None = None,
          since: str | None = None, limit: int | None = None, after: int | None = None) -> dict:
    """The caller's fleet's audit records, newest first, filtered."""
    writer.flush()
    q = AuditEntry.select().where(AuditEntry.fleet == caller.fleet.name)
    if member:
        address = member if "/" in member else f"{caller.fleet.name}/{member}"
        q = q.where(AuditEntry.member == address)
    if action:
        q = q.where(AuditEntry.action.startswith(action) if action.endswith(".") else
                    (AuditEntry.action == action) | AuditEntry.action.startswith(action + "."))
    if since:
        try:
            moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Invalid(f"invalid since {since!r}: use ISO 8601 such as 2026-01-31T12:00:00Z") from exc
        if moment.tzinfo:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        q = q.where(AuditEntry.at >= moment)
    return paging.page(q, AuditEntry.id, limit, after, to_dict)
