"""A refusal (403) names who was refused: "acme/alice (reviewer) is not allowed: only an owner ..."."""

from __future__ import annotations

from flask import Flask, Response, g

from fleetctl.errors import Forbidden
from fleetctl.server.problems import problem_response


def _refusal(err: Forbidden) -> Response:
    member = getattr(g, "member", None)
    if member is not None and not err.detail.startswith(member.address):
        err.detail = f"{member.address} ({member.role}) is not allowed: {err.detail}"
    return problem_response(err)


def install(app: Flask) -> None:
    """Register the 403 handler (it wins over the general FleetError one: Flask picks the closest class)."""
    app.register_error_handler(Forbidden, _refusal)
