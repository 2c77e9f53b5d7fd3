"""Every error leaves the server as RFC 9457 application/problem+json."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from fleetctl.errors import FleetError, ServerError
from fleetctl.server.guard import rate_headers

log = logging.getLogger("fleetctl.server")


def problem_response(err: FleetError) -> Response:
    response = Response(json.dumps(err.problem()), status=err.http_status,
                        mimetype="application/problem+json")
    for key, value in rate_headers(err).items():
        response.headers[key] = value
    return response


def _http(exc: HTTPException) -> Response:
    err = FleetError(exc.description or exc.name)
    err.http_status = exc.code or 500
    err.title = exc.name
    if exc.code == 413:
        err.detail = "request body is larger than 1 MiB"
    elif exc.code == 404:
        err.detail = "no such route"
    response = problem_response(err)
    if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return problem_response(ServerError("internal error; the server log has the details"))


def install(app: Flask) -> None:
    app.register_error_handler(FleetError, problem_response)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)
