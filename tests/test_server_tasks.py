"""Tasks over HTTP: the transition table, who may act, routing, dependencies, concurrency, cross-fleet."""

from __future__ import annotations

import threading

import pytest

from fleetctl.services import audit


def create(actor, title="t", **fields):
    resp = actor.http("POST", "/v1/tasks", {"title": title, **fields})
    assert resp.status == 201, resp.body
    return resp.body


def act(actor, task_id, action, **fields):
    return actor.http("POST", f"/v1/tasks/{task_id}/actions", {"action": action, **fields})


def ok(actor, task_id, action, **fields):
    resp = act(actor, task_id, action, **fields)
    assert resp.status == 200, (action, resp.body)
    return resp.body


def changes_for(task_id):
    from fleetctl.models.core import Change

    def reader(stream):  # the member a task stream addresses; None for the fleet's review stream
        return int(stream.split("@")[1]) if "@" in stream else None

    return [(reader(c.stream), c.event) for c in Change.select().where(
        Change.kind == "task", Change.ref_id == task_id, Change.stream.startswith("tasks")).order_by(Change.seq)]


def member_id(actor):
    from fleetctl.models.core import Member

    fleet, name = actor.address.split("/")
    return next(m.id for m in Member.select().where(Member.name == name) if m.fleet.name == fleet)


@pytest.fixture
def team(make_fleet):
    fleet = make_fleet("tasks")
    return (fleet, fleet.member("dev", domains=["infra"]), fleet.member("rev", role="reviewer", domains=["infra"]),
            fleet.member("ops", domains=["ops"]))


def test_create_shape_and_review_defaults(team):
    fleet, dev, _, _ = team
    task = create(dev, "Fix deploy", body="**now**", domains=["Infra"], depends_on=[])
    assert task["state"] == "open" and task["priority"] == "normal" and task["review"] == "none"
    assert task["creator"] == dev.address and task["assignee"] is None and task["version"] == 1
    assert task["domains"] == ["infra"] and task["visibility"] == "fleet" and task["depends_on"] == []
    assert [(h["who"], h["action"], h["from"], h["to"]) for h in task["history"]] == [
        (dev.address, "create", None, "open")]
    assert set(task) == {"id", "title", "body", "domains", "priority", "state", "creator", "assignee", "review",
                         "depends_on", "visibility", "version", "created_at", "updated_at", "history"}
    assert create(dev, priority="high")["review"] == "required"
    assert create(dev, priority="urgent")["review"] == "required"
    assert create(dev, priority="low", review="required")["review"] == "required"


def test_only_a_human_waives_review_on_high_stakes(team):
    fleet, dev, rev, _ = team
    resp = dev.http("POST", "/v1/tasks", {"title": "x", "priority": "urgent", "review": "none"})
    assert resp.status == 403 and "waive review" in resp.body["detail"]
    assert create(rev, priority="urgent", review="none")["review"] == "none"


@pytest.mark.parametrize("body, words", [
    ({"title": "  "}, "title must not be empty"),
    ({"title": "x", "priority": "asap"}, "priority"),
    ({"title": "x", "review": "maybe"}, "review"),
    ({"title": "x", "creator": "other/boss"}, "unknown field"),
    ({"title": "x", "assignee": "dev"}, "unknown field"),
    ({"title": "x", "state": "done"}, "unknown field"),
    ({"title": "x", "version": 7}, "unknown field"),
    ({"title": "x", "assign": "dev", "route": True}, "not both"),
    ({"title": "x", "assign": ""}, "member is addressed"),
    ({"title": "x", "depends_on": ["1"]}, "integer"),
    ({"title": "x", "domains": ["Not A Tag"]}, "domain"),
    ({"title": "x" * 301}, "longer than 300"),
])
def test_create_bad_input_is_422(team, body, words):
    resp = team[1].http("POST", "/v1/tasks", body)
    assert resp.status == 422 and words in resp.body["detail"], resp.body


