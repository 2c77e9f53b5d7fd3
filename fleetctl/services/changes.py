"""The change sequence behind wake cursors: one row per event, in commit order."""

from __future__ import annotations

from fleetctl import db
from fleetctl.models.base import utcnow
from fleetctl.models.core import Change
from fleetctl.services import wakeup

# The lock and the insert in one round trip: the sequence value is drawn only once the lock is held.
_PG_ORDERED_INSERT = (
    'WITH ordered AS (SELECT pg_advisory_xact_lock(7007002)) '
    f'INSERT INTO "{Change._meta.table_name}" ("fleet_id", "kind", "ref_id", "member_id", "event", "created_at") '
    'SELECT %s::bigint, %s::text, %s::bigint, %s::bigint, %s::text, %s::timestamp FROM ordered '
    'RETURNING "seq"'
)


def record(kind: str, ref_id: int, fleet_id: int, member_id: int | None = None, event: str = "") -> int:
    """Append a change inside the caller's write transaction; returns its sequence number.

    On PostgreSQL a transaction-scoped advisory lock serialises appenders, so sequence order is
    commit order and a cursor can never skip a change that commits late on another server.
    Call it last in the transaction, after every row update: holding that lock while waiting for a
    row lock could deadlock with a writer that holds the row and waits for the lock.
    """
    wakeup.note(fleet_id, member_id)  # live wake: wakes the waiters it concerns once the transaction commits
    if db.engine() == "postgres":
        cursor = db.database.execute_sql(_PG_ORDERED_INSERT, (fleet_id, kind, ref_id, member_id, event, utcnow()))
        return cursor.fetchone()[0]
    return Change.create(kind=kind, ref_id=ref_id, fleet=fleet_id, member=member_id, event=event).seq
