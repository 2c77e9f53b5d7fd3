"""Drive the fleet's MCP tools with the official SDK's clients: stdio (`fleetctl mcp`) or streamable HTTP (`/mcp`).

    from mcpclients import over_http, over_stdio, ok, text   # tests/ is on sys.path under pytest
    result = over_http(actor.url, actor.token, steps)        # steps: async (session) -> anything
"""

from __future__ import annotations

import json
import sys

import anyio
import httpx2
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client


async def _run(transport, steps):
    async with transport as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await steps(session)


def over_stdio(url: str, token: str, steps, env: dict | None = None, options: tuple = ()):
    """Start `fleetctl [OPTIONS] mcp` for one member, run `await steps(session)` and return its result."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "fleetctl", *options, "mcp"],
                                   env={"FLEET_URL": url, "FLEET_TOKEN": token, **(env or {})})
    return anyio.run(_run, stdio_client(params), steps)


async def http_session(url: str, token: str | None, steps, headers: dict | None = None):
    """`steps(session)` against the server's `/mcp` with `token` (None: no Authorization header)."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers={**auth, **(headers or {})}, timeout=30) as http:
        return await _run(streamable_http_client(f"{url}/mcp", http_client=http), steps)


def over_http(url: str, token: str | None, steps, headers: dict | None = None):
    return anyio.run(http_session, url, token, steps, headers)


def text(result) -> str:
    return result.content[0].text


def ok(result):
    """The JSON a successful tool call answered."""
    assert not result.is_error, text(result)
    return json.loads(text(result))
