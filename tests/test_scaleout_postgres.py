"""Scale-out on PostgreSQL: several real `fleetctl serve` processes on one database behave as one.

Across two servers: a revoked or rotated token dies everywhere within the auth-cache TTL, a
member's rate limit holds over both, a task claim and a `doc put --base-version` race have
exactly one winner; servers starting at once migrate a fresh database once (the change sequence
behind wake cursors is checked in test_changes_order.py). Needs PostgreSQL: skipped when it is
not among FLEET_TEST_ENGINES or not reachable, and a failure instead of a skip when CI is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest
import servers
from conftest import ENGINES, Actor, _pg_admin, create_pg_database, pg_available

pytestmark = pytest.mark.slow

TTL = 2.0  # FLEET_AUTH_CACHE_TTL of the servers under test (the real bound is 30 s)
SERVER_ENV = {"FLEET_AUTH_CACHE_TTL": str(TTL), "FLEET_RATE_SYNC_MS": "200"}


def fresh_pg_database() -> str:
    """A new, empty PostgreSQL database, or skip (fail on CI) when PostgreSQL is not available."""
    if "postgres" not in ENGINES:
        pytest.skip("PostgreSQL is not among FLEET_TEST_ENGINES")
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable (FLEET_TEST_PG); scale-out tests need it on CI")
        pytest.skip("PostgreSQL not reachable (set FLEET_TEST_ENGINES=sqlite to silence)")
    return create_pg_database()


def drop(url: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


class Cluster:
    """Two servers A and B on one database, and a fleet whose owner can act through either."""

    def __init__(self, url: str, a: servers.ServerProcess, b: servers.ServerProcess) -> None:
        self.url, self.a, self.b = url, a, b
        made = servers.local(url, "fleet", "create", "scale")
        self.owner = Actor(made["member"]["address"], made["token"], a.url)

    def member(self, name: str, **fields) -> tuple[Actor, Actor]:
        """Register a member through server A; returns it as seen through A and through B."""
        resp = self.owner.http("POST", "/v1/agents", {"name": name, **fields})
        assert resp.status == 201, resp.body
        address, token = resp.body["member"]["address"], resp.body["token"]
        return Actor(address, token, self.a.url), Actor(address, token, self.b.url)

    def split(self, count: int, prefix: str) -> list[Actor]:
        """`count` new members, alternately bound to server A and server B."""
        return [self.member(f"{prefix}{i}")[i % 2] for i in range(count)]


def two_servers(threads: int):
    """A fresh database with two real servers on it, as a Cluster; stopped and dropped after (a generator
    for module fixtures). Few threads: the test PostgreSQL is shared (max_connections) and a thread
    holds a connection."""
    url = fresh_pg_database()
    a_proc, b_proc = servers.spawn(url, SERVER_ENV, threads=threads), servers.spawn(url, SERVER_ENV, threads=threads)
    a, b = servers.wait_ready(a_proc), servers.wait_ready(b_proc)
    try:
        yield Cluster(url, a, b)
    finally:
        a.stop()
        b.stop()
        drop(url)


@pytest.fixture(scope="module")
def cluster():
    yield from two_servers(threads=4)


def race(actors: list[Actor], request) -> list[tuple[Actor, object]]:
    """Run `request(actor)` for every actor at the same instant (one thread each)."""
    barrier = threading.Barrier(len(actors))
    results: list = [None] * len(actors)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = request(actors[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return list(zip(actors, results, strict=True))


def away_from_window_edge(margin: float = 3.0) -> None:
    """Rate windows are whole minutes of wall time: start a burst well inside one."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.1)


