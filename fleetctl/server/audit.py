"""The audit log, read by owners."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.schemas import audit as schemas
from fleetctl.server.api import route
from fleetctl.services import audit, members

bp = Blueprint("audit", __name__, url_prefix="/v1")


@route(bp, "/audit", summary="Audit records of the caller's fleet, newest first (owner only).",
       query=schemas.AuditQuery,
       response=schemas.Records, errors=(403,))
def list_audit(query):
    members.require_owner(g.member, "audit")
    return audit.query(g.member, **query)
