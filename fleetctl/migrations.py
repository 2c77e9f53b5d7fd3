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
]
