"""The shared limiter on PostgreSQL: several processes' limiters hold one limit exactly, give back
reservations they do not use, and keep deciding (locally) when the database is unreachable."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
from peewee import PostgresqlDatabase

from fleetctl.services.ratelimit_shared import SharedWindow

# The SQLite run keeps the in-memory limiter: nothing to share.
pytestmark = pytest.mark.engine("postgres")


@pytest.fixture
def pg(server):
    """The session's PostgreSQL database."""
    from fleetctl import db

    return db.database.obj


def steady_clock():
    """Wall time that starts 5 s into the current minute, so a test never straddles two windows."""
    start = time.time()
    base = start // 60 * 60 + 5
    return lambda: base + (time.time() - start)


def pair(pg) -> tuple[SharedWindow, SharedWindow]:
    """Two limiters as two server processes would hold them, each aware of the other."""
    clock = steady_clock()
    a, b = SharedWindow(pg, interval=60, clock=clock), SharedWindow(pg, interval=60, clock=clock)
    for limiter in (a, b, a):
        limiter.sync()
    assert a.nodes >= 2 and b.nodes >= 2
    return a, b


def key() -> str:
    return f"member:test-{secrets.token_hex(4)}"


def test_two_processes_alternating_pass_exactly_the_limit(pg):
    a, b = pair(pg)
    k = key()
    verdicts = [(a, b)[i % 2].hit(k, 20) for i in range(40)]
    assert sum(v.allowed for v in verdicts) == 20
    assert a.used(k) + b.used(k) >= 20  # each knows at least its own share
    refused = [v for v in verdicts if not v.allowed]
    assert all(v.remaining == 0 and 1 <= v.retry_after <= 60 for v in refused)


def test_concurrent_threads_in_two_processes_pass_exactly_the_limit(pg):
    a, b = pair(pg)
    k = key()
    allowed = []

    def work(limiter):
        allowed.extend(limiter.hit(k, 30).allowed for _ in range(40))

    threads = [threading.Thread(target=work, args=(x,)) for x in (a, b, a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Never over the limit; reservations racing for the last requests may leave it a little short
    # until the next sync gives the unused part back.
    assert 28 <= sum(allowed) <= 30 and len(allowed) == 160


def row(pg, limiter: SharedWindow, k: str) -> int:
    """What `limiter` has written for `k` in rate_counter: its count plus what it has reserved."""
    return pg.execute_sql("SELECT COALESCE(SUM(hits), 0) FROM rate_counter WHERE key = %s AND node = %s",
                          (k, limiter.node)).fetchone()[0]


def test_a_reservation_left_unused_goes_back_to_the_other_servers(pg):
    a, b = pair(pg)
    k = key()
    assert a.hit(k, 100).allowed  # a reserves a share of the limit for the requests it expects
    reserved = row(pg, a, k)
    assert reserved > 1
    assert sum(b.hit(k, 100).allowed for _ in range(100)) == 100 - reserved  # b cannot use a's share
    a.sync()
    a.sync()  # a was idle for a whole interval: its reservation goes back
    assert row(pg, a, k) == 1
    b.sync()
    assert sum(b.hit(k, 100).allowed for _ in range(100)) == reserved - 1
    assert not a.hit(k, 100).allowed  # and the total still holds


def test_unreachable_database_means_local_decisions_not_errors():
    dead = PostgresqlDatabase("nowhere", host="127.0.0.1", port=1, connect_timeout=1)
    limiter = SharedWindow(dead, interval=60)
    limiter.sync()
    k = key()
    assert sum(limiter.hit(k, 5).allowed for _ in range(8)) == 5
