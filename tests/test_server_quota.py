"""Per-fleet storage quotas: usage counted per write, owners see it, a write beyond it is a 413
problem+json naming the quota, and nothing of that write is kept."""

from __future__ import annotations

import secrets
import threading

import pytest
import servers
from conftest import Actor, FleetHandle, run_local, sql


@pytest.fixture
def small_fleet(server):
    """A fleet with a quota of 4 KiB, made directly in the database."""
    from fleetctl.services import members

    def make(quota: int = 4096) -> FleetHandle:
        name = f"quota-{secrets.token_hex(3)}"
        fleet, owner, token = members.create_fleet(name, quota_bytes=quota)
        return FleetHandle(name, Actor(owner.address, token, server.url, members.to_dict(owner)), server.url)

    return make


def usage(actor) -> int:
    return actor.client.get("/v1/whoami")["fleet"]["usage"]


def test_owners_see_quota_and_usage_counted_per_write(small_fleet):
    fleet = small_fleet()
    agent = fleet.member("agent")
    mine = fleet.owner.client.get("/v1/whoami")["fleet"]
    assert (mine["quota"], mine["usage"]) == (4096, 0)
    assert "quota" not in agent.client.get("/v1/whoami")["fleet"]  # owners only
    assert fleet.owner.cli("whoami", "--json").json()["fleet"]["quota"] == 4096
    assert "storage: 0 of 4096 bytes used" in fleet.owner.cli("whoami").stdout
    assert "storage" not in agent.cli("whoami").stdout
    agent.client.post("/v1/knowledge", {"kind": "tip", "title": "abc", "body": "é" * 10})  # 3 + 20 bytes
    assert usage(fleet.owner) == 23
    agent.client.post("/v1/tasks", {"title": "t", "body": "12345"})
    agent.client.post("/v1/messages", {"recipients": ["owner"], "subject": "s", "body": "1234"})
    agent.http("PUT", "/v1/documents/d", {"body": "xy", "message": "m"})
    assert usage(fleet.owner) == 23 + 6 + 5 + 3


def test_a_write_beyond_the_quota_is_413_and_nothing_is_written(small_fleet):
    fleet = small_fleet()
    agent = fleet.member("agent")
    agent.client.post("/v1/knowledge", {"kind": "tip", "title": "fill", "body": "x" * 4000})
    before = usage(fleet.owner)
    refused = [
        agent.http("POST", "/v1/knowledge", {"kind": "tip", "title": "over", "body": "x" * 200}),
        agent.http("POST", "/v1/tasks", {"title": "over", "body": "x" * 200, "assign": "owner"}),
        agent.http("POST", "/v1/messages", {"recipients": ["owner"], "subject": "over", "body": "x" * 200}),
        agent.http("PUT", "/v1/documents/spec", {"body": "x" * 200}),
        agent.http("POST", "/v1/research", {"title": "over", "confidence": 0.5, "body": "x" * 200}),
    ]
    for resp in refused:
        assert resp.status == 413, resp.body
        assert resp.getheader("Content-Type") == "application/problem+json"
        assert "storage quota of 4 KiB" in resp.body["detail"] and resp.body["quota"] == 4096
    assert usage(fleet.owner) == before
    assert [e["title"] for e in agent.client.get("/v1/knowledge")["items"]] == ["fill"]
    assert agent.client.get("/v1/tasks")["items"] == [] and fleet.owner.client.get("/v1/messages")["items"] == []
    assert agent.http("GET", "/v1/documents/spec").status == 404
    assert agent.client.get("/v1/research")["items"] == []
    assert agent.http("POST", "/v1/knowledge", {"kind": "tip", "title": "fits", "body": "x" * 50}).status == 201


def test_concurrent_writers_never_pass_the_quota_together(small_fleet):
    fleet = small_fleet(quota=1000)
    writers = [fleet.member(f"w{i}") for i in range(4)]
    statuses: list[int] = []

    def write(actor):
        for n in range(5):
            statuses.append(actor.http("POST", "/v1/knowledge", {"kind": "tip", "title": f"t{n}",
                                                                  "body": "x" * 98}).status)

    threads = [threading.Thread(target=write, args=(w,)) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(201) == 10 and statuses.count(413) == 10, statuses  # 100 bytes each
    assert usage(fleet.owner) == 1000


@pytest.mark.slow
def test_fleet_create_and_update_quota_locally(tmp_path):
    db = str(tmp_path / "q.db")
    made = run_local("fleet", "create", "acme", "--quota", "2MiB", "--db", db, "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["fleet"]["quota"] == 2 * 1024 ** 2 and made.json()["fleet"]["usage"] == 0
    default = run_local("fleet", "create", "labs", "--db", db, "--json").json()["fleet"]
    assert default["quota"] == 1024 ** 3
    changed = run_local("fleet", "update", "acme", "--quota", "1.5GB", "--db", db, "--json")
    assert changed.exit_code == 0 and changed.json()["quota"] == 1_500_000_000
    for bad in ("0", "0GiB", "-1GiB", "lots", "12XB", "2PiB"):
        result = run_local("fleet", "create", "zz", "--quota", bad, "--db", db)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, (bad, result.stderr)
        assert "Traceback" not in result.stderr
    assert run_local("fleet", "update", "nope", "--quota", "1GiB", "--db", db).exit_code == 4


@pytest.mark.slow
def test_migration_11_counts_what_fleets_stored_before_quotas(fresh_db):
    srv = servers.start(fresh_db)
    try:
        made = servers.local(fresh_db, "fleet", "create", "old")
        owner = Actor(made["member"]["address"], made["token"], srv.url)
        owner.client.post("/v1/knowledge", {"kind": "tip", "title": "abc", "body": "é" * 10})
        owner.client.post("/v1/tasks", {"title": "t", "body": "12345"})
        owner.client.post("/v1/messages", {"recipients": ["owner"], "subject": "s", "body": "1234"})
        owner.http("PUT", "/v1/documents/d", {"body": "xy", "message": "m"})
        owner.client.post("/v1/research", {"title": "r", "confidence": 0.5, "question": "q", "body": "b"})
        expected = owner.client.get("/v1/whoami")["fleet"]["usage"]
    finally:
        srv.stop()
    assert expected == 23 + 6 + 5 + 3 + 3
    # Back to the schema before migration 11 (as a database of the previous release has it).
    for table, column in (("fleet", "quota_bytes"), ("fleet", "usage_bytes"), ("audit_log", "count")):
        sql(fresh_db, f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    sql(fresh_db, "DELETE FROM schema_migrations WHERE version = 11")
    upgraded = servers.local(fresh_db, "db", "upgrade")
    assert upgraded["applied"] == ["0011_quotas_and_audit_counts"]
    assert sql(fresh_db, "SELECT quota_bytes, usage_bytes FROM fleet") == [(1024 ** 3, expected)]
    assert sql(fresh_db, 'SELECT MIN("count") FROM audit_log') == [(1,)]