def test_action_bad_input_is_422(team):
    fleet, dev, _, _ = team
    task = create(dev)
    for fields, words in [({"action": "teleport"}, "action"), ({"action": "cancel"}, "reason"),
                          ({"action": "cancel", "reason": " "}, "reason"), ({"action": "reject"}, "reason"),
                          ({"action": "assign"}, "needs a member"), ({"action": "claim", "member": "dev"}, "no member"),
                          ({"action": "claim", "links": ["doc:x"]}, "on submit"), ({"action": "claim", "reason": "x"},
                                                                                    "no reason"),
                          ({"action": "claim", "state": "done"}, "unknown field"),
                          ({"action": "claim", "version": 0}, "at least 1")]:
        resp = dev.http("POST", f"/v1/tasks/{task['id']}/actions", fields)
        assert resp.status == 422 and words in resp.body["detail"], (fields, resp.body)
    assert dev.http("GET", "/v1/tasks?state=finished").status == 422
    assert dev.client.get(f"/v1/tasks/{task['id']}")["version"] == 1


def test_lifecycle_with_review_history_and_events(team):
    fleet, dev, rev, _ = team
    task = create(fleet.owner, "Rotate keys", domains=["infra"], priority="high", assign="dev")
    tid = task["id"]
    assert task["state"] == "assigned" and task["assignee"] == dev.address and task["version"] == 2
    ok(dev, tid, "accept")
    ok(dev, tid, "start")
    assert ok(dev, tid, "submit", note="first try")["state"] == "in_review"
    assert "agents never pass a review gate" in act(dev, tid, "approve").body["detail"]
    assert act(dev, tid, "request-changes", reason="me").status == 403
    assert ok(rev, tid, "request-changes", reason="add tests")["state"] == "in_progress"
    found = dev.client.post("/v1/research", {"title": "Key age", "confidence": 0.8})["id"]
    dev.client.request("PUT", "/v1/documents/runbook", body={"body": "steps"})
    for missing in ("research:999999", "doc:no-such-doc", "doc:other-fleet/spec"):  # an unknown id is 404
        assert act(dev, tid, "submit", links=[missing]).status == 404, missing
    ok(dev, tid, "submit", links=[f"research:{found}", "doc:runbook", f"doc:{fleet.name}/runbook"])
    done = ok(rev, tid, "approve", note="lgtm")
    assert done["state"] == "done" and done["version"] == 8
    assert [(h["action"], h["from"], h["to"], h["note"]) for h in done["history"]] == [
        ("create", None, "open", ""), ("assign", "open", "assigned", ""), ("accept", "assigned", "accepted", ""),
        ("start", "accepted", "in_progress", ""), ("submit", "in_progress", "in_review", "first try"),
        ("request-changes", "in_review", "in_progress", "add tests"), ("submit", "in_progress", "in_review", ""),
        ("approve", "in_review", "done", "lgtm")]
    assert [h["who"] for h in done["history"]][-2:] == [dev.address, rev.address]
    shown = dev.client.get(f"/v1/tasks/{tid}")
    assert shown["links"] == [f"research:{found}", "doc:runbook", f"doc:{fleet.name}/runbook"]
    assert shown["research"] == []
    owner_id, dev_id = member_id(fleet.owner), member_id(dev)
    # each move tells whom it concerns, with its reason or note (DESIGN §3), never the actor itself
    assert changes_for(tid) == [(dev_id, "assigned"), (owner_id, "accepted"), (None, "in_review"),
                                (dev_id, "changes_requested"), (None, "in_review"), (dev_id, "approved"),
                                (owner_id, "done")]


def test_no_review_submit_is_done_and_creator_told_unless_self(team):
    fleet, dev, _, ops = team
    mine = create(dev, domains=["infra"])
    ok(dev, mine["id"], "claim")
    ok(dev, mine["id"], "start")
    assert ok(dev, mine["id"], "submit")["state"] == "done"
    assert changes_for(mine["id"]) == []
    theirs = create(ops, domains=["infra"])
    ok(dev, theirs["id"], "claim")
    ok(dev, theirs["id"], "start")
    ok(dev, theirs["id"], "submit")
    assert changes_for(theirs["id"]) == [(member_id(ops), "claimed"), (member_id(ops), "done")]
    cancelled = create(ops)
    ok(fleet.owner, cancelled["id"], "cancel", reason="dup")
    assert changes_for(cancelled["id"]) == [(member_id(ops), "cancelled")]


