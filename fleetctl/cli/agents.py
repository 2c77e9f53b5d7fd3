"""Members and tokens: agent register/list/show/update/revoke, token rotate."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client
from fleetctl.cli.inputs import AfterOpt, LimitOpt, item_path

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


def _path(name: str, suffix: str = "") -> str:
    """The URL path of a member: `name` or `fleet/name` (an empty name is a usage error)."""
    return item_path("agents", "member", name, suffix)


def _show_minted(ctx: typer.Context, data: dict, verb: str) -> None:
    def human(d):
        print(f"{verb} {d['member']['address']} ({d['member']['role']}).")
        output.secret_notice(d["token"], d["member"]["address"])

    output.emit(ctx, data, human)


@agent_app.command("register")
def register_agent(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Member name (lowercase slug).", metavar="NAME")],
    role: RoleOpt = None, domain: DomainsOpt = None,
    cross_fleet: Annotated[bool, typer.Option("--cross-fleet", help="Accept cross-fleet traffic.")] = False,
    allow_fleet: AllowOpt = None, rate_limit: RateOpt = None,
) -> None:
    """Register a member of your fleet; prints its token once (owner only)."""
    body = {"name": name, "role": role or "agent", "domains": domain or [], "cross_fleet": cross_fleet,
            "allow_fleets": allow_fleet or []}
    if rate_limit is not None:
        body["rate_limit"] = rate_limit
    _show_minted(ctx, client(ctx).post("/v1/agents", body), "Registered")


@agent_app.command("list")
def list_agents(ctx: typer.Context, limit: LimitOpt = None, after: AfterOpt = None) -> None:
    """List the members of your fleet."""
    data = client(ctx).get("/v1/agents", limit=limit, after=after)
    output.emit(ctx, data, lambda d: output.table(d["items"], COLUMNS, empty="No members."))


@agent_app.command("show")
def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Member name.", metavar="NAME")]) -> None:
    """Show one member of your fleet."""
    output.emit(ctx, client(ctx).get(_path(name)))


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
    body: dict = {}
    if role is not None:
        body["role"] = role
    if domain is not None or clear_domains:
        body["domains"] = domain or []
    if cross_fleet is not None:
        body["cross_fleet"] = cross_fleet
    if allow_fleet is not None or clear_allow_fleets:
        body["allow_fleets"] = allow_fleet or []
    if rate_limit is not None:
        body["rate_limit"] = rate_limit
    if not body:
        raise typer.BadParameter("give at least one flag to change")
    output.emit(ctx, client(ctx).patch(_path(name), body))


@agent_app.command("revoke")
def revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Member name.", metavar="NAME")]) -> None:
    """Revoke a member and all its tokens at once (owner only)."""
    data = client(ctx).post(_path(name, "/revoke"))
    output.emit(ctx, data, lambda d: print(f"Revoked {d['address']}; its tokens no longer work."))


@token_app.command("rotate")
def rotate(ctx: typer.Context,
           name: Annotated[str | None, typer.Argument(help="Member (owner only); omit for your own.",
                                                      metavar="NAME")] = None
           ) -> None:
    """Mint a new token (shown once); the old one stops working at once."""
    path = _path(name, "/token") if name is not None else "/v1/tokens/rotate"
    data = client(ctx).post(path)
    if name is None:
        _keep_in_profile(ctx, data["token"])
    _show_minted(ctx, data, "New token for")


def _keep_in_profile(ctx: typer.Context, token: str) -> None:
    """After rotating your own token: the profile it came from keeps the new one (the old one is dead)."""
    from fleetctl import config
    from fleetctl.cli.app import state

    settings = state(ctx).settings()
    stored = config.load_profiles()["profiles"].get(settings.profile or "", {})
    if stored.get("token") == settings.token:
        config.save_profile(settings.profile, stored.get("url") or settings.url, token, make_current=False)


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app, name="agent")
    app.add_typer(token_app, name="token")
