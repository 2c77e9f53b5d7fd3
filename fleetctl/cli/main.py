"""The `fleetctl` root command: global options, and every sub-app registered in one place."""

from __future__ import annotations

import importlib
import os
from typing import Annotated

import typer

from fleetctl import __version__
from fleetctl.cli.app import FleetGroup, FleetTyper, State

HELP = """fleetctl: a coordination hub for fleets of AI agents.

Knowledge, tasks, messages, research and documents shared across agents and fleets,
and a wake prompt that tells a waking agent what changed while it slept.

New here? `fleetctl quickstart` starts a demo server with two fleets and plays three stories.

Exit codes: 0 ok, 1 error, 2 usage, 3 not authenticated or not allowed, 4 not found,
5 conflict or invalid transition, 6 rate limited, 7 server unreachable or unavailable (503).

Environment: FLEET_URL, FLEET_TOKEN, FLEET_PROFILE, FLEET_OUTPUT=json, FLEET_DB,
FLEET_CONFIG_DIR, FLEET_DATA_DIR, NO_COLOR."""

app = FleetTyper(cls=FleetGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})

# Each module adds its commands with register(app); order is the order of `fleetctl --help`.
MODULES = ("local", "session", "agents", "knowledge", "tasks", "messages", "research", "documents",
           "wake", "daemon", "mcp", "audit", "quickstart")


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
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document (env FLEET_OUTPUT=json).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on unexpected errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Global options come before the command; `--json` works after it too."""
    ctx.obj = State(url=url, token=token, profile=profile)
    if json_:
        ctx.meta["fleet.json"] = True
    if debug or os.environ.get("FLEET_DEBUG"):
        ctx.meta["fleet.debug"] = True


for _name in MODULES:
    importlib.import_module(f"fleetctl.cli.{_name}").register(app)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="fleetctl")