def until(check, timeout: float) -> float:
    """Poll `check()` until true; return the seconds it took (fails after `timeout`)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, "condition not reached in time"
        time.sleep(0.05)
    return time.monotonic() - start


def test_servers_and_db_upgrade_starting_at_once_migrate_a_fresh_database_once():
    from fleetctl.migrations import MIGRATIONS

    url = fresh_pg_database()
    try:
        upgrade = subprocess.Popen([sys.executable, "-m", "fleetctl", "db", "upgrade", "--db", url, "--json"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        running = [servers.wait_ready(p) for p in [servers.spawn(url, threads=2), servers.spawn(url, threads=2)]]
        out, err = upgrade.communicate(timeout=60)
        assert upgrade.returncode == 0, err
        for server in running:
            assert server.stop() == 0, server.log()
            assert "Traceback" not in server.log()
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT version, COUNT(*) FROM schema_migrations GROUP BY version "
                                "ORDER BY version").fetchall()
        assert rows == [(version, 1) for version, _, _ in MIGRATIONS]
    finally:
        drop(url)


MIGRATE_AT = """
import sys, time
from fleetctl import db
at = float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
db.open_database(sys.argv[1])
print(max(db.applied_versions()))
"""


def test_processes_migrating_at_the_same_instant_all_succeed():
    from fleetctl.migrations import MIGRATIONS

    url = fresh_pg_database()
    try:
        at = str(time.time() + 2.0)  # every process is past its imports by then
        procs = [subprocess.Popen([sys.executable, "-c", MIGRATE_AT, url, at], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outcomes = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
        assert [(out.strip(), code) for out, _, code in outcomes] == [(str(MIGRATIONS[-1][0]), 0)] * 4, outcomes
    finally:
        drop(url)


def test_db_upgrade_info_and_serve_on_postgresql_also_through_fleet_db():
    from fleetctl.migrations import MIGRATIONS

    url = fresh_pg_database()
    name = url.rsplit("/", 1)[1]
    try:
        assert servers.local(url, "db", "upgrade")["version"] == MIGRATIONS[-1][0]
        info = servers.local(None, "db", "info", env={"FLEET_DB": url})
        assert info["engine"] == "postgres" and info["pending"] == [] and info["url"].endswith(name)
        made = servers.local(None, "fleet", "create", "envfleet", env={"FLEET_DB": url})
        with servers.start(None, {"FLEET_DB": url}, threads=2) as server:
            assert f"/{name}" in server.log()
            owner = Actor(made["member"]["address"], made["token"], server.url)
            assert owner.client.get("/v1/agents/owner")["address"] == "envfleet/owner"
    finally:
        drop(url)


def test_revoked_and_rotated_tokens_die_on_every_server_within_the_ttl(cluster):
    on_a, on_b = cluster.member("gone")
    path = f"/v1/agents/{on_a.name}"
    assert on_a.http("GET", path).status == 200 and on_b.http("GET", path).status == 200  # cached on both
    assert cluster.owner.http("POST", f"{path}/revoke").status == 200
    assert on_a.http("GET", path).status == 401  # the server that revoked forgets at once
    took = until(lambda: on_b.http("GET", path).status == 401, TTL + 5)
    assert took <= TTL + 1.0
    assert on_b.http("GET", path).status == 401

    old_a, old_b = cluster.member("rotor")
    path = f"/v1/agents/{old_a.name}"
    assert old_b.http("GET", path).status == 200
    rotated = old_a.http("POST", "/v1/tokens/rotate")
    assert rotated.status == 200, rotated.body
    new_b = Actor(old_a.address, rotated.body["token"], cluster.b.url)
    assert new_b.http("GET", path).status == 200  # the new token works everywhere at once
    assert old_a.http("GET", path).status == 401
    assert until(lambda: old_b.http("GET", path).status == 401, TTL + 5) <= TTL + 1.0


def test_member_rate_limit_holds_across_both_servers(cluster):
    on_a, on_b = cluster.member("chatty", rate_limit=20)
    path = f"/v1/agents/{on_a.name}"
    away_from_window_edge()
    answers = [((on_a, on_b)[i % 2].http("GET", path), i % 2) for i in range(40)]
    passed = [side for resp, side in answers if resp.status == 200]
    # Not 40: both servers count against one limit, and never pass it (a reservation a server has
    # not used yet when the burst ends may leave the total a request or two short of it).
    assert 18 <= len(passed) <= 20, len(passed)
    assert set(passed) == {0, 1}
    refused = [resp for resp, _ in answers if resp.status == 429]
    assert len(refused) == 40 - len(passed)
    assert all(int(r.getheader("Retry-After")) >= 1 and r.getheader("RateLimit-Limit") == "20" for r in refused)
    assert {side for resp, side in answers if resp.status == 429} == {0, 1}
    quiet_a, quiet_b = cluster.member("quiet", rate_limit=20)  # another member is not affected
    assert quiet_b.http("GET", path).status == 200


def test_member_rate_limit_holds_under_concurrent_load_on_both_servers(cluster):
    on_a, on_b = cluster.member("burst", rate_limit=30)
    path = f"/v1/agents/{on_a.name}"

    def hammer(actor: Actor) -> list[int]:
        return [actor.http("GET", path).status for _ in range(20)]

    away_from_window_edge()
    results = race([on_a, on_b, on_a, on_b], hammer)
    statuses = [s for _, batch in results for s in batch]
    assert set(statuses) == {200, 429}
    assert 28 <= statuses.count(200) <= 30, statuses.count(200)  # 30 of 80, whatever server took them


def test_task_claim_race_across_servers_has_exactly_one_winner(cluster):
    created = cluster.owner.http("POST", "/v1/tasks", {"title": "one owner only"})
    assert created.status == 201, created.body
    task_id = created.body["id"]
    claimers = cluster.split(6, "claimer")

    def claim(actor):
        return actor.http("POST", f"/v1/tasks/{task_id}/actions", {"action": "claim"}).status

    results = race(claimers, claim)
    winners = [actor for actor, status in results if status == 200]
    assert len(winners) == 1, results
    assert sorted(status for _, status in results) == [200] + [409] * 5
    shown = Actor(cluster.owner.address, cluster.owner.token, cluster.b.url).client.get(f"/v1/tasks/{task_id}")
    assert shown["state"] == "accepted" and shown["assignee"] == winners[0].address


def test_document_put_base_version_race_across_servers_has_exactly_one_winner(cluster):
    writers = cluster.split(6, "writer")

    def put(base: int):
        def request(actor):
            return actor.http("PUT", "/v1/documents/runbook",
                              {"body": f"written by {actor.name}\n", "base_version": base}).status
        return request

    first = race(writers, put(0))  # base 0: the document must not exist yet
    assert sorted(status for _, status in first) == [201] + [409] * 5, first
    second = race(writers, put(1))
    assert sorted(status for _, status in second) == [200] + [409] * 5, second
    winner = next(actor for actor, status in second if status == 200)
    doc = writers[1].client.get("/v1/documents/runbook")
    assert doc["version"] == 2 and doc["body"] == f"written by {winner.name}\n"
    stale = writers[1].cli("doc", "put", "runbook", "--base-version", "1", "--body", "late")
    assert stale.exit_code == 5 and "version 2" in stale.stderr
