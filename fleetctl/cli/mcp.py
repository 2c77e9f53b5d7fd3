"""`fleetctl mcp`: run the stdio MCP server, or print its `.mcp.json` entry."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from fleetctl.cli.app import state


def mcp_config(url: str, profile: str | None) -> dict:
    """The `.mcp.json` entry that starts this server with the same URL and profile (never the token)."""
    env = {"FLEET_URL": url}
    if profile:
        env["FLEET_PROFILE"] = profile
    return {"mcpServers": {"fleet": {"command": "fleetctl", "args": ["mcp"], "env": env}}}


def mcp(
    ctx: typer.Context,
    print_config: Annotated[bool, typer.Option(
        "--print-config", help="Print the .mcp.json entry for this server (without the token) and exit.")] = False,
) -> None:
    """Run the stdio MCP server that gives agents the fleet's primitives as tools."""
    settings = state(ctx).settings()
    if print_config:
        print(json.dumps(mcp_config(settings.url, settings.profile), indent=2))
        if not settings.profile:
            print("fleetctl: note: no profile in use; add FLEET_TOKEN to \"env\" or run `fleetctl login` "
                  "so the server can authenticate", file=sys.stderr)
        return
    from fleetctl import mcp as server  # the MCP SDK is heavy: only this command pays for it

    server.serve(settings.url, settings.token)


def register(app: typer.Typer) -> None:
    """Add the `mcp` command to the root app."""
    app.command("mcp")(mcp)
