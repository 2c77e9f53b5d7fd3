"""Idempotent writes: the answer a member's write got, kept per member and `Idempotency-Key` for 24 h.

`claim` runs inside the write's own transaction: the key's row is inserted before the write and filled
with the answer after it, and both commit (or roll back) together, so a crash never keeps an answer
without its write nor a write without its answer. A concurrent repeat of the key blocks on that row's
unique index (PostgreSQL) or on the write lock (SQLite) until the first commits, and then replays it.

An answer holding a token (register, rotate) is sealed with AES-GCM under a key derived (HKDF-SHA256,
a random salt per answer) from the bearer token that sent the request: the database never holds the
token in plaintext, and only that same token can open it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from peewee import IntegrityError

from fleetctl import db
from fleetctl.errors import Invalid
from fleetctl.models.base import utcnow
from fleetctl.models.idempotency import IdempotentAnswer
from fleetctl.services import prepared

HEADER = "Idempotency-Key"
MAX_KEY = 255
TTL = dt.timedelta(hours=24)
TOKEN_IN_TEXT = re.compile(r"flt_[1-9][0-9]*_[1-9][0-9]*_[0-9A-Za-z]{36}")
_INFO = b"fleetctl idempotent answer v1"
_prune_lock = threading.Lock()
_last_prune = 0.0


def check_key(value: str) -> str:
    """The key itself; empty, longer than 255 characters or with control characters: 422."""
    if not value:
        raise Invalid(f"{HEADER} is empty: send 1 to {MAX_KEY} printable characters")
    if len(value) > MAX_KEY:
        raise Invalid(f"{HEADER} is {len(value)} characters long: at most {MAX_KEY}")
    if not value.isprintable():
        raise Invalid(f"{HEADER} contains control characters: send printable characters only")
    return value


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """What must be equal for a repeat to be the same request."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@dataclass
class Answer:
    status: int
    body: bytes


class KeyReused(Invalid):
    """The key was used before with another request (or other credentials)."""


def _cipher(credential: str, salt: bytes):
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(credential.encode())
    return AESGCM(key)


def seal(credential: str, context: bytes, plaintext: bytes) -> str:
    """Encrypt an answer under a key derived from the request's bearer token."""
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = _cipher(credential, salt).encrypt(nonce, plaintext, context)
    return base64.b64encode(salt + nonce + sealed).decode()


def unseal(credential: str, context: bytes, text: str) -> bytes:
    """Decrypt a sealed answer; another credential cannot (422)."""
    raw = base64.b64decode(text)
    try:
        return _cipher(credential, raw[:16]).decrypt(raw[16:28], raw[28:], context)
    except InvalidTag:
        raise KeyReused(f"this {HEADER} was used with another token; use a new key") from None


def _context(member_id: int, key: str) -> bytes:
    return f"{member_id}:{key}".encode()


def find(member_id: int, key: str) -> IdempotentAnswer | None:
    """The kept answer of (member, key), if younger than 24 hours."""
    return (IdempotentAnswer.select()
            .where(IdempotentAnswer.member_id == member_id, IdempotentAnswer.key == key,
                   IdempotentAnswer.created_at > utcnow() - TTL).first())


def replay(row: IdempotentAnswer, fp: str, credential: str) -> Answer:
    """The kept answer for a repeat, or 422 when the repeat is another request under the same key."""
    if row.fingerprint != fp:
        raise KeyReused(f"this {HEADER} was used for a different request; use a new key for a new request")
    if row.sealed:
        return Answer(row.status, unseal(credential, _context(row.member_id, row.key), row.body))
    return Answer(row.status, row.body.encode())


def _prune() -> None:
    """Drop answers older than 24 hours (at most once a minute per process)."""
    global _last_prune
    with _prune_lock:
        if time.monotonic() - _last_prune < 60:
            return
        _last_prune = time.monotonic()
    with db.write():
        IdempotentAnswer.delete().where(IdempotentAnswer.created_at <= utcnow() - TTL).execute()


# Prepared: every write with a key runs both (see services/prepared.py).
CLAIM = ("INSERT INTO idempotent_answer (member_id, key, fingerprint, token_id, status, body, sealed, created_at) "
         "VALUES ({p}, {p}, {p}, {p}, 0, '', {false}, {p}) ON CONFLICT (member_id, key) DO NOTHING RETURNING id")
FILL = "UPDATE idempotent_answer SET status = {p}, body = {p}, sealed = {p} WHERE id = {p}"


def claim(member_id: int, key: str, fp: str, token_id: int) -> int | IdempotentAnswer:
    """Inside the write's transaction: take the key (returns the new row's id: go on, then `fill` it), or
    return the answer a previous request with this key already got. One statement in the usual case:
    a concurrent holder of the key makes it wait (PostgreSQL) until that one commits or rolls back."""
    _prune()
    params = (member_id, key, fp, token_id, utcnow())
    taken = prepared.run(CLAIM, params).fetchone()
    if taken is not None:
        return taken[0]
    kept = find(member_id, key)
    if kept is not None:
        return kept
    # Only an expired answer holds the key (not pruned yet): drop it and take the key.
    IdempotentAnswer.delete().where(IdempotentAnswer.member_id == member_id, IdempotentAnswer.key == key).execute()
    return prepared.run(CLAIM, params).fetchone()[0]


def _stored(member_id: int, key: str, credential: str, answer: Answer) -> tuple[str, bool]:
    """The answer's text as kept: sealed when it holds a token."""
    if TOKEN_IN_TEXT.search(answer.body.decode()):
        return seal(credential, _context(member_id, key), answer.body), True
    return answer.body.decode(), False


def fill(row_id: int, member_id: int, key: str, credential: str, answer: Answer) -> None:
    """Store the answer in the row `claim` took (same transaction as the write)."""
    text, sealed = _stored(member_id, key, credential, answer)
    prepared.run(FILL, (answer.status, text, sealed, row_id))


def keep(member_id: int, key: str, fp: str, token_id: int, credential: str, answer: Answer) -> None:
    """Store an answer in a transaction of its own (a refusal, whose write rolled back; a wake)."""
    text, sealed = _stored(member_id, key, credential, answer)
    try:
        with db.write(), db.database.atomic():
            IdempotentAnswer.insert(member_id=member_id, key=key, fingerprint=fp, token_id=token_id,
                                    status=answer.status, body=text, sealed=sealed).execute()
    except IntegrityError:
        pass  # a concurrent repeat kept its answer first
