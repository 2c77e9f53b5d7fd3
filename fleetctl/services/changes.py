"""The change sequence behind wake cursors: one row per event, in commit order."""

from __future__ import annotations

from fleetctl import db
from fleetctl.models.core import Change


def record(kind: str, ref_id: int, fleet_id: int, member_id: int | None = None, event: str = "") -> int:
    """Append a change inside the caller's write transaction; returns its sequence number.

    On PostgreSQL a transaction-scoped advisory lock serialises appenders, so sequence order is
    commit order and a cursor can never skip a change that commits late on another server.
    Call it last in the transaction, after every row update: holding that lock while waiting for a
    row lock could deadlock with a writer that holds the row and waits for the lock.
    """
    if db.engine() == "postgres":
        db.database.execute_sql("SELECT pg_advisory_xact_lock(7007002)")
    row = Change.create(kind=kind, ref_id=ref_id, fleet=fleet_id, member=member_id, event=event)
    return row.seq
