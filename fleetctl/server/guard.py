"""Per-request guards: bearer-token auth, per-fleet and per-member rate limits, and the audit hook."""

from __future__ import annotations

from flask import Flask, current_app, g, request

from fleetctl.errors import FleetError, RateLimited, Unauthorized
from fleetctl.services import audit, tokens

PUBLIC_PATHS = ("/healthz", "/v1/openapi.json")


def client_ip() -> str | None:
    return request.remote_addr


def authenticate() -> None:
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
    member, token_id = tokens.authenticate(token.strip(), client_ip())
    g.member = member
    g.token_id = token_id
    limiter = current_app.config["LIMITER"]
    for key, limit, label in ((f"fleet:{member.fleet_id}", member.fleet.rate_limit, "fleet"),
                              (f"member:{member.id}", member.rate_limit, "member")):
        verdict = limiter.hit(key, limit)
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
    member = g.get("member")
    audit.writer.record(
        fleet=member.fleet.name if member else None,
        member=member.address if member else None,
        action=_action_for_refusal(),
        resource=g.get("resource"),
        status=status,
        ip=client_ip(),
    )
    return response


def install(app: Flask) -> None:
    app.before_request(authenticate)
    app.after_request(record)


def rate_headers(err: FleetError) -> dict:
    if isinstance(err, RateLimited):
        return {"Retry-After": str(err.retry_after), "RateLimit-Limit": str(err.limit),
                "RateLimit-Remaining": "0", "RateLimit-Reset": str(err.reset)}
    return {}
