"""Numbered schema migrations, recorded in `schema_migrations` and run by `db upgrade` and `serve`.

Each step is frozen: it runs its own DDL (`frozen_ddl/`, one module per engine) and never reads the current
models, so changing a model never changes what an old migration does. A schema change is a new step.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import PostgresqlDatabase

from fleetctl.frozen_ddl import POSTGRES, SQLITE


def _run(db, step: str) -> None:
    """Run the frozen DDL of `step` for the database's engine."""
    for statement in (POSTGRES if isinstance(db, PostgresqlDatabase) else SQLITE).get(step, ()):
        db.execute_sql(statement)


def _add_column(db, table: str, column: str, ddl: str) -> None:
    """ALTER TABLE ... ADD COLUMN unless the column exists (a database whose step 1 ran after the
    column was added to it already has it)."""
    if column not in {c.name for c in db.get_columns(table)}:
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')


# Bytes of content each fleet has stored so far, for the usage counter of fleets that existed
# before quotas (frozen: written against the tables as they were at migration 11).
_USAGE_SOURCES = (
    ("knowledge", "k", ("title", "body"), ""),
    ("task", "k", ("title", "body"), ""),
    ("messages", "k", ("subject", "body"), ""),
    ("research", "k", ("title", "question", "body"), ""),
    ("document_version", "v", ("body", "message"), 'JOIN "document" k ON k.id = v.document_id'),
)


def m001_core(db) -> None:
    """Fleets, members, tokens, the audit log, the change sequence and item domains."""
    _run(db, "core")


def m002_knowledge(db) -> None:
    """Knowledge and its full-text search (FTS5 table and triggers on SQLite, a GIN index on PostgreSQL)."""
    _run(db, "knowledge")


def m003_tasks(db) -> None:
    """Tasks, their dependencies and history."""
    _run(db, "tasks")


def m004_messages(db) -> None:
    """Messages and their deliveries."""
    _run(db, "messages")


def m005_research(db) -> None:
    """Research, its reviewers and reviews."""
    _run(db, "research")


def m006_documents(db) -> None:
    """Documents and their versions."""
    _run(db, "documents")


def m007_wake(db) -> None:
    """Wake cursors and the first design's change indexes (dropped by step 9)."""
    _run(db, "wake")


def m008_ratelimit(db) -> None:
    """Rate-limit counters shared by the servers of one PostgreSQL database."""
    _run(db, "ratelimit")


NEWS_COLUMNS = {"stream": "VARCHAR(120)", "note": "TEXT", "actor": "BIGINT"}


def m009_wake_streams(db) -> None:
    """Streams on the change sequence (columns added where an older step 1 lacked them), their index,
    and the per-section wake marks."""
    for name, sql_type in NEWS_COLUMNS.items():
        _add_column(db, "change", name, sql_type)
    _run(db, "wake_streams")


def m010_idempotency(db) -> None:
    """Answers kept per member and Idempotency-Key."""
    _run(db, "idempotency")


def m011_quotas_and_audit_counts(db) -> None:
    """Fleet storage quota and usage (backfilled from existing content); audit record counts."""
    _add_column(db, "fleet", "quota_bytes", "BIGINT NOT NULL DEFAULT 1073741824")
    _add_column(db, "fleet", "usage_bytes", "BIGINT NOT NULL DEFAULT 0")
    _add_column(db, "audit_log", "count", "INTEGER NOT NULL DEFAULT 1")
    size = "octet_length({})" if isinstance(db, PostgresqlDatabase) else "length(CAST({} AS BLOB))"
    for table, alias, columns, join in _USAGE_SOURCES:
        total = " + ".join(f"COALESCE({size.format(f'{alias}.{c}')}, 0)" for c in columns)
        db.execute_sql(f'UPDATE "fleet" SET "usage_bytes" = "usage_bytes" + COALESCE((SELECT SUM({total}) '
                       f'FROM "{table}" {alias} {join} WHERE k.fleet_id = "fleet".id), 0)')


def m013_console(db) -> None:
    """Web console sessions."""
    _run(db, "console")


def m014_knowledge_search_doc(db) -> None:
    """PostgreSQL: the search document as a stored tsvector column with its own GIN index (ranking a
    match reads it instead of parsing the text again); the expression index it replaces is dropped.
    SQLite's FTS5 table already stores its index: nothing to do."""
    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql("ALTER TABLE knowledge ADD COLUMN IF NOT EXISTS search_doc tsvector GENERATED ALWAYS AS "
                   "(to_tsvector('english', title || ' ' || body)) STORED")
    db.execute_sql("CREATE INDEX IF NOT EXISTS knowledge_search_doc ON knowledge USING GIN (search_doc)")
    db.execute_sql("DROP INDEX IF EXISTS knowledge_fulltext")


MIGRATIONS: list[tuple[int, str, Callable]] = [
    (1, "core", m001_core),
    (2, "knowledge", m002_knowledge),
    (3, "tasks", m003_tasks),
    (4, "messages", m004_messages),
    (5, "research", m005_research),
    (6, "documents", m006_documents),
    (7, "wake", m007_wake),
    (8, "ratelimit", m008_ratelimit),
    (9, "wake_streams", m009_wake_streams),
    (10, "idempotency", m010_idempotency),
    (11, "quotas_and_audit_counts", m011_quotas_and_audit_counts),
    (13, "console", m013_console),
    (14, "knowledge_search_doc", m014_knowledge_search_doc),
]
