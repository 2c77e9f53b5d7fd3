"""`fleetctl profile list | use NAME | remove NAME`: the saved logins on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper

profile_app = FleetTyper(help="Saved logins (written by `fleetctl login`): list them, switch, remove.")

NameArg = Annotated[str, typer.Argument(help="Profile name.", metavar="NAME")]
COLUMNS = [("CURRENT", lambda p: "*" if p["current"] else ""), ("NAME", "name"), ("URL", "url"),
           ("MEMBER", lambda p: p["member"] or ""), ("DEMO", lambda p: "yes" if p["demo"] else "")]


@profile_app.command("list")
def list_profiles(ctx: typer.Context) -> None:
    """List the saved profiles; the current one is marked * (tokens are never shown)."""
    from fleetctl import config

    data = config.load_profiles()
    items = [{"name": name, "url": p.get("url"), "member": p.get("member"), "demo": bool(p.get("demo")),
              "current": name == data["current"]} for name, p in sorted(data["profiles"].items())]

    def human(d: dict) -> None:
        columns = COLUMNS if any(p["demo"] for p in d["items"]) else COLUMNS[:-1]
        output.table(d["items"], columns, empty="No profiles: `fleetctl login` saves one.")
        if d["items"] and d["current"] is None:
            print("No current profile: `fleetctl profile use NAME` picks one.")

    output.emit(ctx, {"items": items, "next": None, "current": data["current"]}, human)


@profile_app.command("use")
def use(ctx: typer.Context, name: NameArg) -> None:
    """Make a saved profile the current one."""
    from fleetctl import config

    config.use_profile(name)
    stored = config.load_profiles()["profiles"][name]
    who = f" as {stored['member']}" if stored.get("member") else ""
    output.ok(ctx, f"Profile {name!r} is now current ({stored.get('url')}{who}).")


@profile_app.command("remove")
def remove(ctx: typer.Context, name: NameArg) -> None:
    """Forget a saved profile and its token on this machine."""
    from fleetctl import config

    was_current = config.remove_profiles([name])
    output.ok(ctx, f"Removed profile {name!r}" + ("; there is no current profile now." if was_current else "."))


def register(app: typer.Typer) -> None:
    """Add `fleetctl profile ...`."""
    app.add_typer(profile_app, name="profile")
