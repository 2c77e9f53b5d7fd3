"""The wake's delivery guarantee (DESIGN §3), tried by breaking it: backlogs handed over part by part,
exactly once; other fleets' and members' traffic; every notification with its reason; current truth
only; acknowledgements that move exactly what a peek held; bad cursors; an upgraded database."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

NEWS = ("breaking", "messages", "tasks", "research", "knowledge", "documents")


def wake(actor, **body):
    return actor.client.post("/v1/wake", body)


def peek(actor, **params):
    return actor.client.get("/v1/wake", **params)


def handed(data) -> list[tuple]:
    """`(section, id, event)` of every news item a wake holds, in prompt order."""
    return [(key, item["id"], item.get("event")) for key in NEWS for item in data["sections"][key]]


def drain(actor, max_chars: int, limit: int = 400) -> list[tuple]:
    """Wake until nothing is pending; every part is checked against its own prompt."""
    got = []
    for _ in range(limit):
        data = wake(actor, max_chars=max_chars)
        items = handed(data)
        for key, item_id, _ in items:
            assert f"#{item_id} " in data["prompt"] or key == "documents", (key, item_id)
        if data["waiting"]:
            assert data["prompt"].endswith(f"{data['waiting']} item{'s' if data['waiting'] != 1 else ''} "
                                           "still waiting: `fleetctl wake` hands over the next part.")
            assert items, "a wake with news pending handed nothing over"
        got += items
        if data["empty"]:
            return got
    raise AssertionError("the backlog never drained")


FAST = 1_000_000  # requests/min: these tests write a lot, rate limits are not what they are about


def quiet(fleet, name, **fields):
    actor = fleet.member(name, rate_limit=FAST, **fields)
    wake(actor, max_chars=1_000_000)
    return actor


@pytest.fixture
def backlog(make_fleet):
    """An agent with several hundred pending items in every section, and what each should be."""
    home, other = make_fleet("bk", rate_limit=FAST), make_fleet("bko", rate_limit=FAST)
    owner = quiet(home, "writer", role="owner")
    agent = quiet(home, "agent", domains=["wk-infra"], cross_fleet=True)
    quiet(home, "peer", domains=["wk-infra"])
    rev = quiet(home, "rev", role="reviewer", domains=["wk-infra"])
    outsider = other.owner
    expected = []
    for n in range(20):
        e = owner.client.post("/v1/knowledge", {"kind": "breaking", "title": f"breaking {n}", "domains": ["wk-infra"]})
        expected.append(("breaking", e["id"], "published"))
    for n in range(5):  # cross-fleet news from another fleet
        e = outsider.client.post("/v1/knowledge", {"kind": "breaking", "title": f"their breaking {n}",
                                                   "domains": ["wk-infra"], "visibility": "cross-fleet"})
        expected.append(("breaking", e["id"], "published"))
    for n in range(110):
        m = owner.client.post("/v1/messages", {"recipients": ["agent"], "subject": f"message {n} " + "m" * 40})
        expected.append(("messages", m["id"], "received"))
    for n in range(40):
        t = owner.client.post("/v1/tasks", {"title": f"task {n}", "assign": "agent"})
        expected.append(("tasks", t["id"], "assigned"))
    for n in range(30):
        r = rev.client.post("/v1/research", {"title": f"research {n}", "confidence": 0.5, "reviewers": ["agent"]})
        expected.append(("research", r["id"], "review_requested"))
    for n in range(60):
        e = owner.client.post("/v1/knowledge", {"kind": ("tip", "gotcha", "fix")[n % 3], "title": f"tip {n}"})
        expected.append(("knowledge", e["id"], "published"))
    for n in range(30):
        d = owner.client.request("PUT", f"/v1/documents/doc-{n}", {"body": f"v1 of {n}", "domains": ["wk-infra"]})
        expected.append(("documents", d["id"], "version"))
    return agent, owner, expected


@pytest.mark.slow
def test_a_large_backlog_is_handed_over_exactly_once_in_small_parts(backlog):
    agent, owner, expected = backlog
    assert len(expected) == 295
    first = peek(agent, max_chars=1500)
    assert not first["empty"] and first["waiting"] > 200 and len(first["prompt"]) <= 1500
    got = drain(agent, max_chars=1500)
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))  # every item, exactly once
    for key in NEWS:  # oldest first within each section
        ids = [i for k, i, _ in got if k == key]
        assert ids == sorted(ids), key
    assert peek(agent)["empty"] is True
    assert all(m["delivered_at"] for m in agent.client.get("/v1/messages", limit=200)["items"])


@pytest.mark.slow
def test_news_written_while_draining_is_not_lost(backlog):
    agent, owner, expected = backlog
    got = handed(wake(agent, max_chars=1000))
    late = owner.client.post("/v1/messages", {"recipients": ["agent"], "subject": "late news"})
    got += drain(agent, max_chars=2000)
    assert sorted(got) == sorted(expected + [("messages", late["id"], "received")])


@pytest.mark.slow
def test_ack_of_a_truncated_peek_hands_over_only_what_it_held(backlog):
    agent, owner, expected = backlog
    held = peek(agent, max_chars=700)
    shown = handed(held)
    assert shown and held["waiting"] == len(expected) - len(shown)
    assert agent.client.post("/v1/wake/ack", {"cursor": held["cursor"]})["moved"] is True
    rest = drain(agent, max_chars=4000)
    assert not set(shown) & set(rest) and sorted(shown + rest) == sorted(expected)
    assert rest[0][0] == "breaking" or shown[-1][0] != "breaking"  # what was cut comes first


@pytest.mark.slow
def test_a_daemon_style_peek_and_ack_loop_drains_everything(backlog):
    agent, owner, expected = backlog
    got = []
    while not (data := peek(agent, max_chars=3000))["empty"]:
        got += handed(data)
        agent.client.post("/v1/wake/ack", {"cursor": data["cursor"]})
    assert sorted(got) == sorted(expected)


@pytest.mark.slow
def test_nobody_elses_traffic_hides_news(make_fleet, server):
    """The issue's reproduction, then thousands of changes of other fleets and members in between."""
    from fleetctl import db
    from fleetctl.models.core import Fleet, Member
    from fleetctl.services import changes, wake_streams

    acme, labs, noisy = (make_fleet(name, rate_limit=FAST) for name in ("acme", "labs", "noisy"))
    loud = quiet(noisy, "loud", role="owner")
    boss = quiet(labs, "boss", role="owner")
    reader = quiet(labs, "reader", domains=["wk-infra"], cross_fleet=True)
    mate = quiet(labs, "mate", domains=["wk-infra"])
    entry = acme.owner.client.post("/v1/knowledge", {"kind": "breaking", "title": "certs rotate",
                                                     "domains": ["wk-infra"], "visibility": "cross-fleet"})
    msg = labs.owner.client.post("/v1/messages", {"recipients": ["reader"], "subject": "for you"})
    task = labs.owner.client.post("/v1/tasks", {"title": "for you too", "assign": "reader"})
    for n in range(160):  # another fleet's fleet-only tips and internal messages
        loud.client.post("/v1/knowledge", {"kind": "tip", "title": f"noise {n}", "domains": ["wk-infra"]})
        loud.client.post("/v1/messages", {"recipients": ["owner"], "subject": f"noise {n}"})
    for n in range(40):  # other members of the same fleet
        boss.client.post("/v1/messages", {"recipients": ["mate"], "subject": f"not yours {n}"})
    fleets = {f.name: f.id for f in Fleet.select().where(Fleet.name.in_([noisy.name, labs.name]))}
    mate_id = Member.get(Member.name == "mate", Member.fleet == fleets[labs.name]).id
    with db.write():  # and thousands more, through the one recording entry point
        for n in range(3000):
            changes.record("knowledge", 10**9 + n, fleets[noisy.name], "published",
                           wake_streams.broadcast("knowledge", fleets[noisy.name], ["wk-infra"], "fleet")
                           + wake_streams.broadcast("breaking", fleets[noisy.name], ["wk-pay"], "cross-fleet"))
            changes.record("message", 10**9 + n, fleets[labs.name], "received",
                           [wake_streams.to_member("messages", mate_id)])
    data = peek(reader)
    assert [i["id"] for i in data["sections"]["breaking"]] == [entry["id"]]
    assert [i["id"] for i in data["sections"]["messages"]] == [msg["id"]]
    assert [i["id"] for i in data["sections"]["tasks"]] == [task["id"]]
    assert data["waiting"] == 0 and data["sections"]["knowledge"] == []
    assert wake(reader)["prompt"] == data["prompt"] and peek(reader)["empty"] is True
    assert len(peek(mate, max_chars=1_000_000)["sections"]["messages"]) == 25  # a page; the rest waits


