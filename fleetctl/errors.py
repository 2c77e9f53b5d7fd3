"""One error tree for every layer: each error knows its HTTP status, problem title and CLI exit code."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes of the CLI (DESIGN §4)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    AUTH = 3
    NOT_FOUND = 4
    CONFLICT = 5
    RATE_LIMITED = 6
    UNREACHABLE = 7
    INTERRUPTED = 130


class FleetError(Exception):
    """Base of every error fleetctl raises on purpose."""

    http_status = 500
    title = "Internal Server Error"
    exit_code = ExitCode.ERROR

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        slug = self.title.lower().replace(" ", "-")
        body = {"type": f"https://fleetctl.dev/problems/{slug}", "title": self.title,
                "status": self.http_status, "detail": self.detail}
        body.update(self.extra)
        return body


class BadRequest(FleetError):
    http_status = 400
    title = "Bad Request"
    exit_code = ExitCode.USAGE


class Unauthorized(FleetError):
    http_status = 401
    title = "Unauthorized"
    exit_code = ExitCode.AUTH


class Forbidden(FleetError):
    http_status = 403
    title = "Forbidden"
    exit_code = ExitCode.AUTH


class NotFound(FleetError):
    http_status = 404
    title = "Not Found"
    exit_code = ExitCode.NOT_FOUND


class MethodNotAllowed(FleetError):
    http_status = 405
    title = "Method Not Allowed"
    exit_code = ExitCode.USAGE


class Conflict(FleetError):
    http_status = 409
    title = "Conflict"
    exit_code = ExitCode.CONFLICT


class PayloadTooLarge(FleetError):
    http_status = 413
    title = "Payload Too Large"
    exit_code = ExitCode.USAGE


class Invalid(FleetError):
    """A field of the wrong type or out of range (HTTP 422, CLI usage error)."""

    http_status = 422
    title = "Unprocessable Content"
    exit_code = ExitCode.USAGE


class RateLimited(FleetError):
    http_status = 429
    title = "Too Many Requests"
    exit_code = ExitCode.RATE_LIMITED

    def __init__(self, detail: str = "", retry_after: int = 1, limit: int = 0, reset: int = 1) -> None:
        super().__init__(detail or "rate limit exceeded")
        self.retry_after = retry_after
        self.limit = limit
        self.reset = reset


class Unreachable(FleetError):
    title = "Server Unreachable"
    exit_code = ExitCode.UNREACHABLE


class ServiceUnavailable(FleetError):
    """The server is up but cannot serve now (its database is unreachable or locked): retry later."""

    http_status = 503
    title = "Service Unavailable"
    exit_code = ExitCode.UNREACHABLE

    def __init__(self, detail: str = "", retry_after: int = 2, **extra: Any) -> None:
        super().__init__(detail or "the server cannot serve requests right now; retry shortly", **extra)
        self.retry_after = retry_after


class ServerError(FleetError):
    http_status = 500
    title = "Internal Server Error"
    exit_code = ExitCode.ERROR


_BY_STATUS = {cls.http_status: cls for cls in (
    BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict, PayloadTooLarge,
    Invalid, RateLimited, ServiceUnavailable)}


def from_status(status: int, detail: str, extra: dict[str, Any] | None = None) -> FleetError:
    """Rebuild the error a server answered with (used by the client)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        err: FleetError = ServerError(detail or f"server answered HTTP {status}")
        err.http_status = status
        return err
    if cls is RateLimited:
        return RateLimited(detail)
    if cls is ServiceUnavailable:
        return ServiceUnavailable(detail)
    return cls(detail, **(extra or {}))
