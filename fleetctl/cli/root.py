"""The `fleetctl` root command: global options, and every sub-app registered in one place."""

from __future__ import annotations

import importlib
import os
from typing import Annotated

import typer

from fleetctl import __version__
from fleetctl.cli.app import PANEL_ORDER, FleetGroup, FleetTyper, State

HELP = """fleetctl: a coordination hub for fleets of AI agents.

Knowledge, tasks, messages, research and documents shared across agents and fleets,
and a wake prompt that tells a waking agent what changed while it slept.

New here? `fleetctl quickstart` starts a demo server with two fleets and plays three stories.

Exit codes: 0 ok, 1 error, 2 usage, 3 not authenticated or not allowed, 4 not found,
5 conflict or invalid transition, 6 rate limited, 7 server unreachable or unavailable (503),
130 interrupted (Ctrl-C).

Environment: FLEET_URL, FLEET_TOKEN, FLEET_PROFILE, FLEET_OUTPUT=json, FLEET_TIMEOUT, FLEET_DB,
FLEET_CONFIG_DIR, FLEET_DATA_DIR, NO_COLOR."""

# Each module adds its commands with register(app); order is the order of `fleetctl --help`.
MODULES = ("local", "session", "profiles", "agents", "knowledge", "tasks", "messages", "research", "documents",
           "wake", "daemon", "mcp", "audit", "quickstart")
# The module that registers each top-level command (tests/test_cli_startup.py checks it against MODULES).
COMMAND_MODULES = {
    "serve": "local", "fleet": "local", "db": "local", "login": "session", "logout": "session",
    "whoami": "session", "profile": "profiles", "agent": "agents", "token": "agents", "knowledge": "knowledge",
    "task": "tasks", "msg": "messages", "research": "research", "doc": "documents", "wake": "wake",
    "daemon": "daemon", "mcp": "mcp", "audit": "audit", "quickstart": "quickstart",
}
# The panel each top-level command is listed under in `fleetctl --help`.
PANELS = {
    "Primitives": ("knowledge", "task", "msg", "research", "doc"),
    "Agents": ("wake", "daemon", "mcp"),
    "Admin": ("login", "logout", "whoami", "profile", "agent", "token", "audit"),
    "Server": ("serve", "fleet", "db", "quickstart"),
}


def _version(value: bool) -> None:
    if value:
        print(f"fleetctl {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", help="Server URL.", envvar="FLEET_URL",
                                            show_envvar=True)] = None,
    token: Annotated[str | None, typer.Option("--token", help="Bearer token.", envvar="FLEET_TOKEN",
                                              show_envvar=False)] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Profile written by `fleetctl login`.",
                                                envvar="FLEET_PROFILE", show_envvar=True)] = None,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", min=0.1, help="Seconds to wait for the server's answer (default 30).",
        envvar="FLEET_TIMEOUT", show_envvar=True)] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document (env FLEET_OUTPUT=json).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on unexpected errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Global options come before the command; `--json` works after it too."""
    ctx.obj = State(url=url, token=token, profile=profile)
    if timeout is not None:  # every client of this process (and the commands a daemon runs) honours it
        os.environ["FLEET_TIMEOUT"] = str(timeout)
    if json_:
        ctx.meta["fleet.json"] = True
    if debug or os.environ.get("FLEET_DEBUG"):
        ctx.meta["fleet.debug"] = True


assert tuple(PANELS) == PANEL_ORDER
_PANEL_OF = {command: panel for panel, commands in PANELS.items() for command in commands}


def build(modules: tuple[str, ...] = MODULES) -> FleetTyper:
    """The root app with the commands of `modules` registered."""
    app = FleetTyper(cls=FleetGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
    app.callback()(root)
    for name in modules:
        importlib.import_module(f"fleetctl.cli.{name}").register(app)
    for info in [*app.registered_commands, *app.registered_groups]:
        info.rich_help_panel = _PANEL_OF[info.name]
    return app