def notes(actor) -> dict:
    """`(section, id, event) -> item` of what the next wake hands over."""
    data = wake(actor, max_chars=1_000_000)
    return {(k, i["id"], i.get("event")): {**i, "_prompt": data["prompt"]} for k in NEWS for i in data["sections"][k]}


def test_every_notification_reaches_its_member_with_its_reason(make_fleet):
    fleet = make_fleet("nt")
    owner = fleet.owner
    boss = quiet(fleet, "boss", role="reviewer")
    dev = quiet(fleet, "dev", domains=["wk-infra"])
    other = quiet(fleet, "other", domains=["wk-pay"])
    creator = quiet(fleet, "maker")
    wake(owner)

    def task(title, **fields):
        return creator.client.post("/v1/tasks", {"title": title, "assign": "dev", **fields})

    def move(actor, t, action, **fields):
        return actor.client.post(f"/v1/tasks/{t['id']}/actions", {"action": action, **fields})

    approved, cancelled, sent_back, rejected = (task("approve me", review="required"), task("cancel me"),
                                                task("send me back", review="required"), task("reject me"))
    for t in (approved, cancelled, sent_back):
        move(dev, t, "accept")
    for t in (approved, sent_back):
        move(dev, t, "start")
        move(dev, t, "submit")
    move(boss, approved, "approve", note="ship it")
    move(creator, cancelled, "cancel", reason="the customer withdrew")
    move(boss, sent_back, "request-changes", reason="add a rollback plan")
    move(dev, rejected, "reject", reason="not my area")
    got = notes(dev)
    assert got["tasks", approved["id"], "approved"]["note"] == "ship it"
    assert got["tasks", cancelled["id"], "cancelled"]["note"] == "the customer withdrew"
    assert got["tasks", sent_back["id"], "changes_requested"]["note"] == "add a rollback plan"
    prompt = got["tasks", approved["id"], "approved"]["_prompt"]
    for text in ('"ship it"', '"the customer withdrew"', '"add a rollback plan"', f"by {boss.address}"):
        assert text in prompt, text
    got = notes(creator)
    assert {k[1:] for k in got if k[0] == "tasks"} == {
        (approved["id"], "accepted"), (cancelled["id"], "accepted"), (sent_back["id"], "accepted"),
        (approved["id"], "done"), (rejected["id"], "rejected")}
    assert got["tasks", rejected["id"], "rejected"]["note"] == "not my area"
    assert '"not my area"' in got["tasks", rejected["id"], "rejected"]["_prompt"]
    cancel_assigned = task("cancel assigned")
    move(owner, cancel_assigned, "cancel", reason="duplicate of another")
    assert notes(creator)["tasks", cancel_assigned["id"], "cancelled"]["note"] == "duplicate of another"
    assert notes(dev)["tasks", cancel_assigned["id"], "cancelled"]["note"] == "duplicate of another"
    # research: reviewers when review is requested, the author for each review with verdict and comment
    r = dev.client.post("/v1/research", {"title": "why slow", "confidence": 0.6, "reviewers": ["boss"]})
    assert ("research", r["id"], "review_requested") in notes(boss)
    boss.client.post(f"/v1/research/{r['id']}/reviews", {"verdict": "request-changes", "comment": "more data"})
    seen = notes(dev)["research", r["id"], "reviewed"]
    assert (seen["verdict"], seen["comment"], seen["reviewer"]) == ("request-changes", "more data", boss.address)
    assert '"more data"' in seen["_prompt"] and f"fleetctl research publish --revises {r['id']}" in seen["_prompt"]
    dev.client.post(f"/v1/research/{r['id']}/revisions", {"body": "more data"})
    assert ("research", r["id"], "review_requested") in notes(boss)  # asked again
    boss.client.post(f"/v1/research/{r['id']}/reviews", {"verdict": "approve", "comment": "convincing"})
    assert notes(dev)["research", r["id"], "reviewed"]["comment"] == "convincing"
    # members whose domains match new knowledge and documents; not the others, not the author
    tip = owner.client.post("/v1/knowledge", {"kind": "tip", "title": "infra tip", "domains": ["wk-infra"]})
    owner.client.request("PUT", "/v1/documents/runbook", {"body": "v1", "domains": ["wk-infra"]})
    got = notes(dev)
    assert ("knowledge", tip["id"], "published") in got
    assert [k for k in got if k[0] == "documents"][0][2] == "version"
    assert not [k for k in notes(other) if k[0] in ("knowledge", "documents")]
    assert not [k for k in notes(owner) if k[0] in ("knowledge", "documents")]


