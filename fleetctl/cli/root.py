"""The `fleetctl` root command: global options, and every sub-app registered in one place."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer

from fleetctl import __version__
from fleetctl.cli.app import PANEL_ORDER, FleetGroup, FleetTyper, State
from fleetctl.errors import ExitCode

HELP = """fleetctl: a coordination hub for fleets of AI agents.

Knowledge, tasks, messages, research and documents shared across agents and fleets,
and a wake prompt that tells a waking agent what changed while it slept.

New here? `fleetctl quickstart` starts a demo server with two fleets and plays three stories.

Exit codes: 0 ok, 1 error, 2 usage, 3 not authenticated or not allowed, 4 not found,
5 conflict or invalid transition, 6 rate limited, 7 server unreachable or unavailable (503),
130 interrupted (Ctrl-C).

Environment: FLEET_URL, FLEET_TOKEN, FLEET_PROFILE, FLEET_OUTPUT=json, FLEET_TIMEOUT, FLEET_DB,
FLEET_CONFIG_DIR, FLEET_DATA_DIR, NO_COLOR."""

app = FleetTyper(cls=FleetGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})

# Each module adds its commands with register(app); order is the order of `fleetctl --help`.
MODULES = ("local", "session", "profiles", "agents", "knowledge", "tasks", "messages", "research", "documents",
           "wake", "daemon", "mcp", "audit", "quickstart")
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


@app.callback()
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


for _name in MODULES:
    importlib.import_module(f"fleetctl.cli.{_name}").register(app)
assert tuple(PANELS) == PANEL_ORDER
_PANEL_OF = {command: panel for panel, commands in PANELS.items() for command in commands}
for _info in [*app.registered_commands, *app.registered_groups]:
    _info.rich_help_panel = _PANEL_OF[_info.name]


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="fleetctl")
    except KeyboardInterrupt:  # before or after a command ran (its own Ctrl-C is handled inside)
        print("fleetctl: error: interrupted", file=sys.stderr)
        raise SystemExit(ExitCode.INTERRUPTED) from None
