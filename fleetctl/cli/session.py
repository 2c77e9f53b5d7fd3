"""Log in (save a profile) and ask who you are."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import state


def login(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", help="Server URL.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Your token (prompted if omitted).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Profile name to save under.")] = None,
) -> None:
    """Check a token against the server and save it as a profile (file mode 0600)."""
    from fleetctl import config
    from fleetctl.client import Client

    st = state(ctx)
    settings = config.resolve(url or st.url, token or st.token, None)
    token = token or st.token  # never the current profile's token: it belongs to another login
    if not token:
        token = typer.prompt("Token", hide_input=True)
    client = Client(settings.url, token)
    me = client.get("/v1/whoami")
    name = profile or st.profile or config.DEFAULT_PROFILE
    path = config.save_profile(name, settings.url, token)
    output.emit(ctx, {"profile": name, "url": settings.url, "member": me["member"]},
                lambda _: print(f"Logged in to {settings.url} as {me['member']['address']} "
                                f"(profile {name!r} saved in {path})."))


def whoami(ctx: typer.Context) -> None:
    """Show the member and fleet behind the current credentials."""
    data = state(ctx).client().get("/v1/whoami")

    def human(d):
        m = d["member"]
        print(f"{m['address']} ({m['role']}) on {state(ctx).settings().url}")
        print(f"domains: {', '.join(m['domains']) or '-'}  cross-fleet: {'yes' if m['cross_fleet'] else 'no'}")
        fleet = d["fleet"]
        if "quota" in fleet:  # owners see the fleet's storage
            print(f"storage: {fleet['usage']} of {fleet['quota']} bytes used "
                  f"({100 * fleet['usage'] / fleet['quota']:.1f}% of the fleet's quota)")

    output.emit(ctx, data, human)


def register(app: typer.Typer) -> None:
    from fleetctl.cli.app import with_json

    app.command("login")(with_json(login))
    app.command("whoami")(with_json(whoami))