def test_only_current_truth_is_news_and_the_pin_follows(make_fleet):
    fleet = make_fleet("ct")
    owner = fleet.owner
    dev = quiet(fleet, "dev")
    old = owner.client.post("/v1/knowledge", {"kind": "gotcha", "title": "old advice", "pinned": True})
    new = owner.client.post("/v1/knowledge", {"kind": "gotcha", "title": "new advice", "supersedes": old["id"]})
    gone = owner.client.post("/v1/knowledge", {"kind": "tip", "title": "retired soon"})
    owner.client.post(f"/v1/knowledge/{gone['id']}/retire")
    brief = owner.client.post("/v1/knowledge", {"kind": "breaking", "title": "expires", "expires_in": "1s"})
    time.sleep(1.2)
    data = wake(dev)
    assert [i["id"] for i in data["sections"]["knowledge"]] == [new["id"]]
    assert data["sections"]["breaking"] == [] and brief["id"]
    assert f"(replaces #{old['id']})" in data["prompt"]
    assert [i["id"] for i in data["sections"]["pinned"]] == [new["id"]]  # the pin followed the replacement
    assert new["pinned"] is True
    # an entry superseded after it was handed over is not news again; its replacement is
    newer = owner.client.post("/v1/knowledge", {"kind": "gotcha", "title": "newest", "supersedes": new["id"]})
    again = wake(dev)
    assert [i["id"] for i in again["sections"]["knowledge"]] == [newer["id"]]
    assert [i["id"] for i in again["sections"]["pinned"]] == [newer["id"]]


