"""Every error leaves the server as RFC 9457 application/problem+json."""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from fleetctl import db
from fleetctl.errors import FleetError, ServerError, ServiceUnavailable
from fleetctl.server.guard import rate_headers

log = logging.getLogger("fleetctl.server")
_last_warning = 0.0
RETRY_AFTER = 2  # seconds a client should wait after a 503 (the server recovers within 5 s)


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


def outage(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for a database outage (this thread's connection is dropped, so the next request
    reconnects), or None when `exc` is not one."""
    if not db.is_outage(exc):
        return None
    global _last_warning
    db.outage_seen()
    if time.monotonic() - _last_warning > 5.0:  # one line every 5 s, not one per refused request
        _last_warning = time.monotonic()
        log.warning("database unavailable (answering 503): %s", db.first_line(exc))
    return ServiceUnavailable("the database is unavailable; retry shortly", retry_after=RETRY_AFTER)


def _unexpected(exc: Exception) -> Response:
    unavailable = outage(exc)
    if unavailable is not None:
        return problem_response(unavailable)
    log.exception("unhandled error")
    return problem_response(ServerError("internal error; the server log has the details"))


def install(app: Flask) -> None:
    app.register_error_handler(FleetError, problem_response)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)
