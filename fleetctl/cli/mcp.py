"""`fleetctl mcp`: run the stdio MCP server, or print the `.mcp.json` entry that runs as the member it names.

Whose credentials: `--token`/`--url` flags first; then an explicitly chosen profile (`--profile` or
FLEET_PROFILE), which wins over FLEET_URL/FLEET_TOKEN inherited from the environment (a pinned
profile must not silently run as someone else); then FLEET_URL/FLEET_TOKEN; then the current profile.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from fleetctl.cli import fastpath
from fleetctl.cli.app import state
from fleetctl.errors import FleetError, Unauthorized


def _from_env(ctx: typer.Context, name: str) -> bool:
    """Whether the root option `name` came from its environment variable (not a flag)."""
    source = ctx.find_root().get_parameter_source(name)
    return source is not None and source.name == "ENVIRONMENT"


def _settings(ctx: typer.Context):
    """The connection settings of `fleetctl mcp`: a chosen profile beats inherited FLEET_URL/FLEET_TOKEN."""
    st = state(ctx)
    return fastpath.mcp_settings(st.url, st.token, st.profile, _from_env(ctx, "url"), _from_env(ctx, "token"))


def stdio_config(ctx: typer.Context, settings) -> tuple[dict, str]:
    """The stdio entry and who it runs as: a pinned profile, or a reference to FLEET_TOKEN/FLEET_URL."""
    st = state(ctx)
    if st.token and not _from_env(ctx, "token"):
        raise FleetError("a --token flag cannot be referred to from .mcp.json; export it as FLEET_TOKEN "
                         "or save it with `fleetctl login --profile NAME`")
    if settings.profile and (st.profile or not st.token):
        entry = {"command": "fleetctl", "args": ["--profile", settings.profile, "mcp"]}
        return entry, f"profile {settings.profile!r}"
    if not settings.token:
        raise Unauthorized("no credentials to pin: run `fleetctl login` (the entry then pins that profile) "
                           "or set FLEET_TOKEN and FLEET_URL")
    url = "${FLEET_URL}" if _from_env(ctx, "url") else settings.url
    entry = {"command": "fleetctl", "args": ["mcp"], "env": {"FLEET_URL": url, "FLEET_TOKEN": "${FLEET_TOKEN}"}}
    return entry, "the member whose token is in FLEET_TOKEN where the MCP client starts"


def http_config(url: str) -> dict:
    """The entry for the server's streamable HTTP endpoint (the token comes from FLEET_TOKEN)."""
    return {"type": "http", "url": f"{url}/mcp", "headers": {"Authorization": "Bearer ${FLEET_TOKEN}"}}


def _member(settings) -> str | None:
    """The address of the member the settings act as, or None when the server cannot say."""
    from fleetctl.client import Client

    client = Client(settings.url, settings.token, timeout=5)
    try:
        return client.system.whoami()["member"]["address"]
    except (FleetError, KeyError, TypeError):
        return None
    finally:
        client.close()


def print_config(ctx: typer.Context, http: bool) -> None:
    """Print the entry on stdout and, on stderr, the member it runs as."""
    settings = _settings(ctx)
    env_token = bool(state(ctx).token) and _from_env(ctx, "token") and not state(ctx).profile
    if http:
        # The entry reads FLEET_TOKEN where the client starts; a profile's member is named only as a hint.
        entry, who = http_config(settings.url), "the member whose token is in FLEET_TOKEN where the MCP client starts"
    else:
        entry, who = stdio_config(ctx, settings)
    print(json.dumps({"mcpServers": {"fleet": entry}}, indent=2))
    member = _member(settings) if settings.token else None
    if member and http and not env_token:
        print(f"fleetctl: set FLEET_TOKEN to the token of {member} where the MCP client starts", file=sys.stderr)
    now = f" (now: {member})" if member and (env_token or not http) else ""
    print(f"fleetctl: this entry runs as {who}{now}", file=sys.stderr)


def mcp(
    ctx: typer.Context,
    print_config_: Annotated[bool, typer.Option(
        "--print-config", help="Print the .mcp.json entry that runs as this member (never the token) and exit.")
    ] = False,
    http: Annotated[bool, typer.Option(
        "--http", help="With --print-config: the entry for the server's HTTP endpoint /mcp (no local install).")
    ] = False,
) -> None:
    """Run the stdio MCP server that gives agents the fleet's primitives as tools."""
    if http and not print_config_:
        raise typer.BadParameter("--http goes with --print-config (`fleetctl serve` answers /mcp itself)")
    if print_config_:
        print_config(ctx, http)
        return
    settings = _settings(ctx)
    from fleetctl.mcp import stdio  # only this command loads the MCP server

    stdio.serve(settings.url, settings.token)


def register(app: typer.Typer) -> None:
    """Add the `mcp` command to the root app."""
    app.command("mcp")(mcp)
