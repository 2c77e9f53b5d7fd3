"""Per-request guards: bearer-token auth, per-fleet and per-member rate limits, and the audit hook."""

from __future__ import annotations

import json

from flask import Flask, current_app, g, request

from fleetctl import db
from fleetctl.errors import FleetError, RateLimited, ServiceUnavailable, Unauthorized
from fleetctl.server import idempotency
from fleetctl.services import audit, tokens

PUBLIC_PATHS = ("/healthz", "/readyz", "/v1/openapi.json")
OWNER_ALWAYS = ("agents.revoke", "agents.update")  # endpoints an owner reaches past every rate limit


def client_ip() -> str | None:
    return request.remote_addr


def authenticate():
    """before_request: resolve the caller from its token and count the request against its limits."""
    g.member = None
    g.resource = None
    g.action = None
    if request.path in PUBLIC_PATHS or not request.path.startswith("/v1/"):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer flt_...)")
    try:
        member, token_id = tokens.authenticate(token.strip(), client_ip())
    except Unauthorized as refused:
        g.refused_member = getattr(refused, "member", None)
        g.refused_fleet = getattr(refused, "fleet", None)
        g.resource = getattr(refused, "resource", None)
        if getattr(refused, "token_id", None):  # genuine but revoked: its own kept answers stay readable
            replayed = idempotency.replay_for_revoked(refused.member, refused.token_id)
            if replayed is not None:
                return replayed
        raise
    g.member = member
    g.token_id = token_id
    if member.role == "owner" and request.endpoint in OWNER_ALWAYS:
        return None  # an owner can always revoke or update a member, whatever the fleet's load
    limit_rate(current_app.config["LIMITER"], member)
    return None


def limit_rate(limiter, member) -> None:
    """Count the request against the member's limit and its fleet's; 429 past either. A request the
    member's own limit refuses is not counted against the fleet, so one member flooding cannot spend
    the budget of the others."""
    own = (f"member:{member.id}", member.rate_limit, "member")
    fleet = (f"fleet:{member.fleet_id}", member.fleet.rate_limit, "fleet")
    for (key, limit, label), count in ((own, False), (fleet, True), (own, True)):
        verdict = limiter.hit(key, limit, count=count)
        if label == "member":
            g.rate = verdict
        if not verdict.allowed:
            raise RateLimited(f"{label} rate limit of {limit} requests/min exceeded",
                              retry_after=verdict.retry_after, limit=limit, reset=verdict.reset)


def _action_for_refusal() -> str:
    if g.get("action"):
        return g.action
    rule = request.url_rule.rule if request.url_rule else request.path
    return f"{request.method} {rule}"


def record(response):
    """after_request: audit every mutation and every refusal; add rate-limit headers."""
    status = response.status_code
    rate = g.get("rate")
    if rate is not None:
        response.headers["RateLimit-Limit"] = str(rate.limit)
        response.headers["RateLimit-Remaining"] = str(rate.remaining)
        response.headers["RateLimit-Reset"] = str(rate.reset)
    if not request.path.startswith("/v1/"):
        return response
    mutation = request.method not in ("GET", "HEAD", "OPTIONS")
    if not mutation and status not in (401, 403, 429):
        return response
    member = g.get("member") or g.get("refused_member")
    audit.writer.record(
        fleet=member.fleet.name if member else g.get("refused_fleet"),
        member=member.address if member else None,
        action=_action_for_refusal(),
        resource=g.get("resource"),
        status=status,
        ip=client_ip(),
    )
    return response


class FloodShield:
    """WSGI middleware: while an address is over its failed-authentication limit, its requests with
    unknown tokens get their 429 (audited like any refusal) before Flask builds a request, so a
    flood costs the server a fraction of a normal request and legitimate agents keep their share."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/v1/") and path not in PUBLIC_PATHS:
            scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            ip = environ.get("REMOTE_ADDR")
            refusal = tokens.flood_refusal(token.strip(), ip) if scheme.lower() == "bearer" else None
            if refusal is not None:
                audit.writer.record(fleet=None, member=None, action=f"{environ.get('REQUEST_METHOD')} {path}",
                                    resource=None, status=429, ip=ip)
                body = json.dumps(refusal.problem()).encode()
                start_response("429 Too Many Requests", [
                    ("Content-Type", "application/problem+json"), ("Content-Length", str(len(body))),
                    *rate_headers(refusal).items()])
                return [body]
        return self.wsgi_app(environ, start_response)


def install(app: Flask) -> None:
    app.before_request(db.check_connection)
    app.before_request(authenticate)
    app.after_request(record)
    app.wsgi_app = FloodShield(app.wsgi_app)


def rate_headers(err: FleetError) -> dict:
    if isinstance(err, RateLimited):
        return {"Retry-After": str(err.retry_after), "RateLimit-Limit": str(err.limit),
                "RateLimit-Remaining": "0", "RateLimit-Reset": str(err.reset)}
    if isinstance(err, ServiceUnavailable):
        return {"Retry-After": str(err.retry_after)}
    return {}
