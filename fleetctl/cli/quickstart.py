"""`fleetctl quickstart`: from zero to cross-fleet coordination in minutes, on a local demo server."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import json_mode, with_json
from fleetctl.errors import Invalid


def quickstart(
    ctx: typer.Context,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the demo server a quickstart left running.")] = False,
    clean: Annotated[bool, typer.Option("--clean", help="With --stop: also remove the demo's profiles, database "
                                                        "and log.")] = False,
) -> None:
    """Start a demo server, create fleets acme and labs with agents and profiles, play three stories.

    The server runs detached on a free port (database, log and state file in the data dir,
    FLEET_DATA_DIR); run it again to replay the stories on the same fleets. Profiles are named
    acme-ops, labs-builder, ...; your current profile is left as it is (none of the demo's becomes current).
    `--stop` stops the server (a demo profile that was current stops being current); `--stop --clean` also
    removes the demo's profiles, database and log.
    """
    from fleetctl import quickstart as qs  # the demo machinery loads only for this command

    if clean and not stop:
        raise Invalid("--clean goes with --stop: `fleetctl quickstart --stop --clean`")
    if stop:
        output.emit(ctx, qs.stop(clean), _stopped)
        return
    output.emit(ctx, qs.run(human=not json_mode(ctx)), lambda _: None)


def _stopped(d: dict) -> None:
    print(f"Stopped the demo server (pid {d['pid']}, {d['url']}){' with SIGKILL' if d['forced'] else ''}."
          if d["stopped"] else f"Nothing to stop: {d['detail']}.")
    if d["uncurrent"]:
        print(f"Profile {d['uncurrent']!r} pointed at the demo server and is no longer current "
              "(`fleetctl profile use NAME` picks another).")
    if d["removed_profiles"]:
        print(f"Removed {len(d['removed_profiles'])} demo profiles: {', '.join(d['removed_profiles'])}.")
    if d["removed_files"]:
        print(f"Removed {', '.join(d['removed_files'])}.")


def register(app: typer.Typer) -> None:
    """Add `quickstart` to the root app."""
    app.command("quickstart")(with_json(quickstart))
