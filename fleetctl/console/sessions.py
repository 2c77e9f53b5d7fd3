"""Console sessions: a random id in an HttpOnly cookie, a server-side row keyed by its hash.

Every request re-checks the session's token through the auth cache (the database on a miss), so a
revoke or rotate ends the session at once in this process and within the cache TTL everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fleetctl import db
from fleetctl.models.base import utcnow
from fleetctl.models.console import ConsoleSession
from fleetctl.models.core import Fleet, Member, Token
from fleetctl.services import tokens

COOKIE = "fleet_console"
PRE_COOKIE = "fleet_console_signin"  # the sign-in form's own CSRF value (double submit)
LIFETIME = dt.timedelta(hours=12)
MAX_COOKIE = 100


@dataclass
class Session:
    member: Member
    csrf: str
    key: str
    expires_at: dt.datetime


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def clean_token(pasted: str | None) -> str:
    """A pasted token without the spaces and line breaks a terminal or an e-mail added."""
    return "".join((pasted or "").split())


def start(token: str, ip: str | None) -> tuple[str, Session]:
    """Verify `token` (as the API does) and open a session; returns (cookie value, session)."""
    member, token_id = tokens.authenticate(token, ip)
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    row = dict(key=_hash(cookie), member=member.id, token_id=token_id, token_key=_hash(token),
               csrf=secrets.token_urlsafe(32), created_at=now, expires_at=now + LIFETIME)
    with db.write():
        ConsoleSession.delete().where(ConsoleSession.expires_at <= now).execute()
        ConsoleSession.insert(row).execute()
    return cookie, Session(member, row["csrf"], row["key"], row["expires_at"])


def end(cookie: str | None) -> None:
    """Sign out: the row goes, so the cookie (and any form carrying its CSRF token) is dead."""
    if cookie and len(cookie) <= MAX_COOKIE:
        with db.write():
            ConsoleSession.delete().where(ConsoleSession.key == _hash(cookie)).execute()


def _live_member(row: ConsoleSession) -> Member | None:
    """The session's member if its token is still good: the auth cache first, else the token row."""
    entry = tokens.cache.get(row.token_key)
    if entry is not None and entry.token_id == row.token_id:
        return entry.member
    token = (Token.select(Token, Member, Fleet).join(Member).join(Fleet)
             .where(Token.id == row.token_id, Token.member == row.member_id).first())
    if token is None or token.revoked_at is not None or token.member.revoked_at is not None:
        return None
    tokens.cache.put(row.token_key, token.member, token.id)
    return token.member


def current(cookie: str | None) -> tuple[Session | None, str]:
    """The live session behind a cookie, or (None, why not) for a missing, forged, expired or revoked one."""
    if not cookie:
        return None, ""
    if len(cookie) > MAX_COOKIE:
        return None, "unknown session: sign in again"
    row = ConsoleSession.get_or_none(ConsoleSession.key == _hash(cookie))
    if row is None:
        return None, "your session has ended (signed out, or unknown): sign in again"
    if row.expires_at <= utcnow():
        end(cookie)
        return None, "your session expired after 12 hours: sign in again"
    member = _live_member(row)
    if member is None:
        end(cookie)
        return None, "your token was revoked or rotated: sign in with a current token"
    return Session(member, row.csrf, row.key, row.expires_at), ""


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)
