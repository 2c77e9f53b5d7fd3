"""The console blueprint and what every page shares: the session check, CSRF, the security headers,
rendering, error pages, and `perform`, which runs a service call with the audit record the API writes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from fleetctl.console import sessions, text
from fleetctl.errors import FleetError, Forbidden, NotFound, RateLimited, Unauthorized
from fleetctl.server.api import INT64_MAX
from fleetctl.server.guard import client_ip
from fleetctl.services import audit

log = logging.getLogger("fleetctl.console")
bp = Blueprint("console", __name__, url_prefix="/ui", template_folder="templates", static_folder="static")
bp.add_app_template_filter(text.markdown, "markdown")
bp.add_app_template_filter(text.ago, "ago")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
NO_SESSION = ("console.signin", "console.static")
# The notices a redirect may show (`?ok=`): only these words, so a crafted link cannot put text on a page.
NOTICES = {"task.approve", "task.request-changes", "task.cancel", "task.assign", "task.claim", "task.route",
           "task.accept", "task.reject", "task.start", "task.submit", "research.review", "knowledge.pin",
           "knowledge.unpin", "knowledge.retire", "message.send", "message.read", "agent.update",
           "agent.revoke"}


def record(action: str, resource: str | None, status: int) -> None:
    member = g.console.member if g.get("console") else None
    audit.writer.record(fleet=member.fleet.name if member else None, member=member.address if member else None,
                        action=action, resource=resource, status=status, ip=client_ip())


def perform(action: str, resource: str | None, call: Callable, status: int = 200, found: Callable | None = None):
    """Run a service call as the signed-in member and audit it exactly as the API route does: `resource` is
    what the route names before the call (kept on a refusal too), `found(result)` what it names after."""
    try:
        result = call()
    except FleetError as err:
        record(action, resource, err.http_status)
        raise
    record(action, found(result) if found else resource, status)
    return result


def page(template: str, status: int = 200, **context):
    """Render a console page with the signed-in member, its CSRF token and the notice of a redirect."""
    session = g.get("console")
    ok = request.args.get("ok")
    return render_template(f"console/{template}", me=session.member if session else None,
                           csrf=session.csrf if session else "", notice=ok if ok in NOTICES else None,
                           **context), status


def done(endpoint: str, action: str, **values):
    """After a successful action: back to a page (303, so a reload does not post again)."""
    return redirect(url_for(endpoint, ok=action, **values), 303)


def _count(member) -> None:
    """Console requests count against the same per-member and per-fleet limits as API requests."""
    limiter = current_app.config["LIMITER"]
    for key, limit, label in ((f"member:{member.id}", member.rate_limit, "member"),
                              (f"fleet:{member.fleet_id}", member.fleet.rate_limit, "fleet")):
        verdict = limiter.hit(key, limit)
        if not verdict.allowed:
            raise RateLimited(f"{label} rate limit of {limit} requests/min exceeded",
                              retry_after=verdict.retry_after, limit=limit, reset=verdict.reset)


@bp.before_request
def check_session():
    """Load the session; refuse a POST without a live session or with a wrong CSRF token."""
    g.console = None
    if request.endpoint in NO_SESSION:
        return None
    g.console, why = sessions.current(request.cookies.get(sessions.COOKIE))
    if g.console is None:
        g.drop_cookie = bool(request.cookies.get(sessions.COOKIE))
        if request.method == "POST":
            record(f"POST {request.url_rule.rule if request.url_rule else request.path}", None, 401)
            raise Unauthorized((why or "you are not signed in") + "; nothing was changed")
        return page("signin.html", 401, message=why, form_csrf=signin_csrf())
    if request.method == "POST":
        if not sessions.csrf_ok(g.console.csrf, request.form.get("csrf")):
            record(f"POST {request.url_rule.rule}", None, 403)
            raise Forbidden("this form's CSRF token is missing or wrong (reload the page and try again); "
                            "nothing was changed")
        if not g.console.member.is_human and request.endpoint != "console.signout":
            record(f"POST {request.url_rule.rule}", None, 403)
            raise Forbidden("agents have read-only access to the console; nothing was changed")
    _count(g.console.member)
    return None


@bp.url_value_preprocessor
def ids_in_range(_endpoint, values) -> None:
    """An id past the database's integer range cannot exist (and would overflow the driver)."""
    if any(isinstance(v, int) and v > INT64_MAX for v in (values or {}).values()):
        raise NotFound("no such item (id out of range)")


@bp.route("/<path:rest>")
def unknown_page(rest):
    raise NotFound(f"no console page /ui/{rest[:100]}")


def signin_csrf() -> str:
    """The sign-in form's CSRF value: the one its cookie already holds, or a new one (set after the request)."""
    value = request.cookies.get(sessions.PRE_COOKIE)
    if not value or len(value) > sessions.MAX_COOKIE:
        value = secrets.token_urlsafe(24)
    g.pre_csrf = value
    return value


def set_cookie(response, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict, Secure when the request came over https (directly or via a trusted proxy)."""
    response.set_cookie(name, value, max_age=max_age, path="/ui", httponly=True, samesite="Strict",
                        secure=request.is_secure)


@bp.after_request
def headers(response):
    """Security headers on every console response; pages are never cached."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    if g.get("drop_cookie"):
        response.delete_cookie(sessions.COOKIE, path="/ui", httponly=True, samesite="Strict",
                               secure=request.is_secure)
    if g.get("pre_csrf") and request.cookies.get(sessions.PRE_COOKIE) != g.pre_csrf:
        set_cookie(response, sessions.PRE_COOKIE, g.pre_csrf, 3600)
    return response


@bp.errorhandler(FleetError)
def refused(err: FleetError):
    return page("error.html", err.http_status, title=err.title, detail=err.detail)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    detail = "the form is larger than 1 MiB" if exc.code == 413 else (exc.description or exc.name)
    return page("error.html", exc.code or 500, title=exc.name, detail=detail)


@bp.errorhandler(Exception)
def unexpected(exc: Exception):
    log.exception("unhandled console error")
    return page("error.html", 500, title="Internal Server Error",
                detail="something went wrong; the server log has the details")
