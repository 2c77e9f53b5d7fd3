"""The wake: peek, advance and ack."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleetctl.schemas.common import MaxChars, Query, QueryMaxChars, Request, Response, query_integer, text
from fleetctl.services.wake import CURSOR
from fleetctl.services.wake_actions import STYLES

Commands = Literal[STYLES]
COMMANDS = "write suggested actions as shell commands (cli, default) or MCP tool calls (mcp)"


class PeekQuery(Query):
    max_chars: QueryMaxChars = None
    commands: Commands = Field(None, description=COMMANDS)
    wait: query_integer(1, 60, "live wake: hold the request up to this many seconds until the caller has news "
                               "(answers at once when it has some, or when the server is at --max-waiters)") = None


class Advance(Request):
    max_chars: MaxChars = None
    commands: Commands = Field(None, description=COMMANDS)


class Ack(Request):
    cursor: text(200, "the `cursor` of a peek, exactly as returned: acknowledges exactly its items",
                 pattern=CURSOR.pattern)


class Count(Response):
    total: int
    shown: int
    waiting: int
    more: bool
    at_least: bool


class Wake(Response):
    cursor: str = Field(description="pass to /v1/wake/ack to acknowledge exactly these items")
    empty: bool
    prompt: str
    sections: dict[str, list[dict]]
    counts: dict[str, Count]
    waiting: int = Field(description="items not shown that wait for the next wake")


class Acked(Response):
    cursor: str
    moved: bool
