"""Models of the wake primitive: how far each member's news has been handed over.

`WakeCursor` is the single cursor of the first design (before migration 9); it is only read as
the starting point of members that have no `WakeMarks` row yet (an upgraded database).
"""

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


class WakeMarks(BaseModel):
    """Per member and news section (`wake_layout.MARKED`), the last change `seq` handed over: every row of the
    member's streams of that section up to it was shown (or was no longer news)."""

    member = ForeignKeyField(Member, primary_key=True, on_delete="CASCADE")
    breaking = BigIntegerField(default=0)
    messages = BigIntegerField(default=0)
    tasks = BigIntegerField(default=0)
    research = BigIntegerField(default=0)
    knowledge = BigIntegerField(default=0)
    documents = BigIntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "wake_marks"


MODELS = [WakeCursor]
NEWS_MODELS = [WakeMarks]  # created by migration 9

# A wake walks one member's changes of one kind, or one fleet's changes of one kind, newest
# first; the core indexes cover (member, seq) and (kind, seq), these cover the rest.
INDEXES = ('CREATE INDEX IF NOT EXISTS change_member_kind_seq ON "change" (member_id, kind, seq)',
           'CREATE INDEX IF NOT EXISTS change_fleet_kind_seq ON "change" (fleet_id, kind, seq)')


def install(db) -> None:
    """Extra indexes on the change sequence that the wake queries use."""
    for sql in INDEXES:
        db.execute_sql(sql)


NEWS_COLUMNS = {"stream": "VARCHAR(120)", "note": "TEXT", "actor": "BIGINT"}


def install_news(db) -> None:
    """Migration 9: streams on the change sequence (columns added where an older database lacks
    them), their index, and the per-section marks."""
    present = {c.name for c in db.get_columns("change")}
    for name, sql_type in NEWS_COLUMNS.items():
        if name not in present:
            db.execute_sql(f'ALTER TABLE "change" ADD COLUMN {name} {sql_type}')
    db.execute_sql('CREATE INDEX IF NOT EXISTS change_stream_seq ON "change" (stream, seq)')
    for old in ("change_member_kind_seq", "change_fleet_kind_seq"):  # the first design's reads; writes pay for them
        db.execute_sql(f"DROP INDEX IF EXISTS {old}")
    db.create_tables(NEWS_MODELS, safe=True)
