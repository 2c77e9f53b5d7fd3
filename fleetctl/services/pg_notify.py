"""The NOTIFY half of the live wake across PostgreSQL servers: the channel, this node and the payloads.

Every change sends `NOTIFY fleetctl_wake, '<node> <fleet> <member>'` inside its transaction (`wakeup.note`);
`wakeup_pg.Listener` receives them on the other servers.
"""

from __future__ import annotations

import secrets

from fleetctl import db

CHANNEL = "fleetctl_wake"
NODE = secrets.token_hex(6)  # this process; its own notifications are skipped


def notify(fleet_id: int, member_id: int | None) -> None:
    """Queue the cross-server wake-up in the current transaction (sent by PostgreSQL at commit)."""
    db.database.execute_sql("SELECT pg_notify(%s, %s)", (CHANNEL, f"{NODE} {fleet_id} {member_id or ''}"))


def parse(payload: str) -> tuple[str, int, int | None] | None:
    """(node, fleet id, member id or None) from a payload; None for one this version does not know."""
    parts = payload.split(" ")
    try:
        return parts[0], int(parts[1]), int(parts[2]) if parts[2] else None
    except (IndexError, ValueError):
        return None