def test_wrong_state_is_409_listing_allowed_actions(team):
    fleet, dev, rev, _ = team
    task = create(dev, domains=["infra"])
    resp = act(dev, task["id"], "start")
    assert resp.status == 409 and resp.body["allowed"] == ["assign", "claim", "route", "cancel"]
    assert "assign, claim, route, cancel" in resp.body["detail"]
    ok(dev, task["id"], "cancel", reason="not needed")
    resp = act(dev, task["id"], "cancel", reason="again")
    assert resp.status == 409 and resp.body["allowed"] == []
    assert act(rev, task["id"], "approve").status == 409


def test_wrong_member_is_403(team):
    fleet, dev, rev, ops = team
    task = create(rev, "infra job", domains=["infra"])
    tid = task["id"]
    assert act(ops, tid, "claim").status == 403  # no shared domain
    assert act(ops, tid, "assign", member="dev").status == 403  # not creator or owner
    assert act(ops, tid, "cancel", reason="mine now").status == 403
    assert act(ops, tid, "route").status == 403
    ok(rev, tid, "assign", member="dev")
    for who, action, extra in [(ops, "accept", {}), (rev, "accept", {}), (ops, "reject", {"reason": "x"})]:
        resp = act(who, tid, action, **extra)
        assert resp.status == 403 and "assignee" in resp.body["detail"], resp.body
    ok(dev, tid, "accept")
    assert act(ops, tid, "start").status == 403
    assert dev.client.get(f"/v1/tasks/{tid}")["version"] == 3


def test_assignee_who_is_a_reviewer_cannot_approve_own_work(team):
    fleet, dev, rev, _ = team
    task = create(fleet.owner, priority="high", assign="rev")
    for action in ("accept", "start", "submit"):
        ok(rev, task["id"], action)
    resp = act(rev, task["id"], "approve")
    assert resp.status == 403 and "own work" in resp.body["detail"]
    assert act(rev, task["id"], "request-changes", reason="self").status == 403
    assert ok(fleet.owner, task["id"], "approve")["state"] == "done"


def test_reject_reopens_and_clears_assignee(team):
    fleet, dev, _, _ = team
    task = create(fleet.owner, assign="dev")
    back = ok(dev, task["id"], "reject", reason="busy")
    assert back["state"] == "open" and back["assignee"] is None
    assert back["history"][-1] == {**back["history"][-1], "action": "reject", "note": "busy", "to": "open"}


def test_claim_race_has_exactly_one_winner(make_fleet):
    fleet = make_fleet("race")
    agents = [fleet.member(f"a{i}", domains=["infra"]) for i in range(8)]
    task = create(fleet.owner, "one winner", domains=["infra"])
    barrier = threading.Barrier(len(agents))
    statuses: dict[str, int] = {}

    def claim(agent):
        barrier.wait()
        statuses[agent.address] = act(agent, task["id"], "claim").status

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [addr for addr, status in statuses.items() if status == 200]
    assert len(winners) == 1 and sorted(statuses.values()) == [200] + [409] * 7, statuses
    final = fleet.owner.client.get(f"/v1/tasks/{task['id']}")
    assert final["assignee"] == winners[0] and final["version"] == 2
    assert [h["action"] for h in final["history"]] == ["create", "claim"]


def test_version_is_compare_and_set(team):
    fleet, dev, _, _ = team
    task = create(fleet.owner, assign="dev")
    resp = act(dev, task["id"], "accept", version=1)
    assert resp.status == 409 and resp.body["version"] == 2
    assert ok(dev, task["id"], "accept", version=2)["version"] == 3


def test_route_best_match_then_fewest_active(make_fleet):
    fleet = make_fleet("route")
    one = fleet.member("one", domains=["infra"])
    fleet.member("two", domains=["infra", "db"])
    fleet.member("three", domains=["infra", "db"])
    fleet.member("gone", domains=["infra", "db", "api"]).client.get("/v1/whoami")
    fleet.owner.client.post("/v1/agents/gone/revoke")
    creator = fleet.member("boss", domains=["infra", "db", "api"])
    first = create(creator, domains=["infra", "db", "api"], route=True)
    assert first["assignee"] == f"{fleet.name}/two" and first["history"][-1]["action"] == "route"
    second = create(creator, domains=["infra", "db"])
    assert ok(creator, second["id"], "route")["assignee"] == f"{fleet.name}/three"  # two has one active task
    assert create(creator, domains=["infra"], route=True)["assignee"] == one.address
    lonely = create(creator, domains=["graphics"])
    resp = act(creator, lonely["id"], "route")
    assert resp.status == 409 and "stays open" in resp.body["detail"]
    assert creator.client.get(f"/v1/tasks/{lonely['id']}")["state"] == "open"
    before = len(creator.client.get("/v1/tasks", mine=True)["items"])
    assert creator.http("POST", "/v1/tasks", {"title": "x", "domains": ["graphics"], "route": True}).status == 409
    assert len(creator.client.get("/v1/tasks", mine=True)["items"]) == before  # nothing created
    assert act(creator, create(creator)["id"], "route").status == 409  # no domains to route by


