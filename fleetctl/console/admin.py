"""Console pages for signing in and out, and for owners: members and their tokens, the audit log."""

from __future__ import annotations

from flask import g, redirect, request, url_for

from fleetctl.console import sessions, text
from fleetctl.console.web import bp, done, page, perform, record, set_cookie, signin_csrf
from fleetctl.errors import FleetError, Forbidden, Invalid
from fleetctl.models.core import ROLES
from fleetctl.schemas import agents as schemas
from fleetctl.server.guard import client_ip
from fleetctl.server.validation import check
from fleetctl.services import audit, members

MAX_TOKEN_FIELD = 1000


@bp.route("/")
def home():
    return redirect(url_for(".review"))


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    """Paste a token; spaces and line breaks are dropped before it is checked."""
    session, _ = sessions.current(request.cookies.get(sessions.COOKIE))
    if request.method == "GET":
        if session is not None:
            return redirect(url_for(".review"))
        return page("signin.html", form_csrf=signin_csrf())
    if not sessions.csrf_ok(request.cookies.get(sessions.PRE_COOKIE), request.form.get("csrf")):
        record("console.signin", None, 403)
        return page("signin.html", 403, form_csrf=signin_csrf(),
                    message="the sign-in form expired or its CSRF token is wrong: try again")
    pasted = request.form.get("token", "")
    token = sessions.clean_token(pasted[:MAX_TOKEN_FIELD])
    try:
        if not token:
            raise Invalid("paste a token (flt_...)")
        cookie, session = sessions.start(token, client_ip())
    except FleetError as err:
        refused_member = getattr(err, "member", None)
        audit.writer.record(fleet=refused_member.fleet.name if refused_member else None,
                            member=refused_member.address if refused_member else None,
                            action="console.signin", resource=None, status=err.http_status, ip=client_ip())
        return page("signin.html", err.http_status, form_csrf=signin_csrf(),
                    message=f"sign-in refused: {err.detail}")
    g.console = session
    record("console.signin", f"agent:{session.member.address}", 200)
    response = redirect(url_for(".review"), 303)
    set_cookie(response, sessions.COOKIE, cookie, int(sessions.LIFETIME.total_seconds()))
    return response


@bp.route("/signout", methods=["POST"])
def signout():
    sessions.end(request.cookies.get(sessions.COOKIE))
    record("console.signout", f"agent:{g.console.member.address}", 200)
    g.drop_cookie = True
    return redirect(url_for(".signin"), 303)


def _owner() -> None:
    members.require_owner(g.console.member, "this (members and audit pages are for owners)")


@bp.route("/members")
def member_list():
    after = text.number(request.args.get("after"), "after")
    listing = members.list_members(g.console.member, limit=100, after=after)
    return page("members.html", items=listing["items"], next=listing["next"], roles=ROLES)


def _fields(form, with_flags: bool) -> dict:
    """Member fields from a form: role, domains, allow_fleets, rate_limit (and cross_fleet)."""
    fields = {"role": form.get("role") or "agent", "domains": text.words(form.get("domains")),
              "allow_fleets": text.words(form.get("allow_fleets"))}
    if with_flags or form.get("cross_fleet"):
        fields["cross_fleet"] = form.get("cross_fleet") == "on"
    limit = text.number(form.get("rate_limit"), "rate limit")
    if limit is not None:
        fields["rate_limit"] = limit
    return fields


def _minted(action: str, answer: dict):
    return page("minted.html", 201 if action == "agent.register" else 200, action=action, **answer)


@bp.route("/members", methods=["POST"])
def member_register():
    _owner()
    name = request.form.get("name", "").strip()
    answer = perform("agent.register", None,
                     lambda: members.register(g.console.member, **check(schemas.Register, {
                         "name": name, **_fields(request.form, False)})),
                     status=201, found=lambda minted: f"agent:{minted['member']['address']}")
    return _minted("agent.register", answer)


def _resource(name: str) -> str:
    return f"agent:{g.console.member.fleet.name}/{name}"


@bp.route("/members/<name>/update", methods=["POST"])
def member_update(name):
    perform("agent.update", _resource(name),
            lambda: members.update(g.console.member, name, check(schemas.MemberChanges, _fields(request.form, True))))
    return done(".member_list", "agent.update")


@bp.route("/members/<name>/revoke", methods=["POST"])
def member_revoke(name):
    perform("agent.revoke", _resource(name), lambda: members.revoke(g.console.member, name))
    return done(".member_list", "agent.revoke")


@bp.route("/members/<name>/token", methods=["POST"])
def member_rotate(name):
    answer = perform("token.rotate", _resource(name), lambda: members.rotate(g.console.member, name))
    return _minted("token.rotate", answer)


@bp.route("/audit")
def audit_log():
    if g.console.member.role != "owner":
        raise Forbidden(f"only an owner of fleet {g.console.member.fleet.name!r} can read the audit log")
    filters = {k: text.optional(request.args.get(k)) for k in ("member", "action", "since")}
    after = text.number(request.args.get("after"), "after")
    listing = audit.query(g.console.member, **filters, limit=100, after=after)
    return page("audit.html", items=listing["items"], next=listing["next"], filters=filters)
