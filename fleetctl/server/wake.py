"""HTTP routes of the wake primitive: peek (GET), wake and advance (POST), ack."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.schemas import wake as schemas
from fleetctl.server import waiting
from fleetctl.server.api import route
from fleetctl.services import wake

bp = Blueprint("wake", __name__, url_prefix="/v1")


@route(bp, "/wake", summary="Peek at the next part of the caller's news; no side effect at all. With `wait`, "
                             "hold the request until there is news or `wait` seconds pass.",
       query=schemas.PeekQuery, response=schemas.Wake)
def peek(query):
    wait = query.pop("wait", None)
    if wait is not None:
        member = g.member  # the peek may run on another thread (a checker with its own connection)
        return waiting.hold(lambda: wake.peek(member, **query), wait)
    return wake.peek(g.member, **query)


@route(bp, "/wake", "POST", summary="Hand over the next part of the caller's news (exactly what its prompt shows).",
       action="wake.advance", body=schemas.Advance, response=schemas.Wake)
def advance(body):
    g.resource = f"wake:{g.member.address}"
    return wake.wake(g.member, **body)


@route(bp, "/wake/ack", "POST", summary="Acknowledge a peek: exactly its items are handed over (422: stale cursor).",
       action="wake.ack", body=schemas.Ack, response=schemas.Acked)
def ack(body):
    g.resource = f"wake:{g.member.address}"
    return wake.ack(g.member, body["cursor"])
