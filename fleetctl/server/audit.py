"""The audit log, read by owners."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.server.api import route
from fleetctl.server.fields import PAGE, F
from fleetctl.services import audit, members

bp = Blueprint("audit", __name__, url_prefix="/v1")


@route(bp, "/audit", summary="Audit records of the caller's fleet, newest first (owner only).", query={
    "member": F("string", max_length=200), "action": F("string", max_length=100),
    "since": F("string", max_length=64), **PAGE})
def list_audit(query):
    members.require_owner(g.member, "audit")
    return audit.query(g.member, **query)
