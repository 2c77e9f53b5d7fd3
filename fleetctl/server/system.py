"""Health, the OpenAPI description and whoami."""

from __future__ import annotations

import functools

from flask import Blueprint, g

from fleetctl import __version__, db
from fleetctl.schemas import system as schemas
from fleetctl.server import openapi
from fleetctl.server.api import route
from fleetctl.services import members

bp = Blueprint("system", __name__)


@route(bp, "/healthz", summary="Liveness check; needs no token.", auth=False,
       response=schemas.Health)
def healthz():
    return {"ok": True, "version": __version__}


@route(bp, "/readyz", summary="Readiness: 200 when the database answers, 503 while it does not; needs no token.",
       auth=False, response=schemas.Ready, errors=(503,))
def readyz():
    db.ping()
    return {"ok": True, "version": __version__, "database": db.engine()}


@route(bp, "/v1/openapi.json", summary="This API description.", auth=False,
       response=schemas.OpenAPIDocument)
def openapi_json():
    return _document(__version__)


@functools.cache
def _document(version: str) -> dict:
    return openapi.document(version)


@route(bp, "/v1/whoami", summary="The calling member and its fleet.", response=schemas.Whoami)
def whoami():
    return members.whoami(g.member)
