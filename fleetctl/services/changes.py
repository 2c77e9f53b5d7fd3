"""The change sequence behind the wake: one row per event and stream, in commit order.

`record` is the single entry point every write that may be news for someone goes through.
"""

from __future__ import annotations

import functools

from fleetctl import db
from fleetctl.models.base import utcnow
from fleetctl.services import prepared, wake_streams, wakeup

COLUMNS = ("fleet_id", "kind", "ref_id", "event", "created_at", "stream", "note", "actor")
_TYPES = ("bigint", "text", "bigint", "text", "timestamp", "text", "text", "bigint")
NAMES = ", ".join(f'"{c}"' for c in COLUMNS)
# Prepared (every write that is news runs it): one multi-row insert; SQLite answers it with the last row's id.
SQLITE_INSERT = f'INSERT INTO "change" ({NAMES}) VALUES {{rows:{len(COLUMNS)}}}'


@functools.lru_cache(maxsize=64)
def _pg_insert(rows: int) -> str:
    """The lock and the insert in one round trip: sequence values are drawn only once the lock is held."""
    first = "(" + ", ".join(f"%s::{t}" for t in _TYPES) + ")"
    values = ", ".join([first] + ["(" + ", ".join(["%s"] * len(COLUMNS)) + ")"] * (rows - 1))
    return (f'WITH ordered AS (SELECT pg_advisory_xact_lock(7007002)) INSERT INTO "change" ({NAMES}) '
            f'SELECT v.* FROM ordered, (VALUES {values}) AS v({NAMES}) RETURNING "seq"')


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
    values = [v for stream in streams for v in (fleet_id, kind, ref_id, event, now, stream, note, actor_id)]
    if db.engine() == "postgres":
        return max(r[0] for r in db.database.execute_sql(_pg_insert(len(streams)), values).fetchall())
    return prepared.run(SQLITE_INSERT, values, rows=len(streams)).lastrowid
