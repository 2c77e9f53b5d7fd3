"""Frozen migrations: they never read the models, yet build exactly the schema the models describe.

Each database is built in a subprocess (this process's database belongs to the session's server).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

FROZEN = 13  # the last step frozen from the models; later steps run on top of both databases

SCRIPT = textwrap.dedent('''
    import importlib, json, sys
    from fleetctl import db, migrations

    url, mode = sys.argv[1], sys.argv[2]
    db.open_database(url, migrate_now=False)
    database = db.database.obj
    if mode == "models":  # the tables as the models (and their install hooks) create them today
        database.create_tables([db.SchemaMigration])
        for name in ("core", "knowledge", "tasks", "messages", "research", "documents", "wake", "ratelimit"):
            module = importlib.import_module(f"fleetctl.models.{name}")
            database.create_tables(module.MODELS)
            getattr(module, "install", lambda _db: None)(database)
        importlib.import_module("fleetctl.models.wake").install_news(database)
        for name in ("idempotency", "console"):
            database.create_tables(importlib.import_module(f"fleetctl.models.{name}").MODELS)
        for version, _, step in migrations.MIGRATIONS:
            if version > FROZEN:
                step(database)
    elif mode == "steps":  # the frozen steps one by one, as `db upgrade` after each release would
        everything = migrations.MIGRATIONS
        for count in range(1, len(everything) + 1):
            migrations.MIGRATIONS = everything[:count]
            db.migrate()
    else:
        assert db.migrate()
        assert not any(m.startswith("fleetctl.models") for m in sys.modules), "a migration imported the models"
    if db.engine() == "sqlite":
        schema = database.execute_sql("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                      "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall()
    else:
        queries = (
            "SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length, is_nullable, "
            "column_default, is_generated, generation_expression FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 3",
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2",
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
            "SELECT sequence_name, data_type FROM information_schema.sequences WHERE sequence_schema = 'public' "
            "ORDER BY 1",
        )
        schema = [database.execute_sql(q).fetchall() for q in queries]
    print(json.dumps(schema, default=str))
''').replace("FROZEN", str(FROZEN))


def _schema(url: str, mode: str):
    done = subprocess.run([sys.executable, "-c", SCRIPT, url, mode], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _databases(fresh_db: str, tmp_path, count: int) -> list[str]:
    from conftest import create_pg_database

    if "://" in fresh_db:
        return [fresh_db] + [create_pg_database() for _ in range(count - 1)]
    return [fresh_db] + [str(tmp_path / f"db{i}.db") for i in range(1, count)]


@pytest.mark.slow  # three databases built in subprocesses, per engine
def test_frozen_steps_build_the_schema_the_models_describe(fresh_db, tmp_path):
    from conftest import drop_pg_database

    migrated, reference, stepwise = urls = _databases(fresh_db, tmp_path, 3)
    try:
        expected = _schema(reference, "models")
        assert expected and _schema(migrated, "migrate") == expected
        assert _schema(stepwise, "steps") == expected
    finally:
        for url in urls[1:]:
            if "://" in url:
                drop_pg_database(url)


def test_migrations_never_import_the_models():
    from pathlib import Path

    import fleetctl.frozen_ddl.postgres
    import fleetctl.frozen_ddl.sqlite
    import fleetctl.migrations

    for module in (fleetctl.migrations, fleetctl.frozen_ddl, fleetctl.frozen_ddl.sqlite, fleetctl.frozen_ddl.postgres):
        text = Path(module.__file__).read_text()
        assert "fleetctl.models" not in text and "import_module" not in text, module.__name__
