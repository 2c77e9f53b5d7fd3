"""Live wake across servers on PostgreSQL: a waiter held by one `fleetctl serve` is woken by a write
taken by another (LISTEN/NOTIFY), also after its listener connection was cut and came back."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import Actor, _pg_admin
from test_scaleout_postgres import Cluster, two_servers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    yield from two_servers(threads=3)


def wait_on(actor: Actor, seconds: int) -> dict:
    """Start `GET /v1/wake?wait=S` in a thread; the dict gets `body` and `at` once it answers."""
    out: dict = {}

    def run():
        resp = actor.http("GET", f"/v1/wake?wait={seconds}")
        out.update(status=resp.status, body=resp.body, at=time.monotonic())

    out["thread"] = threading.Thread(target=run, daemon=True)
    out["thread"].start()
    return out


def hand_off(cluster: Cluster, receiver_on_b: Actor, sender_on_a: Actor) -> float:
    """Wait on server B, write on server A; returns the seconds from the write to B's answer."""
    receiver_on_b.http("POST", "/v1/wake")
    waiter = wait_on(receiver_on_b, 30)
    time.sleep(0.8)
    assert "at" not in waiter, "the wait answered before there was news"
    written = time.monotonic()
    resp = sender_on_a.http("POST", "/v1/messages", {"recipients": [receiver_on_b.name], "subject": "across"})
    assert resp.status == 201, resp.body
    waiter["thread"].join(10)
    assert "at" in waiter, "the waiter on server B was not woken by the write on server A"
    assert waiter["status"] == 200 and waiter["body"]["sections"]["messages"][0]["subject"] == "across"
    return waiter["at"] - written


def test_a_write_on_one_server_wakes_a_waiter_held_by_another(cluster):
    _, scout_b = cluster.member("scout")
    sender_a, _ = cluster.member("sender")
    assert hand_off(cluster, scout_b, sender_a) < 1.0
    # knowledge (no addressed member) reaches the fleet's waiters on the other server too
    scout_b.http("POST", "/v1/wake")
    waiter = wait_on(scout_b, 30)
    time.sleep(0.8)
    written = time.monotonic()
    assert cluster.owner.http("POST", "/v1/knowledge", {"kind": "breaking", "title": "db moves"}).status == 201
    waiter["thread"].join(10)
    assert "at" in waiter and waiter["at"] - written < 1.0
    assert waiter["body"]["sections"]["breaking"][0]["title"] == "db moves"


def test_the_listener_reconnects_after_its_connection_is_cut(cluster):
    _, scout_b = cluster.member("scout2")
    sender_a, _ = cluster.member("sender2")
    name = cluster.url.rsplit("/", 1)[1]
    with _pg_admin() as conn:
        cut = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND query ILIKE 'LISTEN%%'", (name,)).fetchall()
    assert len(cut) == 2  # one listener per server
    time.sleep(2.0)  # the listeners reconnect (backoff starts at half a second)
    assert hand_off(cluster, scout_b, sender_a) < 1.0
