"""MCP over streamable HTTP at `/mcp`: the tools of `fleetctl mcp`, acting as the caller's bearer token.

Stateless and JSON-only (no session id, no SSE stream): every POST carries its own token and is
answered in full, so any server behind a load balancer can take any request. A tool runs by calling
the API routes in-process (through the whole WSGI stack, with the caller's Authorization header and
address), so authentication, policy, rate limits, size limits and the audit log are the API's own.
"""

from __future__ import annotations

import contextvars
import json

from flask import Blueprint, Response, current_app, request
from werkzeug.test import EnvironBuilder, run_wsgi_app

from fleetctl.client import Client
from fleetctl.errors import BadRequest, PayloadTooLarge, Unauthorized
from fleetctl.mcp import protocol, tools
from fleetctl.schemas.limits import MAX_BODY_BYTES
from fleetctl.server.api import ROUTES, Route
from fleetctl.services import audit
from fleetctl.services import tokens as token_service

bp = Blueprint("mcp_http", __name__)

# A tool's arguments may fill a whole API body (1 MiB); the JSON-RPC envelope gets room on top. Bigger
# arguments reach the API route and come back as its 413, as a tool error.
MAX_MCP_BODY = MAX_BODY_BYTES + 64 * 1024
# In /v1/openapi.json beside the API (its body is JSON-RPC, described by the MCP specification). GET and
# DELETE are 405: there is no server-initiated stream and no session to end.
ROUTES.append(Route("POST", "/mcp", None, "MCP streamable HTTP, stateless with JSON answers: the fleet tools, "
                    "acting as the bearer token's member.", None, None, True, 200))


class InProcessClient(Client):
    """The HTTP client, sending its requests through this app's WSGI stack instead of a socket."""

    def __init__(self, app, token: str, remote_addr: str | None) -> None:
        super().__init__("http://in-process", token)
        self._app = app
        self._remote_addr = remote_addr or "127.0.0.1"

    def _send(self, method: str, path: str, payload: bytes | None, headers: dict) -> tuple[int, bytes]:
        environ = EnvironBuilder(path=path, method=method, data=payload, headers=headers,
                                 environ_base={"REMOTE_ADDR": self._remote_addr}).get_environ()
        # A fresh context: the inner request gets its own app context and `g`, not this request's.
        body, status, _ = contextvars.Context().run(run_wsgi_app, self._app, environ, True)
        try:
            return int(status.split(" ", 1)[0]), b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()


def _caller_token() -> str:
    """The bearer token of this request, checked; a missing, malformed or revoked one is a 401 (audited)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _refused(None)
        raise Unauthorized("missing bearer token (Authorization: Bearer flt_...)")
    try:
        token_service.authenticate(token.strip(), request.remote_addr)
    except Unauthorized as refused:
        _refused(getattr(refused, "member", None))
        raise
    return token.strip()


def _refused(member) -> None:
    audit.writer.record(fleet=member.fleet.name if member else None, member=member.address if member else None,
                        action="POST /mcp", resource=None, status=401, ip=request.remote_addr)


def _json(data) -> Response:
    return Response(protocol.encode(data), mimetype="application/json")


@bp.route("/mcp", methods=["POST"])
def mcp_post():
    """One JSON-RPC message (or batch) in, its answer out; notifications get 202 and no body. HTTP-level
    refusals (401, 400 for a body that is not JSON, 405, 413) are problem+json like the API's."""
    token = _caller_token()
    if (request.content_length or 0) > MAX_MCP_BODY:
        raise PayloadTooLarge(f"MCP request body is larger than {MAX_MCP_BODY} bytes")
    request.max_content_length = MAX_MCP_BODY
    try:
        payload = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"request body is not valid JSON: {str(exc)[:120]}") from exc
    client = InProcessClient(current_app._get_current_object(), token, request.remote_addr)
    reply = protocol.answer_all(payload, lambda name, args: tools.call(client, name, args))
    if reply is None:
        return Response(status=202)
    return _json(reply)
