"""The change sequence behind the wake: one row per event and stream, in commit order.

`record` is the single entry point every write that may be news for someone goes through.
"""

from __future__ import annotations

from fleetctl import db
from fleetctl.models.base import utcnow
from fleetctl.models.core import Change
from fleetctl.services import wake_streams, wakeup

COLUMNS = ("fleet_id", "kind", "ref_id", "event", "created_at", "stream", "note", "actor")
_TYPES = ("bigint", "text", "bigint", "text", "timestamp", "text", "text", "bigint")


def _pg_insert(rows: int) -> str:
    """The lock and the insert in one round trip: sequence values are drawn only once the lock is held."""
    first = "(" + ", ".join(f"%s::{t}" for t in _TYPES) + ")"
    values = ", ".join([first] + ["(" + ", ".join(["%s"] * len(COLUMNS)) + ")"] * (rows - 1))
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    return (f'WITH ordered AS (SELECT pg_advisory_xact_lock(7007002)) '
            f'INSERT INTO "{Change._meta.table_name}" ({names}) '
            f'SELECT v.* FROM ordered, (VALUES {values}) AS v({names}) RETURNING "seq"')


def record(kind: str, ref_id: int, fleet_id: int, event: str, streams: list[str], note: str | None = None,
           actor_id: int | None = None) -> int:
    """Append one event to each of `streams` inside the caller's write transaction; returns the last
    sequence number (0 when `streams` is empty: nobody is concerned).

    On PostgreSQL a transaction-scoped advisory lock serialises appenders, so sequence order is
    commit order and a mark can never pass a change that commits late on another server; the rows
    of one call get consecutive numbers. Call it last in the transaction, after every row update:
    holding that lock while waiting for a row lock could deadlock with a writer that holds the row
    and waits for the lock.
    """
    streams = list(dict.fromkeys(streams))
    if not streams:
        return 0
    for fleet, member in wake_streams.audience(fleet_id, streams):
        wakeup.note(fleet, member)  # live wake: wakes the waiters it concerns once the transaction commits
    now = utcnow()
    rows = [(fleet_id, kind, ref_id, event, now, stream, note, actor_id) for stream in streams]
    if db.engine() == "postgres":
        cursor = db.database.execute_sql(_pg_insert(len(rows)), [v for row in rows for v in row])
        return max(r[0] for r in cursor.fetchall())
    # SQLite answers a multi-row insert with the last row's id: one statement, no read-back.
    return Change.insert_many([dict(zip(COLUMNS, row, strict=True)) for row in rows]).execute()
