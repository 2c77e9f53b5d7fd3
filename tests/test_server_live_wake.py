"""Live wake over HTTP: `GET /v1/wake?wait=S` answers at once with news, else holds until news or S seconds.

In-process server for the protocol; real `fleetctl serve` subprocesses for what depends on its
dispatcher: --max-waiters, waiters off the worker threads, hang-ups, and shutdown releasing waiters.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import servers
from conftest import Actor

MESSAGE = {"subject": "hand-off"}


def quiet(fleet, name):
    """A member whose wake is empty (its cursor is past everything older tests did)."""
    actor = fleet.member(name)
    actor.client.post("/v1/wake")
    return actor


def send(sender, to):
    return sender.client.post("/v1/messages", {"recipients": [to], **MESSAGE})


class Waiter(threading.Thread):
    """One `GET /v1/wake?wait=S` in the background; `status`, `body` and `done_at` once it answered."""

    def __init__(self, actor, seconds, **params):
        super().__init__(daemon=True)
        query = "&".join(f"{k}={v}" for k, v in {"wait": seconds, **params}.items())
        self.actor, self.path = actor, f"/v1/wake?{query}"
        self.status = self.body = self.done_at = None
        self.start()

    def run(self):
        resp = self.actor.http("GET", self.path)
        self.status, self.body, self.done_at = resp.status, resp.body, time.monotonic()

    def answered(self, within: float) -> bool:
        self.join(within)
        return self.done_at is not None


def test_wait_answers_at_once_when_there_is_news(make_fleet):
    fleet = make_fleet()
    scout = quiet(fleet, "scout")
    send(fleet.owner, "scout")
    started = time.monotonic()
    data = scout.client.get("/v1/wake", wait=30)
    assert time.monotonic() - started < 1.0
    assert data["empty"] is False and data["sections"]["messages"][0]["subject"] == "hand-off"


def test_wait_holds_until_news_for_the_caller_then_answers_within_a_second(make_fleet):
    fleet = make_fleet()
    scout, other = quiet(fleet, "scout"), quiet(fleet, "other")
    waiter = Waiter(scout, 30)
    time.sleep(0.5)
    send(fleet.owner, "other")  # news for someone else: scout keeps waiting
    assert not waiter.answered(0.7)
    written = time.monotonic()
    msg = send(other, "scout")
    assert waiter.answered(5), "the waiter was not woken by the write"
    assert waiter.done_at - written < 1.0
    assert waiter.status == 200 and [m["id"] for m in waiter.body["sections"]["messages"]] == [msg["id"]]
    assert scout.client.get("/v1/messages/" + str(msg["id"]))["delivered_at"] is None  # a peek: no side effect


@pytest.mark.slow  # waits out a timeout
def test_wait_times_out_with_an_empty_wake(make_fleet):
    scout = quiet(make_fleet(), "scout")
    started = time.monotonic()
    data = scout.client.get("/v1/wake", wait=1)
    assert 0.9 <= time.monotonic() - started < 3.0
    assert data["empty"] is True and data["prompt"].endswith("nothing new since your last wake.")


@pytest.mark.parametrize("bad", ["0", "61", "-1", "abc", "1.5", ""])
def test_bad_wait_is_422(make_fleet, bad):
    scout = quiet(make_fleet(), "scout")
    resp = scout.http("GET", f"/v1/wake?wait={bad}")
    assert resp.status == 422 and "wait" in resp.body["detail"]


@pytest.mark.slow  # waits out a timeout
def test_revoked_members_waiter_is_released(make_fleet):
    fleet = make_fleet()
    scout = quiet(fleet, "scout")
    waiter = Waiter(scout, 30)
    time.sleep(0.5)
    fleet.owner.client.post("/v1/agents/scout/revoke")
    assert waiter.answered(5), "the revoked member's waiter kept waiting"
    assert waiter.status == 401


@pytest.mark.slow  # waits out a timeout
def test_waits_of_one_member_are_bounded(make_fleet, monkeypatch):
    from fleetctl.services import wakeup

    monkeypatch.setattr(wakeup, "PER_MEMBER", 2)  # the in-process server has 8 threads
    scout = quiet(make_fleet(), "scout")
    held = [Waiter(scout, 4) for _ in range(2)]
    time.sleep(0.8)
    started = time.monotonic()
    assert scout.client.get("/v1/wake", wait=4)["empty"] is True
    assert time.monotonic() - started < 1.0  # over the member's bound: answered at once
    assert not any(w.done_at for w in held)


# -- real servers -----------------------------------------------------------------------------

@pytest.fixture
def serve(db_url, tmp_path):
    """Start `fleetctl serve ARGS`; yields a function returning (server, fleet owner). On SQLite each test
    gets a database file of its own: another process on the session's file is only as safe as every
    open() of it in this process (closing any descriptor of a file drops this process's SQLite locks)."""
    started = []
    url = db_url if "://" in db_url else str(tmp_path / "live.db")

    def start(*args, threads=2):
        server = servers.start(url, {"FLEET_AUTH_CACHE_TTL": "2"}, threads=threads, args=args)
        started.append(server)
        made = servers.local(url, "fleet", "create", f"live{len(started)}-{int(time.time() * 1000) % 10**8}")
        return server, Actor(made["member"]["address"], made["token"], server.url)

    yield start
    for server in started:
        server.stop()


def member(owner, name):
    resp = owner.http("POST", "/v1/agents", {"name": name})
    assert resp.status == 201, resp.body
    actor = Actor(resp.body["member"]["address"], resp.body["token"], owner.url)
    actor.http("POST", "/v1/wake")
    return actor


@pytest.mark.slow
def test_waiters_never_take_the_worker_threads_and_over_the_bound_answer_at_once(serve):
    server, owner = serve("--max-waiters", "3", threads=1)
    agents = [member(owner, f"a{i}") for i in range(4)]
    held = [Waiter(a, 20) for a in agents[:3]]
    time.sleep(1.0)
    started = time.monotonic()
    assert owner.http("GET", "/v1/whoami").status == 200  # the one worker thread is free
    over = agents[3].http("GET", "/v1/wake?wait=20")
    assert over.status == 200 and over.body["empty"] is True
    assert time.monotonic() - started < 2.0  # answered at once, not held
    assert not any(w.done_at for w in held)
    written = time.monotonic()
    send(owner, agents[0].name)
    assert held[0].answered(5) and held[0].done_at - written < 1.0
    assert held[0].body["empty"] is False and not held[1].done_at


@pytest.mark.slow
def test_a_client_that_hangs_up_frees_its_slot(serve):
    server, owner = serve("--max-waiters", "1")
    first, second = member(owner, "first"), member(owner, "second")
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(f"GET /v1/wake?wait=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {first.token}\r\n\r\n".encode())
    time.sleep(0.8)
    assert second.http("GET", "/v1/wake?wait=20").body["empty"] is True  # the slot is taken: at once
    sock.close()
    time.sleep(2.0)  # the waiter notices within its tick
    waiter = Waiter(second, 20)
    assert not waiter.answered(1.5), "the hung-up client's slot was not freed"
    send(owner, "second")
    assert waiter.answered(5) and waiter.body["empty"] is False


@pytest.mark.slow
def test_shutdown_releases_every_waiter_at_once(serve):
    server, owner = serve()
    agents = [member(owner, f"w{i}") for i in range(3)]
    held = [Waiter(a, 60) for a in agents]
    time.sleep(1.0)
    stopped = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert all(w.answered(3) for w in held), "a waiter was not released"
    assert all(w.status == 200 and w.body["empty"] is True for w in held)
    assert max(w.done_at for w in held) - stopped < 1.5
    assert server.process.wait(10) == 0
    assert time.monotonic() - stopped < 6.0
    assert "fleetctl server stopped" in server.log()


def test_the_wake_up_waits_for_the_commit_and_a_rollback_sends_none(make_fleet):
    from fleetctl import db
    from fleetctl.models.core import Fleet, Member
    from fleetctl.services import changes, wake_streams, wakeup

    fleet = make_fleet()
    scout = quiet(fleet, "scout")
    member = Member.select().join(Fleet).where(Fleet.name == fleet.name, Member.name == "scout").get()
    with wakeup.hub.watch(member) as watcher:
        with pytest.raises(RuntimeError), db.write():
            changes.record("message", 1, member.fleet_id, "received",
                           [wake_streams.to_member("messages", member.id)])
            assert not watcher.event.is_set()  # not before the commit
            raise RuntimeError("roll back")
        assert not watcher.event.is_set() and watcher.wait(0) is False  # rolled back: no wake-up
        assert scout.client.get("/v1/wake")["empty"] is True
