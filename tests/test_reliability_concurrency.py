"""Concurrency: 8 writers x 60 writes on a real server with no 5xx and no "database is locked", and
races the area tests do not already run (task transitions, supersede, registration) have one winner.
The claim race, document compare-and-set and concurrent reviews live in the tasks/documents/research tests.
"""

from __future__ import annotations

import secrets
import threading

import pytest
import servers
from conftest import Actor, http_request
from load import Load

WRITERS, PER_WRITER = 8, 60


def _write(i: int, n: int, me: str):
    """Writer i's n-th write, cycling through the primitives so every write path takes load."""
    kind = (i + n) % 4
    if kind == 0:
        return "POST", "/v1/knowledge", {"kind": "tip", "title": f"k w{i} #{n}", "domains": ["load"]}
    if kind == 1:
        return "POST", "/v1/tasks", {"title": f"t w{i} #{n}", "domains": ["load"]}
    if kind == 2:
        return "POST", "/v1/messages", {"recipients": [me], "subject": f"m w{i} #{n}"}
    return "PUT", f"/v1/documents/load-w{i}", {"body": f"version {n}\n"}


@pytest.mark.slow
def test_eight_writers_sixty_writes_each_no_5xx_no_lock_errors(db_url):
    srv = servers.start(db_url)
    try:
        made = servers.local(db_url, "fleet", "create", f"conc-{secrets.token_hex(3)}", "--rate-limit", "1000000")
        owner = Actor(made["member"]["address"], made["token"], srv.url)
        writers = []
        for i in range(WRITERS):
            resp = owner.http("POST", "/v1/agents", {"name": f"w{i}", "rate_limit": 1_000_000})
            assert resp.status == 201, resp.body
            writers.append(Actor(resp.body["member"]["address"], resp.body["token"], srv.url))
        names = [w.name for w in writers]
        load = Load(srv.url, [w.token for w in writers], lambda i, n: _write(i, n, names[i]), per_writer=PER_WRITER)
        load.start().join(timeout=120)

        assert load.connection_errors == 0 and load.bodies_5xx == []
        assert sorted(load.statuses) in ([200, 201], [201]), load.statuses
        assert load.total_acked == WRITERS * PER_WRITER
        log = srv.log()
        assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
        # Every acknowledged write is readable by its writer, and every document kept all of its versions.
        for i, acked in enumerate(load.acked):
            for sent, answer in acked:
                if set(sent) == {"body"}:
                    continue
                path = {"k": "knowledge", "t": "tasks", "m": "messages"}[(sent.get("title") or sent["subject"])[0]]
                resp = http_request(srv.url, "GET", f"/v1/{path}/{answer['id']}",
                                    headers={"Authorization": f"Bearer {writers[i].token}"})
                assert resp.status == 200, (path, answer["id"], resp.status)
                assert resp.body.get("title", resp.body.get("subject")) == sent.get("title", sent.get("subject"))
            doc = writers[i].client.get(f"/v1/documents/load-w{i}")
            assert doc["version"] == sum(1 for sent, _ in acked if set(sent) == {"body"})
        print(f"concurrency: {load.requests} writes by {WRITERS} writers, statuses {dict(load.statuses)}")
    finally:
        srv.stop()


def race(calls: list) -> list[int]:
    """Run every zero-argument call at the same instant; return their HTTP statuses in order."""
    barrier = threading.Barrier(len(calls))
    statuses = [0] * len(calls)

    def run(i):
        barrier.wait()
        statuses[i] = calls[i]().status

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def act(actor, task_id, action, **fields):
    return lambda: actor.http("POST", f"/v1/tasks/{task_id}/actions", {"action": action, **fields})


@pytest.fixture
def crew(make_fleet):
    fleet = make_fleet("race")
    agents = [fleet.member(f"a{i}", domains=["infra"]) for i in range(4)]
    reviewers = [fleet.member(f"r{i}", role="reviewer", domains=["infra"]) for i in range(3)]
    return fleet, agents, reviewers


def test_review_gate_race_has_one_winner(crew):
    fleet, agents, reviewers = crew
    for _ in range(3):
        task = fleet.owner.client.post("/v1/tasks", {"title": "gate", "domains": ["infra"], "review": "required"})
        for action, who in (("claim", agents[0]), ("start", agents[0]), ("submit", agents[0])):
            assert act(who, task["id"], action)().status == 200
        # (cancel is left out: it is allowed after any of these, so it may rightly win a second time)
        calls = [act(reviewers[0], task["id"], "approve"), act(reviewers[1], task["id"], "request-changes",
                                                               reason="no"),
                 act(reviewers[2], task["id"], "approve"), act(fleet.owner, task["id"], "request-changes",
                                                               reason="also no")]
        statuses = race(calls)
        assert sorted(statuses) == [200, 409, 409, 409], statuses
        final = fleet.owner.client.get(f"/v1/tasks/{task['id']}")
        assert final["version"] == 5 and len(final["history"]) == 5
        assert final["state"] == ("done" if statuses.index(200) in (0, 2) else "in_progress")


def test_claim_assign_route_race_on_an_open_task_has_one_winner(crew):
    fleet, agents, _ = crew
    for _ in range(3):
        task = fleet.owner.client.post("/v1/tasks", {"title": "open", "domains": ["infra"]})
        calls = [act(agents[0], task["id"], "claim"), act(agents[1], task["id"], "claim"),
                 act(fleet.owner, task["id"], "assign", member=agents[2].name),
                 act(fleet.owner, task["id"], "route"), act(agents[3], task["id"], "claim")]
        statuses = race(calls)
        assert sorted(statuses) == [200] + [409] * 4, statuses
        final = fleet.owner.client.get(f"/v1/tasks/{task['id']}")
        assert final["version"] == 2 and [h["action"] for h in final["history"]][-1] != "create"


def test_supersede_race_has_one_winner_and_a_straight_chain(crew):
    fleet, agents, _ = crew
    root = fleet.owner.client.post("/v1/knowledge", {"kind": "tip", "title": "v1", "domains": ["infra"]})
    calls = [(lambda a=a: a.http("POST", "/v1/knowledge", {"kind": "fix", "title": f"by {a.name}",
                                                            "supersedes": root["id"]})) for a in agents]
    statuses = race(calls)
    assert sorted(statuses) == [201, 409, 409, 409], statuses
    chain = fleet.owner.client.get(f"/v1/knowledge/{root['id']}/chain")["items"]
    assert [e["state"] for e in chain] == ["superseded", "current"]
    assert chain[0]["superseded_by"] == chain[1]["id"]


def test_registering_one_name_at_once_has_one_winner(make_fleet):
    fleet = make_fleet("race")
    for round_no in range(3):
        body = {"name": f"same{round_no}"}
        calls = [(lambda b=body: fleet.owner.http("POST", "/v1/agents", b)) for _ in range(5)]
        statuses = race(calls)
        assert sorted(statuses) == [201, 409, 409, 409, 409], statuses


def test_first_put_and_message_read_races_never_fail(crew):
    fleet, agents, _ = crew
    name = f"doc-{secrets.token_hex(3)}"
    statuses = race([(lambda a=a: a.http("PUT", f"/v1/documents/{name}", {"body": a.name, "base_version": 0}))
                     for a in agents])
    assert sorted(statuses) == [201, 409, 409, 409], statuses
    msg = fleet.owner.client.post("/v1/messages", {"recipients": [a.name for a in agents], "subject": "hi"})
    reads = race([(lambda a=a: a.http("POST", f"/v1/messages/{msg['id']}/read")) for a in agents for _ in range(2)])
    assert reads == [200] * 8
