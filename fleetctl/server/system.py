"""Health, the OpenAPI description and whoami."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl import __version__, db
from fleetctl.server.api import openapi, route
from fleetctl.services import members

bp = Blueprint("system", __name__)


@route(bp, "/healthz", summary="Liveness check; needs no token.", auth=False)
def healthz():
    return {"ok": True, "version": __version__}


@route(bp, "/readyz", summary="Readiness: 200 when the database answers, 503 while it does not; needs no token.",
       auth=False)
def readyz():
    db.ping()
    return {"ok": True, "version": __version__, "database": db.engine()}


@route(bp, "/v1/openapi.json", summary="This API description.", auth=False)
def openapi_json():
    return openapi(__version__)


@route(bp, "/v1/whoami", summary="The calling member and its fleet.")
def whoami():
    return members.whoami(g.member)
