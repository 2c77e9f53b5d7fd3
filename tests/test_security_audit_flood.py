"""Refused unauthenticated requests are audited as one record per client address (and fleet, status)
per minute with a count: a flood of forged tokens cannot fill the disk, and owners still see the
attempts made against their fleet's real tokens."""

from __future__ import annotations

import os
import secrets
import threading

import pytest
import servers
from conftest import ENGINES, Actor, http_request


def wrong_secret(token: str) -> str:
    """The same fleet and token id with another secret and a valid checksum (passes the format check)."""
    from fleetctl.services import tokens

    fleet_id, token_id, _ = tokens.parse(token)
    body = "".join(secrets.choice(tokens.BASE62) for _ in range(tokens.SECRET_LEN))
    return f"flt_{fleet_id}_{token_id}_{body}{tokens._checksum(fleet_id, token_id, body)}"


def test_attempts_against_a_real_token_are_one_counted_record_of_its_fleet(make_fleet, monkeypatch):
    from fleetctl.services import audit, tokens

    monkeypatch.setattr(tokens, "failures", tokens.SlidingWindow(60.0))  # this test's flood stays its own
    fleet = make_fleet("flood")
    fleet.owner.client.get("/v1/whoami")
    forged = wrong_secret(fleet.owner.token)
    for _ in range(5):
        assert fleet.owner.http("GET", "/v1/whoami", headers={"Authorization": f"Bearer {forged}"}).status == 401
    junk = [fleet.owner.http("GET", "/v1/tasks", headers={"Authorization": "Bearer flt_junk"}).status
            for _ in range(3)]
    assert junk == [401] * 3
    audit.writer.flush()
    seen = [r for r in fleet.owner.client.get("/v1/audit")["items"] if r["status"] == 401]
    assert len(seen) == 1, seen
    assert seen[0]["member"] is None and seen[0]["resource"] == f"agent:{fleet.owner.address}"
    assert seen[0]["count"] == 5 and seen[0]["ip"] == "127.0.0.1" and seen[0]["action"] == "GET /v1/whoami"
    # a later flush of the same minute raises the count of the same record
    fleet.owner.http("GET", "/v1/whoami", headers={"Authorization": f"Bearer {forged}"})
    audit.writer.flush()
    again = [r for r in fleet.owner.client.get("/v1/audit")["items"] if r["status"] == 401]
    assert sum(r["count"] for r in again) == 6 and seen[0]["id"] in [r["id"] for r in again]
    assert len(again) == 1 or again[0]["at"][:16] != seen[0]["at"][:16]  # a new record only in a new minute
    header, *rows = fleet.owner.cli("audit").stdout.splitlines()
    assert header.split("\t")[-1] == "COUNT"
    assert {r.split("\t")[-1] for r in rows if "\t401\t" in r} == {str(r["count"]) for r in again}


@pytest.mark.slow
@pytest.mark.skipif("sqlite" not in ENGINES, reason="measures a SQLite file")
def test_a_forged_token_flood_grows_the_database_by_less_than_200_kb(tmp_path):
    db = str(tmp_path / "flood.db")
    made = servers.local(db, "fleet", "create", "acme")
    size_before = os.path.getsize(db)  # the local command closed the database: no WAL left
    srv = servers.start(db)
    try:
        owner = Actor(made["member"]["address"], made["token"], srv.url)
        assert owner.http("GET", "/v1/whoami").status == 200  # known before the flood: never locked out
        forged = [wrong_secret(made["token"])] * 20 + [f"flt_{i}_{i}_{'x' * 36}" for i in range(1, 2981)]
        statuses: list[int] = []

        def flood(part: list[str]) -> None:
            for token in part:
                statuses.append(http_request(srv.url, "GET", "/v1/knowledge",
                                             headers={"Authorization": f"Bearer {token}"}).status)

        threads = [threading.Thread(target=flood, args=(forged[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(statuses) == 3000 and set(statuses) <= {401, 429}, set(statuses)
        assert owner.http("GET", "/v1/whoami").status == 200
        records = owner.client.get("/v1/audit")["items"]
        against_owner = [r for r in records if r["resource"] == f"agent:{owner.address}"]
        assert against_owner and sum(r["count"] for r in against_owner) >= 1 and all(
            r["status"] == 401 and r["member"] is None for r in against_owner)
    finally:
        srv.stop()
    grown = os.path.getsize(db) - size_before
    import sqlite3

    conn = sqlite3.connect(db)
    rows, total = conn.execute("SELECT COUNT(*), SUM(count) FROM audit_log WHERE member IS NULL").fetchone()
    conn.close()
    assert total == 3000, total  # every refusal is counted
    assert rows <= 10, rows  # in a handful of records (address x fleet x status x minute)
    print(f"3000 forged-token requests: {rows} audit records, the database grew by {grown} bytes")
    assert grown < 200 * 1024, f"the database grew by {grown} bytes"
