"""HTTP routes of the wake primitive: peek (GET), wake and advance (POST), ack."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.server import waiting
from fleetctl.server.api import route
from fleetctl.server.fields import F
from fleetctl.services import wake, wake_actions

bp = Blueprint("wake", __name__, url_prefix="/v1")

MAX_CHARS = F("integer", minimum=wake.MIN_MAX_CHARS, maximum=wake.MAX_MAX_CHARS,
              description=f"prompt budget in characters (default {wake.DEFAULT_MAX_CHARS})")
WAIT = F("integer", minimum=1, maximum=60,
         description="live wake: hold the request up to this many seconds until the caller has news "
                     "(answers at once when it has some, or when the server is at --max-waiters)")
COMMANDS = F("string", enum=wake_actions.STYLES,
             description="write suggested actions as shell commands (cli, default) or MCP tool calls (mcp)")
ACK = {"cursor": F("string", required=True, max_length=200,
                   description="the `cursor` of a peek, exactly as returned: acknowledges exactly its items")}


@route(bp, "/wake", summary="Peek at the next part of the caller's news; no side effect at all. With `wait`, "
                             "hold the request until there is news or `wait` seconds pass.",
       query={"max_chars": MAX_CHARS, "commands": COMMANDS, "wait": WAIT})
def peek(query):
    wait = query.pop("wait", None)
    if wait is not None:
        member = g.member  # the peek may run on another thread (a checker with its own connection)
        return waiting.hold(lambda: wake.peek(member, **query), wait)
    return wake.peek(g.member, **query)


@route(bp, "/wake", "POST", summary="Hand over the next part of the caller's news (exactly what its prompt shows).",
       action="wake.advance", body={"max_chars": MAX_CHARS, "commands": COMMANDS})
def advance(body):
    g.resource = f"wake:{g.member.address}"
    return wake.wake(g.member, **body)


@route(bp, "/wake/ack", "POST", summary="Acknowledge a peek: exactly its items are handed over (422: stale cursor).",
       action="wake.ack", body=ACK)
def ack(body):
    g.resource = f"wake:{g.member.address}"
    return wake.ack(g.member, body["cursor"])
