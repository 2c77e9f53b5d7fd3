"""Numbered schema migrations, recorded in `schema_migrations` and run by `db upgrade` and `serve`.

Each step creates the tables of one models module and runs its `install(db)` hook (indexes,
full-text search). Once released, a migration never changes: later schema changes are new steps.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def create_module_tables(module_name: str) -> Callable:
    """A migration step that creates the tables of `fleetctl.models.<module_name>`."""

    def step(db) -> None:
        module = importlib.import_module(f"fleetctl.models.{module_name}")
        db.create_tables(module.MODELS, safe=True)
        install = getattr(module, "install", None)
        if install:
            install(db)

    return step


def _add_column(db, table: str, column: str, ddl: str) -> None:
    """ALTER TABLE ... ADD COLUMN unless the column exists (a database created after the model
    gained it already has it: step 1 creates today's tables)."""
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


def m011_quotas_and_audit_counts(db) -> None:
    """Fleet storage quota and usage (backfilled from existing content); audit record counts."""
    from peewee import PostgresqlDatabase

    _add_column(db, "fleet", "quota_bytes", "BIGINT NOT NULL DEFAULT 1073741824")
    _add_column(db, "fleet", "usage_bytes", "BIGINT NOT NULL DEFAULT 0")
    _add_column(db, "audit_log", "count", "INTEGER NOT NULL DEFAULT 1")
    size = "octet_length({})" if isinstance(db, PostgresqlDatabase) else "length(CAST({} AS BLOB))"
    for table, alias, columns, join in _USAGE_SOURCES:
        total = " + ".join(f"COALESCE({size.format(f'{alias}.{c}')}, 0)" for c in columns)
        db.execute_sql(f'UPDATE "fleet" SET "usage_bytes" = "usage_bytes" + COALESCE((SELECT SUM({total}) '
                       f'FROM "{table}" {alias} {join} WHERE k.fleet_id = "fleet".id), 0)')


def m014_knowledge_search_doc(db) -> None:
    """PostgreSQL: the search document as a stored tsvector column with its own GIN index (ranking a
    match reads it instead of parsing the text again); the expression index it replaces is dropped.
    SQLite's FTS5 table already stores its index: nothing to do."""
    from peewee import PostgresqlDatabase

    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql("ALTER TABLE knowledge ADD COLUMN IF NOT EXISTS search_doc tsvector GENERATED ALWAYS AS "
                   "(to_tsvector('english', title || ' ' || body)) STORED")
    db.execute_sql("CREATE INDEX IF NOT EXISTS knowledge_search_doc ON knowledge USING GIN (search_doc)")
    db.execute_sql("DROP INDEX IF EXISTS knowledge_fulltext")


MIGRATIONS: list[tuple[int, str, Callable]] = [
    (1, "core", create_module_tables("core")),
    (2, "knowledge", create_module_tables("knowledge")),
    (3, "tasks", create_module_tables("tasks")),
    (4, "messages", create_module_tables("messages")),
    (5, "research", create_module_tables("research")),
    (6, "documents", create_module_tables("documents")),
    (7, "wake", create_module_tables("wake")),
    (8, "ratelimit", create_module_tables("ratelimit")),
    (9, "wake_streams", lambda db: importlib.import_module("fleetctl.models.wake").install_news(db)),
    (10, "idempotency", create_module_tables("idempotency")),
    (11, "quotas_and_audit_counts", m011_quotas_and_audit_counts),
    (13, "console", create_module_tables("console")),
    (14, "knowledge_search_doc", m014_knowledge_search_doc),
]