def test_dependencies_gate_start_and_ready(team):
    fleet, dev, _, _ = team
    first = create(dev, "first", domains=["infra"])
    second = create(dev, "second", domains=["infra"], depends_on=[first["id"]])
    assert second["depends_on"] == [first["id"]]
    ready_ids = [t["id"] for t in dev.client.get("/v1/tasks/ready")["items"]]
    assert first["id"] in ready_ids and second["id"] not in ready_ids
    ok(dev, second["id"], "claim")
    resp = act(dev, second["id"], "start")
    assert resp.status == 409 and str(first["id"]) in resp.body["detail"] and resp.body["unfinished"] == [first["id"]]
    assert second["id"] not in [t["id"] for t in dev.client.get("/v1/tasks/ready")["items"]]
    for action in ("claim", "start", "submit"):
        ok(dev, first["id"], action)
    assert second["id"] in [t["id"] for t in dev.client.get("/v1/tasks/ready")["items"]]
    assert ok(dev, second["id"], "start")["state"] == "in_progress"
    assert dev.http("POST", "/v1/tasks", {"title": "x", "depends_on": [10**9]}).status == 404
    assert dev.http("POST", "/v1/tasks", {"title": "x", "depends_on": [10**30]}).status in (404, 422)  # never 500


def test_ready_lists_claimable_and_mine_only(team):
    fleet, dev, _, ops = team
    infra = create(fleet.owner, domains=["infra"])
    anyone = create(fleet.owner)
    other = create(fleet.owner, domains=["ops"])
    mine = create(fleet.owner, domains=["ops"], assign="dev")
    busy = create(fleet.owner, domains=["infra"], assign="ops")
    ids = [t["id"] for t in dev.client.get("/v1/tasks/ready")["items"]]
    assert infra["id"] in ids and anyone["id"] in ids and mine["id"] in ids
    assert other["id"] not in ids and busy["id"] not in ids
    assert ids == sorted(ids)  # oldest first


def test_list_filters(team):
    fleet, dev, rev, ops = team
    a = create(dev, domains=["infra"])
    b = create(ops, domains=["ops"], assign="dev")
    c = create(ops, domains=["ops"])
    mine = [t["id"] for t in dev.client.get("/v1/tasks", mine="true")["items"]]
    assert mine == [b["id"], a["id"]]
    by_domain = [t["id"] for t in dev.client.get("/v1/tasks", domain="ops")["items"]]
    assert c["id"] in by_domain and b["id"] in by_domain and a["id"] not in by_domain
    assert [t["id"] for t in dev.client.get("/v1/tasks", state="assigned")["items"]] == [b["id"]]
    page = dev.client.get("/v1/tasks", limit=1)
    assert len(page["items"]) == 1 and page["next"] == page["items"][0]["id"]
    assert page["items"][0]["history_count"] == 1 and "history" not in page["items"][0]


def test_other_fleet_cannot_see_fleet_only_task(team, make_fleet):
    fleet, dev, _, _ = team
    task = create(dev, domains=["infra"])
    outsider = make_fleet("outside")
    spy = outsider.member("spy", domains=["infra"], cross_fleet=True)
    for who in (spy, outsider.owner):
        assert who.http("GET", f"/v1/tasks/{task['id']}").status == 404
        assert act(who, task["id"], "claim").status == 404
        assert act(who, task["id"], "cancel", reason="x").status == 404
        assert task["id"] not in [t["id"] for t in who.client.get("/v1/tasks")["items"]]
    assert spy.http("POST", "/v1/tasks", {"title": "x", "depends_on": [task["id"]]}).status == 404


