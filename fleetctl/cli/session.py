"""Log in (save a profile), log out, and ask who you are."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import state
from fleetctl.errors import Unauthorized


def login(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", help="Server URL.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Your token (prompted if omitted).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Profile name to save under.")] = None,
) -> None:
    """Check a token against the server, save it as a profile (file mode 0600) and make that profile current."""
    from fleetctl import config
    from fleetctl.client import Client

    st = state(ctx)
    settings = config.resolve(url or st.url, token or st.token, None)
    token = token or st.token  # never the current profile's token: it belongs to another login
    if not token:
        token = typer.prompt("Token", hide_input=True)
    try:
        me = Client(settings.url, token).system.whoami()
    except Unauthorized as err:
        raise Unauthorized(f"{err.detail} at {settings.url}; was the token made on another database? "
                           "`fleetctl serve` prints the database it serves, `fleetctl fleet create` the one "
                           "it wrote") from None
    name = profile or st.profile or config.DEFAULT_PROFILE
    before = config.load_profiles().get("current")
    path = config.save_profile(name, settings.url, token, member=me["member"]["address"])
    was = f" (was {before!r})" if before and before != name else ""
    output.emit(ctx, {"profile": name, "url": settings.url, "member": me["member"], "current": name},
                lambda _: print(f"Logged in to {settings.url} as {me['member']['address']}; profile {name!r} "
                                f"saved in {path} is now current{was}."))


def logout(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option("--profile", help="Profile to forget (default: the current one).")]
    = None,
) -> None:
    """Forget a saved profile and its token on this machine (the token itself stays valid on the server;
    `fleetctl token rotate` kills it)."""
    from fleetctl import config
    from fleetctl.errors import NotFound

    name = profile or state(ctx).profile or config.load_profiles().get("current")
    if not name:
        raise NotFound("no current profile to log out of; `fleetctl profile list` shows the saved ones")
    was_current = config.remove_profiles([name])
    output.ok(ctx, f"Logged out: profile {name!r} removed" + ("; there is no current profile now." if was_current
                                                               else "."))


def whoami(ctx: typer.Context) -> None:
    """Show the member and fleet behind the current credentials."""
    data = state(ctx).client().system.whoami()

    def human(d):
        m = d["member"]
        settings = state(ctx).settings()
        via = f" (profile {settings.profile!r})" if settings.profile else ""
        print(f"{m['address']} ({m['role']}) on {settings.url}{via}")
        print(f"domains: {', '.join(m['domains']) or '-'}  cross-fleet: {'yes' if m['cross_fleet'] else 'no'}")
        fleet = d["fleet"]
        if "quota" in fleet:  # owners see the fleet's storage
            print(f"storage: {fleet['usage']} of {fleet['quota']} bytes used "
                  f"({100 * fleet['usage'] / fleet['quota']:.1f}% of the fleet's quota)")

    output.emit(ctx, data, human)


def register(app: typer.Typer) -> None:
    from fleetctl.cli.app import with_json

    app.command("login")(with_json(login))
    app.command("logout")(with_json(logout))
    app.command("whoami")(with_json(whoami))