def problem(actor, cursor):
    resp = actor.http("POST", "/v1/wake/ack", {"cursor": cursor})
    assert resp.status == 422 and resp.getheader("Content-Type") == "application/problem+json", resp.body
    assert "\n" not in resp.body["detail"]
    return resp.body["detail"]


def test_bad_cursors_are_refused_and_move_nothing(make_fleet):
    fleet = make_fleet("bc")
    a, b = quiet(fleet, "a"), quiet(fleet, "b")
    for n in range(3):
        fleet.owner.client.post("/v1/messages", {"recipients": ["a", "b"], "subject": f"hello {n}"})
    mine, theirs = peek(a, max_chars=200), peek(b, max_chars=200)
    member, before, after = mine["cursor"].split(":")
    assert "another member" in problem(a, theirs["cursor"])
    future = f"{member}:{before}:" + ".".join(str(int(n) + 10**9) for n in after.split("."))
    assert "beyond the newest change" in problem(a, future)
    backwards = f"{member}:{after}:{before}"
    for bad in ("", "12", "x:1.2.3.4.5.6:1.2.3.4.5.6", mine["cursor"] + ".7", backwards, " " + mine["cursor"]):
        problem(a, bad)
    assert peek(a, max_chars=200) == mine  # nothing moved
    assert a.client.post("/v1/wake/ack", {"cursor": mine["cursor"]}) == {"cursor": mine["cursor"], "moved": True}
    assert a.client.post("/v1/wake/ack", {"cursor": mine["cursor"]})["moved"] is False  # twice: harmless
    again = peek(a, max_chars=200)
    wake(a, max_chars=300)  # another wake hands over more than that peek held: the peek is now stale
    fleet.owner.client.post("/v1/messages", {"recipients": ["a"], "subject": "later"})
    moved = peek(a)
    assert "stale" in problem(a, again["cursor"])
    assert peek(a) == moved  # nothing moved
    assert a.client.post("/v1/wake/ack", {"cursor": moved["cursor"]})["moved"] is True


