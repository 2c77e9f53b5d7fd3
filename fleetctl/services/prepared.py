"""Prepared SQL for the write hot paths: each statement's text is built once per engine, not per request.

Building a statement with peewee costs more than running it on SQLite (about 0.1-0.3 ms of Python
each), so the few statements every publish and send runs are kept here as text. `{p}` is the
driver's placeholder (`?` or `%s`) and `{false}` the engine's false; `{rows:N}` repeats a row of N
placeholders once per row. Values are passed as the database stores them (peewee's `db_value`).
"""

from __future__ import annotations

import functools
import re

from fleetctl import db

ROWS = re.compile(r"\{rows:(\d+)\}")


@functools.lru_cache(maxsize=256)
def _text(template: str, engine: str, rows: int) -> str:
    param = "%s" if engine == "postgres" else "?"

    def values(match: re.Match) -> str:
        return ", ".join(["(" + ", ".join([param] * int(match[1])) + ")"] * rows)

    return ROWS.sub(values, template).replace("{p}", param).replace("{false}", "false" if engine == "postgres" else "0")


def run(template: str, params, rows: int = 1):
    """Run one prepared statement on this thread's connection (inside the caller's transaction)."""
    return db.database.execute_sql(_text(template, db.engine(), rows), params)


def run_many(template: str, rows: list[tuple]) -> None:
    """Run one prepared single-row statement for each of `rows` (the driver loops, not Python)."""
    db.database.cursor().executemany(_text(template, db.engine(), 1), rows)
