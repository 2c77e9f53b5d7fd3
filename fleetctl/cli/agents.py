"""Members and tokens: agent register/list/show/update/revoke, token rotate."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client
from fleetctl.cli.inputs import AfterOpt, LimitOpt, item_name

agent_app = FleetTyper(help="Register and administer the members of your fleet (owners).")
token_app = FleetTyper(help="Rotate tokens.")

RoleOpt = Annotated[str | None, typer.Option("--role", help="agent, reviewer or owner.")]
DomainsOpt = Annotated[list[str] | None, typer.Option(
    "--domain", "-d", help="Domain tag (repeatable; replaces the list).")]
AllowOpt = Annotated[list[str] | None, typer.Option(
    "--allow-fleet", help="Fleet accepted cross-fleet (repeatable; none = any).")]
RateOpt = Annotated[int | None, typer.Option("--rate-limit", min=1, help="Requests/min for this member.")]
COLUMNS = [("NAME", "address"), ("ROLE", "role"), ("DOMAINS", "domains"), ("CROSS-FLEET", "cross_fleet"),
           ("CREATED", lambda m: output.relative(m["created_at"])),
           ("REVOKED", lambda m: output.relative(m["revoked_at"]) if m["revoked_at"] else "")]


def _name(name: str) -> str:
    """A member's `name` or `fleet/name` (an empty name is a usage error)."""
    return item_name("member", name)


def _show_minted(ctx: typer.Context, data: dict, verb: str, after: str = "") -> None:
    def human(d):
        print(f"{verb} {d['member']['address']} ({d['member']['role']}).")
        output.secret_notice(d["token"], d["member"]["address"])
        if after:
            print(after)

    output.emit(ctx, data, human)


@agent_app.command("register")
def register_agent(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Member name (lowercase slug).", metavar="NAME")],
    role: RoleOpt = None, domain: DomainsOpt = None,
    cross_fleet: Annotated[bool, typer.Option("--cross-fleet", help="Accept cross-fleet traffic.")] = False,
    allow_fleet: AllowOpt = None, rate_limit: RateOpt = None,
    save_profile: Annotated[str | None, typer.Option(
        "--save-profile", help="Also save the new member's token here as profile NAME, with this server's URL "
                               "(not made current).")] = None,
) -> None:
    """Register a member of your fleet; prints its token once (owner only)."""
    from fleetctl import config

    if save_profile is not None and not save_profile.strip():
        raise typer.BadParameter("a profile name must not be empty", param_hint="'--save-profile'")
    api = client(ctx)
    data = api.members.register(name, role=role or "agent", domains=domain or [], cross_fleet=cross_fleet,
                                allow_fleets=allow_fleet or [], rate_limit=rate_limit)
    address = data["member"]["address"]
    if save_profile:
        config.save_profile(save_profile, api.url, data["token"], make_current=False, member=address)
        after = (f"Saved as profile {save_profile!r} (not current): `fleetctl --profile {save_profile} whoami`, "
                 f"or `fleetctl profile use {save_profile}`.")
    else:
        after = (f"Next: give it to the agent as FLEET_URL={api.url} FLEET_TOKEN=<token>, or keep it here with "
                 f"`fleetctl login --url {api.url} --profile {data['member']['name']}` (or register with "
                 "--save-profile NAME).")
    _show_minted(ctx, data, "Registered", after)


@agent_app.command("list")
def list_agents(ctx: typer.Context, limit: LimitOpt = None, after: AfterOpt = None) -> None:
    """List the members of your fleet."""
    data = client(ctx).members.list(limit=limit, after=after)
    output.emit(ctx, data, lambda d: output.table(d["items"], COLUMNS, empty="No members."))


@agent_app.command("show")
def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Member name.", metavar="NAME")]) -> None:
    """Show one member of your fleet."""
    output.emit(ctx, client(ctx).members.show(_name(name)))


def _replacing(values: list[str] | None, clear: bool) -> list[str] | None:
    """A list flag's new list: the values given, [] with its --clear flag, None (unchanged) otherwise."""
    return (values or []) if values is not None or clear else None


@agent_app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Member name.", metavar="NAME")],
    role: RoleOpt = None, domain: DomainsOpt = None,
    cross_fleet: Annotated[bool | None, typer.Option("--cross-fleet/--no-cross-fleet",
                                                     help="Accept cross-fleet traffic or not.")] = None,
    allow_fleet: AllowOpt = None, rate_limit: RateOpt = None,
    clear_domains: Annotated[bool, typer.Option("--clear-domains", help="Remove every domain.")] = False,
    clear_allow_fleets: Annotated[bool, typer.Option("--clear-allow-fleets",
                                                     help="Accept every fleet again.")] = False,
) -> None:
    """Change only the flags given (owner only); a list flag replaces that list."""
    changes = {"role": role, "domains": _replacing(domain, clear_domains), "cross_fleet": cross_fleet,
               "allow_fleets": _replacing(allow_fleet, clear_allow_fleets), "rate_limit": rate_limit}
    if all(value is None for value in changes.values()):
        raise typer.BadParameter("give at least one flag to change")
    output.emit(ctx, client(ctx).members.update(_name(name), **changes))


@agent_app.command("revoke")
def revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Member name.", metavar="NAME")]) -> None:
    """Revoke a member and all its tokens at once (owner only)."""
    data = client(ctx).members.revoke(_name(name))
    output.emit(ctx, data, lambda d: print(f"Revoked {d['address']}; its tokens no longer work."))


@token_app.command("rotate")
def rotate(ctx: typer.Context,
           name: Annotated[str | None, typer.Argument(help="Member (owner only); omit for your own.",
                                                      metavar="NAME")] = None
           ) -> None:
    """Mint a new token (shown once); the old one stops working at once.

    Rotating your own token also updates the saved profiles that held the old one.
    """
    from fleetctl import config

    api = client(ctx)
    me = None
    if name is not None:  # an owner may name itself: that kills its own token too. One whoami tells.
        name = _name(name)
        me = api.system.whoami()["member"]["address"]
    data = api.members.rotate(name)
    after = ""
    if name is None or data["member"]["address"] == me:
        updated = config.replace_token(api.token, data["token"])
        if updated:
            after = f"Saved profile {', '.join(map(repr, updated))} now holds the new token."
        else:
            after = "The old token (from --token or FLEET_TOKEN) no longer works: use the new one."
    _show_minted(ctx, data, "New token for", after)


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app, name="agent")
    app.add_typer(token_app, name="token")
