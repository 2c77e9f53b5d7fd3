"""Members of a fleet (agents and humans) and their tokens."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.schemas import agents as schemas
from fleetctl.schemas.common import ADDRESS, Page
from fleetctl.server.api import route
from fleetctl.services import members

bp = Blueprint("agents", __name__, url_prefix="/v1")

NAME = {"name": {"type": "string", "pattern": ADDRESS}}


def _resource(name: str) -> str:
    """The audit resource of a member named `name` or `fleet/name` by the caller."""
    return f"agent:{name}" if "/" in name else f"agent:{g.member.fleet.name}/{name}"


@route(bp, "/agents", "POST", summary="Register a member (owner only); returns its token once.",
       action="agent.register", body=schemas.Register, response=schemas.Minted,
       status=201, errors=(403, 409))
def register(body):
    answer = members.register(g.member, **body)
    g.resource = f"agent:{answer['member']['address']}"
    return answer


@route(bp, "/agents", summary="List the members of the caller's fleet.", query=Page,
       response=schemas.Members)
def list_agents(query):
    return members.list_members(g.member, **query)


@route(bp, "/agents/<path:name>", summary="Show one member of the caller's fleet.",
       response=schemas.Member, path=NAME)
def show(name):
    return members.show(g.member, name)


@route(bp, "/agents/<path:name>", "PATCH", summary="Change only the fields given (owner only).",
       action="agent.update", body=schemas.MemberChanges, response=schemas.Member,
       errors=(403, 409), path=NAME)
def update(name, body):
    g.resource = _resource(name)
    return members.update(g.member, name, body)


@route(bp, "/agents/<path:name>/revoke", "POST", summary="Revoke a member and its tokens (owner only).",
       action="agent.revoke", response=schemas.Member, errors=(403, 409), path=NAME)
def revoke(name):
    g.resource = _resource(name)
    return members.revoke(g.member, name)


@route(bp, "/tokens/rotate", "POST", summary="Rotate the caller's own token; the old one dies at once.",
       action="token.rotate", response=schemas.Minted)
def rotate_own():
    answer = members.rotate(g.member)
    g.resource = f"agent:{answer['member']['address']}"
    return answer


@route(bp, "/agents/<path:name>/token", "POST", summary="Rotate a member's token (owner, or the member itself).",
       action="token.rotate", response=schemas.Minted, errors=(403,), path=NAME)
def rotate(name):
    g.resource = _resource(name)
    return members.rotate(g.member, name)
