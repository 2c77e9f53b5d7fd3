"""`Idempotency-Key` on every POST, PUT and PATCH: the write and its kept answer in one transaction,
and a repeat answered from the kept answer with `Idempotent-Replayed: true`."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Response, g, request

from fleetctl import db
from fleetctl.errors import FleetError
from fleetctl.services import idempotency
from fleetctl.services.idempotency import HEADER, Answer

WRITES = ("POST", "PUT", "PATCH")
# Wake routes may wait for news (long polls) and move a cursor that never goes back: their answer is
# kept and replayed, but the wait is not held inside a write transaction.
UNLOCKED = ("wake.",)
NOT_KEPT = (401, 408, 429)  # refusals a retry may get past: the retry runs again


def requested_key() -> str | None:
    """The request's Idempotency-Key (checked: 422 if malformed), None without one or on a read."""
    if request.method not in WRITES or HEADER not in request.headers:
        return None
    return idempotency.check_key(request.headers[HEADER])


def _credential() -> str:
    return request.headers.get("Authorization", "").partition(" ")[2].strip()


def _fingerprint() -> str:
    return idempotency.fingerprint(request.method, request.path, request.query_string,
                                   request.get_data(cache=True))


def _response(answer: Answer, replayed: bool) -> Response:
    mimetype = "application/problem+json" if answer.status >= 400 else "application/json"
    response = Response(answer.body, status=answer.status, mimetype=mimetype)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _answer_of(run: Callable[[], Response]) -> Answer:
    """Run the view; a refusal becomes its problem answer (kept like a success, unless transient)."""
    try:
        response = run()
    except FleetError as err:
        if err.http_status >= 500 or err.http_status in NOT_KEPT:
            raise
        err.answer = Answer(err.http_status, json.dumps(err.problem()).encode())
        raise
    return Answer(response.status_code, response.get_data())


def handle(key: str, action: str | None, run: Callable[[], Response]) -> Response:
    """Run a write once per (member, key); repeats get the kept answer."""
    member_id, token_id, credential, fp = g.member.id, g.token_id, _credential(), _fingerprint()
    if action and action.startswith(UNLOCKED):
        row = idempotency.find(member_id, key)
        if row is not None:
            return _response(idempotency.replay(row, fp, credential), replayed=True)
        return _kept_alone(key, run, member_id, token_id, credential, fp)
    try:
        with db.write():
            claimed = idempotency.claim(member_id, key, fp, token_id)
            if not isinstance(claimed, int):
                return _response(idempotency.replay(claimed, fp, credential), replayed=True)
            answer = _answer_of(run)
            idempotency.fill(claimed, member_id, key, credential, answer)
    except FleetError as err:
        # The write rolled back with its claim: keep the refusal alone, so a repeat gets it again.
        if getattr(err, "answer", None) is not None:
            idempotency.keep(member_id, key, fp, token_id, credential, err.answer)
        raise
    return _response(answer, replayed=False)


def _kept_alone(key: str, run: Callable[[], Response], member_id: int, token_id: int, credential: str,
                fp: str) -> Response:
    try:
        answer = _answer_of(run)
    except FleetError as err:
        if getattr(err, "answer", None) is not None:
            idempotency.keep(member_id, key, fp, token_id, credential, err.answer)
        raise
    idempotency.keep(member_id, key, fp, token_id, credential, answer)
    return _response(answer, replayed=False)


def replay_for_revoked(member, token_id: int) -> Response | None:
    """A write sent just before its token was revoked (a rotation whose answer was lost) may still be
    replayed by its key, with that same token: the kept answer, or None."""
    try:
        key = requested_key()
    except FleetError:
        return None
    if key is None:
        return None
    row = idempotency.find(member.id, key)
    if row is None or row.token_id != token_id:
        return None
    return _response(idempotency.replay(row, _fingerprint(), _credential()), replayed=True)
