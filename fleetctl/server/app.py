"""The application factory."""

from __future__ import annotations

from flask import Flask

from fleetctl import console
from fleetctl.schemas.limits import MAX_BODY_BYTES
from fleetctl.server import (
    agents,
    audit,
    documents,
    guard,
    knowledge,
    mcp_http,
    messages,
    problems,
    refusals,
    research,
    system,
    tasks,
    wake,
)
from fleetctl.server.runtime import Runtime
from fleetctl.settings import ServerSettings, server_settings

MAX_BODY = MAX_BODY_BYTES
BLUEPRINTS = (system, agents, audit, knowledge, tasks, messages, research, documents, wake, mcp_http)


def create_app(settings: ServerSettings | str | None = None, migrate: bool = True) -> Flask:
    """Build the Flask app on its settings (a database path or URL alone: the other settings from the
    environment). The app owns its state (`app.extensions["fleet"]`, a Runtime): `close_app(app)` stops it."""
    if not isinstance(settings, ServerSettings):
        settings = server_settings(db=settings)
    app = Flask("fleetctl")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.url_map.strict_slashes = False
    runtime = Runtime(settings, migrate=migrate)
    app.extensions["fleet"] = runtime
    app.config["DB_URL"] = runtime.url
    app.config["LIMITER"] = runtime.limiter
    app.config["WAKE_LISTENER"] = runtime.wake_listener
    try:
        guard.install(app)
        problems.install(app)
        refusals.install(app)
        for module in BLUEPRINTS:
            app.register_blueprint(module.bp)
        app.register_blueprint(console.bp)  # the web console at /ui
    except BaseException:
        runtime.close()
        raise
    return app


def close_app(app: Flask) -> None:
    """Stop what the app owns (audit writer after a last flush, limiter, wake listener) and close its database."""
    app.extensions["fleet"].close()