def test_cross_fleet_assignment_follows_policy(team, make_fleet):
    fleet, dev, rev, _ = team
    other = make_fleet("partner")
    closed = other.member("closed", domains=["infra"])
    picky = other.member("picky", domains=["infra"], cross_fleet=True, allow_fleets=["somebody-else"])
    narrow = other.member("narrow", domains=["db"], cross_fleet=True)
    helper = other.member("helper", domains=["infra"], cross_fleet=True, allow_fleets=[fleet.name])
    task = create(rev, "Help us", domains=["infra"], priority="high")
    for target, rule in [(closed, "rule: cross_fleet"), (picky, "rule: allow_fleets"), (narrow, "rule: domains")]:
        resp = act(rev, task["id"], "assign", member=target.address)
        assert resp.status == 403 and rule in resp.body["detail"], resp.body
    assert act(rev, task["id"], "assign", member=f"{other.name}/nobody").status == 404
    audit.writer.flush()
    from fleetctl.models.core import AuditEntry

    refused = AuditEntry.select().where(AuditEntry.member == rev.address, AuditEntry.status == 403)
    assert {(e.action, e.resource) for e in refused} == {("task.assign", f"task:{task['id']}")}
    assert ok(rev, task["id"], "assign", member=helper.address)["assignee"] == helper.address
    # The fleet-only task is now visible to its cross-fleet assignee, who can act on it.
    assert helper.client.get(f"/v1/tasks/{task['id']}")["title"] == "Help us"
    assert task["id"] in [t["id"] for t in helper.client.get("/v1/tasks/ready")["items"]]
    for action in ("accept", "start", "submit"):
        ok(helper, task["id"], action)
    assert other.owner.http("GET", f"/v1/tasks/{task['id']}").status == 404
    assert changes_for(task["id"])[0] == (member_id(helper), "assigned")
    assert ok(rev, task["id"], "approve")["state"] == "done"


def test_cross_fleet_task_claimable_by_matching_cross_fleet_member(team, make_fleet):
    fleet, dev, _, _ = team
    task = create(dev, "Shared", domains=["infra"], visibility="cross-fleet")
    other = make_fleet("peer")
    peer = other.member("peer", domains=["infra"], cross_fleet=True)
    reviewer = other.member("peerrev", role="reviewer", domains=["infra"], cross_fleet=True)
    assert other.member("local", domains=["infra"]).http("GET", f"/v1/tasks/{task['id']}").status == 404
    assert task["id"] in [t["id"] for t in peer.client.get("/v1/tasks/ready")["items"]]
    assert act(reviewer, task["id"], "cancel", reason="x").status == 403
    ok(peer, task["id"], "claim")
    ok(peer, task["id"], "start")
    resp = act(reviewer, task["id"], "request-changes", reason="x")
    assert resp.status == 409  # not in review: review none, submit closes it
    assert ok(peer, task["id"], "submit")["state"] == "done"


def test_cross_fleet_reviewer_cannot_pass_anothers_gate(team, make_fleet):
    fleet, dev, _, _ = team
    task = create(dev, "Shared review", domains=["infra"], priority="high", visibility="cross-fleet")
    other = make_fleet("peer")
    reviewer = other.member("peerrev", role="reviewer", domains=["infra"], cross_fleet=True)
    ok(dev, task["id"], "claim")
    ok(dev, task["id"], "start")
    ok(dev, task["id"], "submit")
    resp = act(reviewer, task["id"], "approve")
    assert resp.status == 403 and "own fleet" in resp.body["detail"]


def test_openapi_documents_task_routes(server):
    from conftest import http_request

    paths = http_request(server.url, "GET", "/v1/openapi.json").body["paths"]
    assert {"/v1/tasks", "/v1/tasks/ready", "/v1/tasks/{id}", "/v1/tasks/{id}/actions"} <= set(paths)
    schema = paths["/v1/tasks/{id}/actions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "request-changes" in schema["properties"]["action"]["enum"]


def test_show_lists_research_linked_to_the_task(team):
    fleet, dev, rev, _ = team
    task = create(dev, "Investigate", domains=["infra"])
    other = create(dev, "Unrelated")
    research = dev.http("POST", "/v1/research", {"title": "Findings", "confidence": 0.7, "task": task["id"]})
    assert research.status == 201, research.body
    assert rev.client.get(f"/v1/tasks/{task['id']}")["research"] == [research.body["id"]]
    assert rev.client.get(f"/v1/tasks/{other['id']}")["research"] == []
