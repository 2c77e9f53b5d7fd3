"""Tokens: `flt_<fleet id>_<token id>_<secret>`, bcrypt-hashed, verified once and cached."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass

import bcrypt

from fleetctl import db, settings
from fleetctl.errors import RateLimited, Unauthorized
from fleetctl.models.base import utcnow
from fleetctl.models.core import Fleet, Member, Token
from fleetctl.services.ratelimit import SlidingWindow

BASE62 = string.digits + string.ascii_letters
SECRET_LEN = 32
CHECK_LEN = 4
TOKEN_RE = re.compile(rf"^flt_([1-9][0-9]{{0,17}})_([1-9][0-9]{{0,17}})_([0-9A-Za-z]{{{SECRET_LEN + CHECK_LEN}}})$")
MAX_CACHE_TTL: float = settings.BY_NAME["auth_cache_ttl"].high  # the revocation bound
AUTH_FAILURES_PER_MINUTE: int = settings.default("auth_failures_per_minute")  # a server's: cache.failure_limit


def bcrypt_rounds() -> int:
    """bcrypt cost: the `bcrypt_rounds` setting (FLEET_BCRYPT_ROUNDS lowers it for tests; never below 4)."""
    return settings.get("bcrypt_rounds")


def _checksum(fleet_id: int, token_id: int, body: str) -> str:
    digest = int.from_bytes(hashlib.sha256(f"{fleet_id}_{token_id}_{body}".encode()).digest()[:8], "big")
    out = []
    for _ in range(CHECK_LEN):
        digest, rem = divmod(digest, 62)
        out.append(BASE62[rem])
    return "".join(out)


def parse(token: str) -> tuple[int, int, str]:
    """Split a token into (fleet id, token id, secret); a malformed or mistyped one is refused here."""
    match = TOKEN_RE.match(token or "")
    if not match:
        raise Unauthorized("malformed token")
    fleet_id, token_id, secret = int(match[1]), int(match[2]), match[3]
    if _checksum(fleet_id, token_id, secret[:SECRET_LEN]) != secret[SECRET_LEN:]:
        raise Unauthorized("malformed token (checksum mismatch: mistyped?)")
    return fleet_id, token_id, secret


def new_secret() -> tuple[str, str]:
    """A random secret body and its bcrypt hash (slow: call it outside write transactions)."""
    body = "".join(secrets.choice(BASE62) for _ in range(SECRET_LEN))
    return body, bcrypt.hashpw(body.encode(), bcrypt.gensalt(bcrypt_rounds())).decode()


def mint(member: Member, secret: tuple[str, str] | None = None) -> str:
    """Create a token row for `member` and return the plaintext (shown once, never stored).

    bcrypt hashes the random part only, before the write transaction, so minting never holds the
    write lock for bcrypt's 60 ms; the checksum (which needs the row id) is appended after.
    """
    body, hashed = secret or new_secret()
    with db.write():
        row = Token.create(fleet=member.fleet_id, member=member, secret_hash=hashed)
    return f"flt_{member.fleet_id}_{row.id}_{body}{_checksum(member.fleet_id, row.id, body)}"


def revoke_member_tokens(member: Member) -> int:
    """Revoke every live token of a member and drop them from this process's cache."""
    with db.write():
        count = (Token.update(revoked_at=utcnow())
                 .where(Token.member == member, Token.revoked_at.is_null()).execute())
    cache.drop_member(member.id)
    return count


@dataclass
class _Entry:
    member: Member
    token_id: int
    expires: float


class AuthCache:
    """Verified tokens keyed by SHA-256 of the token, trusted for at most `ttl` seconds; an address
    may fail at most `failure_limit` authentications a minute (counted in `failures`).

    An expired entry is kept (until revoke, rotate or the size cap) only to remember that the token
    was once good: such a token is re-verified in full, but not refused by the per-address failure
    limit, so a flood of forged tokens from a shared address cannot lock out the agents behind it.
    """

    def __init__(self, ttl: float = MAX_CACHE_TTL, failure_limit: int = AUTH_FAILURES_PER_MINUTE) -> None:
        self.ttl = min(MAX_CACHE_TTL, ttl)
        self.failure_limit = failure_limit
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires < time.monotonic():
            return None
        return entry

    def known(self, key: str) -> bool:
        """Whether this token verified in this process before (its trust may have expired)."""
        return key in self._entries

    def put(self, key: str, member: Member, token_id: int) -> None:
        with self._lock:
            if len(self._entries) > 50_000:
                self._entries.clear()
            self._entries[key] = _Entry(member, token_id, time.monotonic() + self.ttl)

    def drop_member(self, member_id: int) -> None:
        """Forget every cached token of a member (revoke, rotate, update), now and again when the
        transaction commits: meanwhile a request may have cached a token that is no longer good."""
        self._drop(member_id)
        if db.database.obj is not None and db.database.in_transaction():
            db.database.after_commit(lambda: self._drop(member_id))

    def _drop(self, member_id: int) -> None:
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.member.id == member_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# The process's cache and failure counts: a server's app binds its own (`server.runtime`), built from
# its settings; these defaults serve the local commands (which only drop entries).
cache = AuthCache()
failures = SlidingWindow(60.0)


