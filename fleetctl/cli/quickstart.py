"""`fleetctl quickstart`: from zero to cross-fleet coordination in minutes, on a local demo server."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import json_mode, with_json


def quickstart(
    ctx: typer.Context,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the demo server a quickstart left running.")] = False,
) -> None:
    """Start a demo server, create fleets acme and labs with agents and profiles, play three stories.

    The server runs detached on a free port (database, log and state file in the data dir,
    FLEET_DATA_DIR); run it again to replay the stories on the same fleets. Profiles are named
    acme-ops, labs-builder, ...; your current profile is left as it is.
    """
    from fleetctl import quickstart as qs  # the demo machinery loads only for this command

    if stop:
        result = qs.stop()
        output.emit(ctx, result, lambda d: print(
            f"Stopped the demo server (pid {d['pid']}, {d['url']}){' with SIGKILL' if d['forced'] else ''}."
            if d["stopped"] else f"Nothing to stop: {d['detail']}."))
        return
    output.emit(ctx, qs.run(human=not json_mode(ctx)), lambda _: None)


def register(app: typer.Typer) -> None:
    """Add `quickstart` to the root app."""
    app.command("quickstart")(with_json(quickstart))
