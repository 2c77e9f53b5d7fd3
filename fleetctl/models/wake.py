"""Models of the wake primitive: one cursor per member into the change sequence."""

from __future__ import annotations

from peewee import BigIntegerField, DateTimeField, ForeignKeyField

from fleetctl.models.base import BaseModel, utcnow
from fleetctl.models.core import Member


class WakeCursor(BaseModel):
    """The last change sequence number a member acknowledged (absent row = 0, a new member)."""

    member = ForeignKeyField(Member, primary_key=True, on_delete="CASCADE")
    cursor = BigIntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "wake_cursor"


MODELS = [WakeCursor]

# A wake walks one member's changes of one kind, or one fleet's changes of one kind, newest
# first; the core indexes cover (member, seq) and (kind, seq), these cover the rest.
INDEXES = ('CREATE INDEX IF NOT EXISTS change_member_kind_seq ON "change" (member_id, kind, seq)',
           'CREATE INDEX IF NOT EXISTS change_fleet_kind_seq ON "change" (fleet_id, kind, seq)')


def install(db) -> None:
    """Extra indexes on the change sequence that the wake queries use."""
    for sql in INDEXES:
        db.execute_sql(sql)
