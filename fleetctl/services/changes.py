"""The change sequence behind the wake: one row per event and stream, numbered in order.

`record` is the single entry point every write that may be news for someone goes through; `horizon`
is how far a reader of the sequence may go, so that a mark never passes a change that commits late.

On PostgreSQL numbers are drawn in one order and committed in another. Writers hold advisory lock
`LOCK` shared (they never wait for each other) from before they draw their numbers until their
transaction ends; `horizon` takes it exclusively for a moment, which waits for every writer that
has already drawn a number to commit or roll back, and reads the highest committed number under
it. Every number up to the horizon is then committed or never will be, and any writer that draws
later gets a higher one. On SQLite there is one writer at a time (`db.write`), so sequence order
is commit order and readers need no horizon.
"""

from __future__ import annotations

import contextlib
import functools

from fleetctl import db
from fleetctl.models.base import utcnow
from fleetctl.services import prepared, wake_streams, wakeup

COLUMNS = ("fleet_id", "kind", "ref_id", "event", "created_at", "stream", "note", "actor")
_TYPES = ("bigint", "text", "bigint", "text", "timestamp", "text", "text", "bigint")
NAMES = ", ".join(f'"{c}"' for c in COLUMNS)
# Prepared (every write that is news runs it): one multi-row insert; SQLite answers it with the last row's id.
SQLITE_INSERT = f'INSERT INTO "change" ({NAMES}) VALUES {{rows:{len(COLUMNS)}}}'
LOCK = 7007002  # PostgreSQL advisory lock: writers hold it shared, a reader's horizon exclusively
# Read under the lock (this statement's snapshot is taken while it is held), then let writers go on.
PG_HORIZON = f'SELECT (SELECT max("seq") FROM "change"), pg_advisory_unlock({LOCK})'


@functools.lru_cache(maxsize=64)
def _pg_insert(rows: int) -> str:
    """The lock and the insert in one round trip: sequence values are drawn only once the lock is held."""
    first = "(" + ", ".join(f"%s::{t}" for t in _TYPES) + ")"
    values = ", ".join([first] + ["(" + ", ".join(["%s"] * len(COLUMNS)) + ")"] * (rows - 1))
    return (f'WITH ordered AS (SELECT pg_advisory_xact_lock_shared({LOCK})) INSERT INTO "change" ({NAMES}) '
            f'SELECT v.* FROM ordered, (VALUES {values}) AS v({NAMES}) RETURNING "seq"')


def record(kind: str, ref_id: int, fleet_id: int, event: str, streams: list[str], note: str | None = None,
           actor_id: int | None = None) -> int:
    """Append one event to each of `streams` inside the caller's write transaction; returns the last
    sequence number (0 when `streams` is empty: nobody is concerned).

    On PostgreSQL the numbers are drawn under `LOCK` held shared until the transaction ends, so a
    reader's `horizon` waits for this transaction (see the module docstring); the rows of one call
    get consecutive numbers unless another writer draws at the same time. Call it last in the
    transaction, after every row update: holding that lock while waiting for a row lock could
    deadlock (a reader's horizon queued behind this writer makes the row's holder queue too).
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


def horizon() -> int | None:
    """The highest change number a reader may read up to now: every change up to it has committed or
    never will (PostgreSQL). None on SQLite: no bound is needed.

    Two round trips: the exclusive lock (it waits for the writers that hold it shared), then one
    statement that reads the highest number (READ COMMITTED: its snapshot is taken once the lock is
    held) and unlocks. A session lock, released at once: it holds nothing on past this call, even
    inside a caller's transaction.
    """
    if db.engine() != "postgres":
        return None
    db.database.execute_sql(f"SELECT pg_advisory_lock({LOCK})")
    try:
        return db.database.execute_sql(PG_HORIZON).fetchone()[0] or 0
    except BaseException:
        _unlock()
        raise


def _unlock() -> None:
    """Release the horizon's lock after a failed read; in an aborted transaction, end the session instead
    (its locks go with it): a lock left held would stop every writer."""
    try:
        db.database.execute_sql(f"SELECT pg_advisory_unlock({LOCK})")
    except Exception:
        with contextlib.suppress(Exception):
            db.database.connection().close()