def cache_key(token: str | None) -> str:
    """The key of a token in the cache (its SHA-256: the plaintext is never kept)."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def still_live(token_id: int) -> bool:
    """Whether a token verified earlier, and its member, are still unrevoked (one indexed read, no bcrypt)."""
    return (Token.select(Token.id).join(Member)
            .where(Token.id == token_id, Token.revoked_at.is_null(), Member.revoked_at.is_null()).exists())


PER_TOKEN_FAILURES = 5  # per address and token row, once the address is over its limit


def _flood_refusal(key: str, ip: str | None) -> RateLimited | None:
    over = failures.hit(f"ip:{ip}", cache.failure_limit, count=False)
    if over.allowed or cache.known(key):
        return None
    return RateLimited("too many failed authentications from this address",
                       retry_after=over.retry_after, limit=cache.failure_limit, reset=over.reset)


def flood_refusal(token: str, ip: str | None) -> RateLimited | None:
    """The 429 that `authenticate` would answer before any work, or None: lets the server refuse a
    flood of bad tokens without building a request for each one. Only malformed tokens are refused
    here: a well-formed one may be genuine and gets a database look-up first (`authenticate`)."""
    key = cache_key(token)
    if cache.get(key) is not None:
        return None
    refusal = _flood_refusal(key, ip)
    if refusal is None:
        return None
    try:
        parse(token)
    except Unauthorized:
        return refusal
    return None


def authenticate(token: str, ip: str | None) -> tuple[Member, int]:
    """Return the (member, token id) behind a bearer token, or raise Unauthorized / RateLimited.

    Order matters for cost: the cache answers first; from an address that keeps failing, a token
    that is malformed or names no token row is refused before any bcrypt work, and one naming a real
    row gets a small budget of its own (per address and row) instead of the address's, so a flood of
    forged tokens cannot lock out the genuine agents behind the same address; only then is the
    secret checked with bcrypt.
    """
    key = cache_key(token)
    entry = cache.get(key)
    if entry is not None:
        return entry.member, entry.token_id
    refusal = _flood_refusal(key, ip)
    budgets = [f"ip:{ip}"]
    try:
        try:
            fleet_id, token_id, secret = parse(token)
        except Unauthorized:
            if refusal is not None:
                raise refusal from None
            raise
        row = (Token.select(Token, Member, Fleet).join(Member).join(Fleet)
               .where(Token.id == token_id, Token.fleet == fleet_id).first())
        if row is None:
            if refusal is not None:
                raise refusal
            raise Unauthorized("token revoked or unknown")
        if refusal is not None:
            budgets.append(f"ip:{ip}:token:{row.id}")
            own = failures.hit(budgets[1], PER_TOKEN_FAILURES, count=False)
            if not own.allowed:
                raise RateLimited("too many failed authentications for this token from this address",
                                  retry_after=own.retry_after, limit=PER_TOKEN_FAILURES, reset=own.reset)
        if not bcrypt.checkpw(secret[:SECRET_LEN].encode(), row.secret_hash.encode()):
            # A wrong secret for a real token: audited under that token's fleet, naming whose token
            # it was, so the fleet's owners see attempts against their members.
            refused = Unauthorized("token revoked or unknown")
            refused.fleet, refused.resource = row.member.fleet.name, f"agent:{row.member.address}"
            raise refused
        if row.revoked_at is not None or row.member.revoked_at is not None:
            # A genuine but revoked token: name its member, so its fleet's owners see it in the audit log.
            refused = Unauthorized("token revoked or unknown")
            refused.member = row.member
            refused.token_id = row.id
            raise refused
    except Unauthorized:
        for budget, limit in zip(budgets, (cache.failure_limit, PER_TOKEN_FAILURES), strict=False):
            failures.hit(budget, limit)
        raise
    cache.put(key, row.member, row.id)
    return row.member, row.id
