"""Members of a fleet (agents and humans) and their tokens."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.server.api import route
from fleetctl.server.fields import PAGE, F
from fleetctl.services import members

bp = Blueprint("agents", __name__, url_prefix="/v1")

MEMBER_FIELDS = {
    "role": F("string", enum=("agent", "reviewer", "owner")),
    "domains": F("array", max_items=32),
    "cross_fleet": F("boolean"),
    "allow_fleets": F("array", max_items=100),
    "rate_limit": F("integer", minimum=1, maximum=1_000_000),
}
REGISTER = {"name": F("string", required=True, max_length=63), **MEMBER_FIELDS}


def _resource(name: str) -> str:
    """The audit resource of a member named `name` or `fleet/name` by the caller."""
    return f"agent:{name}" if "/" in name else f"agent:{g.member.fleet.name}/{name}"


@route(bp, "/agents", "POST", summary="Register a member (owner only); returns its token once.",
       action="agent.register", body=REGISTER, status=201)
def register(body):
    answer = members.register(g.member, **body)
    g.resource = f"agent:{answer['member']['address']}"
    return answer


@route(bp, "/agents", summary="List the members of the caller's fleet.", query=PAGE)
def list_agents(query):
    return members.list_members(g.member, **query)


@route(bp, "/agents/<path:name>", summary="Show one member of the caller's fleet.")
def show(name):
    return members.show(g.member, name)


@route(bp, "/agents/<path:name>", "PATCH", summary="Change only the fields given (owner only).",
       action="agent.update", body=MEMBER_FIELDS)
def update(name, body):
    g.resource = _resource(name)
    return members.update(g.member, name, body)


@route(bp, "/agents/<path:name>/revoke", "POST", summary="Revoke a member and its tokens (owner only).",
       action="agent.revoke")
def revoke(name):
    g.resource = _resource(name)
    return members.revoke(g.member, name)


@route(bp, "/tokens/rotate", "POST", summary="Rotate the caller's own token; the old one dies at once.",
       action="token.rotate")
def rotate_own():
    answer = members.rotate(g.member)
    g.resource = f"agent:{answer['member']['address']}"
    return answer


@route(bp, "/agents/<path:name>/token", "POST", summary="Rotate a member's token (owner, or the member itself).",
       action="token.rotate")
def rotate(name):
    g.resource = _resource(name)
    return members.rotate(g.member, name)