def test_commands_mcp_names_tool_calls(make_fleet):
    fleet = make_fleet("mc")
    dev = quiet(fleet, "dev")
    t = fleet.owner.client.post("/v1/tasks", {"title": "do it", "assign": "dev"})
    m = fleet.owner.client.post("/v1/messages", {"recipients": ["dev"], "subject": "hi"})
    prompt = peek(dev, commands="mcp", max_chars=300)["prompt"]
    assert f'`fleet_read {{"type": "message", "id": {m["id"]}}}`' in prompt
    assert "`fleet_wake {}` hands over the next part." in prompt and "fleetctl" not in prompt
    full = wake(dev, commands="mcp")
    actions = {a["action"]: a for a in full["sections"]["tasks"][0]["actions"]}
    assert actions["accept"]["command"] == f'fleet_task_action {{"id": {t["id"]}, "action": "accept"}}'
    assert actions["reject"]["arguments"] == {"id": t["id"], "action": "reject", "reason": "declined by the assignee"}
    assert actions["show"]["tool"] == "fleet_read"


UPGRADE = textwrap.dedent('''
    import sys
    from fleetctl import db, migrations
    from fleetctl.models.core import Change, Fleet, Member
    from fleetctl.models.wake import WakeCursor

    db.database.initialize(db.make_database(sys.argv[1]))
    everything = migrations.MIGRATIONS
    migrations.MIGRATIONS = everything[:8]
    db.migrate()
    for column in ("stream", "note", "actor"):  # the change table as releases before migration 9 made it
        db.database.execute_sql(f'ALTER TABLE "change" DROP COLUMN {column}')
    fleet = Fleet.create(name="old")
    owner = Member.create(fleet=fleet, name="owner", role="owner")
    agent = Member.create(fleet=fleet, name="agent")
    db.database.execute_sql('INSERT INTO "change" (fleet_id, kind, ref_id, member_id, event, created_at) '
                            "VALUES (%d, 'message', 1, %d, 'received', '2026-01-01 00:00:00')" % (fleet.id, agent.id))
    WakeCursor.create(member=agent, cursor=1)
    migrations.MIGRATIONS = everything
    assert db.migrate()[0] == "0009_wake_streams"  # then the later steps
    from fleetctl.services import messages, wake
    assert wake.peek(agent)["empty"] is True
    messages.send(owner, ["agent"], "after the upgrade")
    woken = wake.wake(agent)
    assert [m["subject"] for m in woken["sections"]["messages"]] == ["after the upgrade"], woken
    assert wake.peek(agent)["empty"] is True
    print("upgraded")
''')


def test_an_upgraded_database_keeps_waking(server, tmp_path):
    from conftest import PG_ADMIN_URL, create_pg_database

    url = create_pg_database() if server.engine == "postgres" else str(tmp_path / "old.db")
    try:
        done = subprocess.run([sys.executable, "-c", UPGRADE, url], capture_output=True, text=True, timeout=120)
    finally:
        if server.engine == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    assert done.returncode == 0 and "upgraded" in done.stdout, done.stderr


@pytest.mark.slow
def test_concurrent_wakes_of_one_member_never_hand_an_item_over_twice(backlog):
    import threading

    agent, owner, expected = backlog
    got, errors, lock = [], [], threading.Lock()

    def waker() -> None:
        try:
            while True:
                data = wake(agent, max_chars=2500)
                with lock:
                    got.extend(handed(data))
                if data["empty"]:
                    return
        except Exception as exc:  # reported below: a thread's assertion would be lost
            errors.append(exc)

    threads = [threading.Thread(target=waker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(got) == len(set(got)) and sorted(got) == sorted(expected)
