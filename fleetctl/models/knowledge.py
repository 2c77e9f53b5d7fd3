"""Models of the knowledge primitive: feed entries and their full-text index.

The feed reads only indexes: `state` is stored for superseded, retired and (swept) expired
entries, `tagged` says whether an entry has domains (untagged entries reach every member), and
domain tags live in `ItemDomain` so a member's domains are looked up by index.
"""

from __future__ import annotations

from peewee import (
    BareField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    PostgresqlDatabase,
    TextField,
)

from fleetctl.models.base import BaseModel, JSONListField, utcnow
from fleetctl.models.core import Fleet, Member

KINDS = ("tip", "gotcha", "breaking", "fix")
STATES = ("current", "superseded", "expired", "retired")

# The PostgreSQL full-text expression of the first index; migration 14 stores it as the `search_doc`
# column (GIN-indexed) that search queries read, and drops this expression index.
PG_DOCUMENT = "to_tsvector('english', {title} || ' ' || {body})"


class Knowledge(BaseModel):
    fleet = ForeignKeyField(Fleet, on_delete="CASCADE")
    author = ForeignKeyField(Member, on_delete="CASCADE")
    kind = CharField(max_length=10)
    title = CharField(max_length=300)
    body = TextField(default="")
    domains = JSONListField(default=list)
    tagged = BooleanField(default=False)
    visibility = CharField(max_length=12, default="fleet")
    state = CharField(max_length=12, default="current")
    pinned = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)
    supersedes = IntegerField(null=True)
    superseded_by = IntegerField(null=True)

    class Meta:
        indexes = (
            # own-fleet feed of a member without domains: seek, then walk ids newest first
            (("fleet", "state", "pinned", "id"), False),
            # own-fleet untagged entries for a member with domains
            (("fleet", "state", "tagged", "pinned", "id"), False),
            # pinned cross-fleet entries of other fleets
            (("visibility", "state", "pinned", "id"), False),
            # the expiry sweep
            (("state", "expires_at"), False),
        )


class KnowledgeText(BaseModel):
    """The SQLite FTS5 index of titles and bodies (created by `install`, not by peewee)."""

    rowid = IntegerField(primary_key=True, column_name="rowid")
    document = BareField(column_name="knowledge_fts")  # FTS5's hidden column named after its table
    rank = BareField(column_name="rank")

    class Meta:
        table_name = "knowledge_fts"


MODELS = [Knowledge]

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_fts USING fts5("
    "title, body, content='knowledge', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS knowledge_fts_insert AFTER INSERT ON knowledge BEGIN "
    "INSERT INTO knowledge_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS knowledge_fts_delete AFTER DELETE ON knowledge BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS knowledge_fts_update AFTER UPDATE OF title, body ON knowledge BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO knowledge_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]


def install(db) -> None:
    """Full-text search: an FTS5 table kept in sync by triggers (SQLite) or a GIN index (PostgreSQL)."""
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("CREATE INDEX IF NOT EXISTS knowledge_fulltext ON knowledge USING GIN ("
                       + PG_DOCUMENT.format(title="title", body="body") + ")")
        return
    for statement in SQLITE_FTS:
        db.execute_sql(statement)
