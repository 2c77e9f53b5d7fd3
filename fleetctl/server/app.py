"""The application factory."""

from __future__ import annotations

import importlib

from flask import Flask

from fleetctl import config, db
from fleetctl.services import audit
from fleetctl.services.ratelimit import SlidingWindow
from fleetctl.services.ratelimit_shared import SharedWindow

MAX_BODY = 1024 * 1024
BLUEPRINTS = ("system", "agents", "audit", "knowledge", "tasks", "messages", "research", "documents", "wake",
              "mcp_http")


def make_limiter() -> SlidingWindow:
    """In memory on SQLite (one process); shared through the database on PostgreSQL (many servers)."""
    if db.engine() == "postgres":
        return SharedWindow(db.database.obj, 60.0).start()
    return SlidingWindow(60.0)


def make_wake_listener(url: str):
    """On PostgreSQL, the thread that wakes this server's waiters on other servers' writes; None on SQLite."""
    if db.engine() != "postgres":
        return None
    from fleetctl.services.wakeup_pg import Listener

    return Listener(url).start()


def create_app(db_url: str | None = None, migrate: bool = True) -> Flask:
    """Build the Flask app on the database at `db_url` (path or postgresql:// URL)."""
    from fleetctl.server import guard, problems, refusals

    app = Flask("fleetctl")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.url_map.strict_slashes = False
    url = db_url or config.default_db()
    app.config["DB_URL"] = url
    db.open_database(url, migrate_now=migrate)
    app.config["LIMITER"] = make_limiter()
    app.config["WAKE_LISTENER"] = make_wake_listener(url)
    guard.install(app)
    problems.install(app)
    refusals.install(app)
    for name in BLUEPRINTS:
        module = importlib.import_module(f"fleetctl.server.{name}")
        app.register_blueprint(module.bp)
    app.register_blueprint(importlib.import_module("fleetctl.console").bp)  # the web console at /ui
    audit.writer.start()
    return app
