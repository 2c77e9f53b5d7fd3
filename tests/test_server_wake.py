"""The wake prompt over HTTP: sections for the right members only, cursor, peek, ack, budget.

Delivery guarantees (backlogs, other fleets' traffic, every notification) are in test_wake_delivery.py,
suggested commands in test_wake_commands.py."""

from __future__ import annotations

import pytest

SECTIONS = ("breaking", "messages", "tasks", "research", "knowledge", "documents", "pinned")


def peek(actor, **params):
    return actor.client.get("/v1/wake", **params)


def ids(wake, section):
    return [item["id"] for item in wake["sections"][section]]


def publish(actor, kind, title, **fields):
    return actor.client.post("/v1/knowledge", {"kind": kind, "title": title, **fields})


@pytest.fixture
def world(make_fleet):
    """Two fleets with members of every kind the visibility rules tell apart."""
    a, b = make_fleet("wa"), make_fleet("wb")
    return {
        "a": a, "b": b,
        "scout": a.member("scout", domains=["infra"]),
        "payer": a.member("payer", domains=["pay"]),
        "xa": a.member("xa", domains=["infra"], cross_fleet=True),
        "xb": b.member("xb", domains=["infra"], cross_fleet=True),
        "nb": b.member("nb", domains=["infra"]),
        "wb": b.member("wb", domains=["pay"], cross_fleet=True),
    }


def test_shape_and_empty_wake(make_fleet):
    fleet = make_fleet()
    agent = fleet.member("fresh", domains=["infra"])
    data = agent.client.post("/v1/wake")
    assert set(data) == {"cursor", "empty", "prompt", "sections", "counts", "waiting"}
    assert tuple(data["sections"]) == SECTIONS and tuple(data["counts"]) == SECTIONS
    again = agent.client.post("/v1/wake")
    assert again["empty"] is True and all(v == [] for k, v in again["sections"].items() if k != "pinned")
    assert again["prompt"] == f"# Fleet wake for {agent.address}: nothing new since your last wake."
    assert isinstance(again["cursor"], str) and again["waiting"] == 0


def test_breaking_reaches_exactly_the_right_members(world):
    a = world["a"].owner
    for name in ("scout", "payer", "xa", "xb", "nb", "wb"):
        world[name].client.post("/v1/wake")  # start every cursor after older tests' news
    cross = publish(a, "breaking", "TLS certs rotate tonight", domains=["infra"], visibility="cross-fleet")
    local = publish(a, "breaking", "deploy script wipes /tmp", domains=["infra"])
    untagged = publish(a, "breaking", "staging is down")
    seen = {name: ids(peek(world[name]), "breaking")
            for name in ("scout", "payer", "xa", "xb", "nb", "wb")}
    assert seen["scout"] == [cross["id"], local["id"], untagged["id"]]  # oldest first
    assert seen["xa"] == seen["scout"]
    assert seen["payer"] == [untagged["id"]]  # own fleet: untagged reaches everyone, pay not infra
    assert seen["xb"] == [cross["id"]]  # other fleet, cross-fleet, shares infra
    assert seen["nb"] == [] and seen["wb"] == []  # not cross-fleet / no shared domain
    item = peek(world["xb"])["sections"]["breaking"][0]
    assert item == {**item, "id": cross["id"], "kind": "breaking", "title": "TLS certs rotate tonight",
                    "author": a.address, "state": "current", "command": f"fleetctl knowledge show {cross['id']}",
                    "actions": [{"action": "read", "command": f"fleetctl knowledge show {cross['id']}"}]}
    assert f"fleetctl knowledge show {cross['id']}" in peek(world["xb"])["prompt"]
    # the author's own publishes are not news to itself
    assert ids(peek(a), "breaking") == []


def test_knowledge_section_and_supersede(world):
    a, scout, payer = world["a"].owner, world["scout"], world["payer"]
    scout.client.post("/v1/wake")
    payer.client.post("/v1/wake")
    old = publish(a, "gotcha", "pip cache fills disk", domains=["infra"])
    scout.client.post("/v1/wake")
    new = publish(a, "gotcha", "pip cache fills /var", supersedes=old["id"])
    publish(a, "tip", "use the pay sandbox", domains=["pay"])
    wake = peek(scout)
    assert ids(wake, "knowledge") == [new["id"]]  # the superseded entry is never news
    assert f"#{new['id']} [gotcha] pip cache fills /var by {a.address} (replaces #{old['id']})" in wake["prompt"]
    assert [i["title"] for i in peek(payer)["sections"]["knowledge"]] == ["use the pay sandbox"]


def test_messages_section_marks_delivered_only_on_advance(world):
    a, scout = world["a"].owner, world["scout"]
    scout.client.post("/v1/wake")
    msg = a.client.post("/v1/messages", {"recipients": ["scout"], "subject": "rollout at 5", "body": "be ready"})
    first = peek(scout)
    assert first["sections"]["messages"] == [{**first["sections"]["messages"][0], "id": msg["id"],
                                              "subject": "rollout at 5", "sender": a.address,
                                              "command": f"fleetctl msg read {msg['id']}"}]
    assert peek(scout) == first  # peek has no side effect at all
    assert scout.client.get(f"/v1/messages/{msg['id']}")["delivered_at"] is None
    woken = scout.client.post("/v1/wake")
    assert ids(woken, "messages") == [msg["id"]] and woken["cursor"] == first["cursor"]
    assert scout.http("POST", "/v1/wake/ack", {"cursor": first["cursor"]}).body == \
        {"cursor": first["cursor"], "moved": False}  # acknowledging what was handed over again is harmless
    assert scout.client.get(f"/v1/messages/{msg['id']}")["delivered_at"] is not None
    assert peek(scout)["empty"] is True
    # other members never see it
    assert ids(peek(world["payer"]), "messages") == [] and ids(peek(world["xb"]), "messages") == []


def test_message_fetched_by_inbox_is_not_news(world):
    a, scout = world["a"].owner, world["scout"]
    scout.client.post("/v1/wake")
    a.client.post("/v1/messages", {"recipients": ["scout"], "subject": "already seen"})
    scout.client.get("/v1/messages")  # listing marks delivered
    assert peek(scout)["empty"] is True


def test_tasks_section_follows_the_review_flow(world):
    fleet = world["a"]
    owner, scout = fleet.owner, world["scout"]
    rev = fleet.member("rev", role="reviewer")
    for actor in (owner, scout, rev):
        actor.client.post("/v1/wake")
    task = rev.client.post("/v1/tasks", {"title": "rotate keys", "priority": "high", "assign": "scout"})
    item = peek(scout)["sections"]["tasks"][0]
    assert item == {**item, "id": task["id"], "event": "assigned", "state": "assigned", "creator": rev.address,
                    "by": rev.address, "command": f"fleetctl task accept {task['id']}"}
    assert [a["action"] for a in item["actions"]] == ["accept", "reject", "show"]
    assert ids(peek(world["payer"]), "tasks") == []
    for action in ("accept", "start", "submit"):
        scout.client.post(f"/v1/tasks/{task['id']}/actions", {"action": action})
    # the creator was told its task was accepted; every human of the fleet may review it
    assert [(t["event"], t["by"]) for t in peek(rev)["sections"]["tasks"]][0] == ("accepted", scout.address)
    rev.client.post("/v1/wake", {"max_chars": 200})
    for human in (owner, rev):
        review = peek(human)["sections"]["tasks"]
        assert [(t["id"], t["event"]) for t in review] == [(task["id"], "in_review")]
        assert review[0]["command"] == f"fleetctl task approve {task['id']}"
        assert [a["command"] for a in review[0]["actions"]][1] == \
            f"fleetctl task request-changes {task['id']} --reason 'changes requested by the reviewer'"
    scout.client.post("/v1/wake")
    assert ids(peek(scout), "tasks") == []  # an agent is never asked to review, least of all its own work
    owner.client.post(f"/v1/tasks/{task['id']}/actions", {"action": "approve"})
    rev_tasks = peek(rev)["sections"]["tasks"]
    assert [(t["id"], t["event"], t["state"]) for t in rev_tasks] == [(task["id"], "done", "done")]
    assert ids(peek(owner), "tasks") == []  # no longer in review: stale news is dropped
    assert [(t["event"], t["by"]) for t in peek(scout)["sections"]["tasks"]] == [("approved", owner.address)]


def test_research_section(world):
    fleet = world["a"]
    scout = world["scout"]
    rev = fleet.member("rrev", role="reviewer")
    scout.client.post("/v1/wake")
    rev.client.post("/v1/wake")
    item = scout.client.post("/v1/research", {"title": "why builds are slow", "confidence": 0.7,
                                               "reviewers": ["rrev"]})
    asked = peek(rev)["sections"]["research"]
    assert [(r["id"], r["event"], r["author"]) for r in asked] == [(item["id"], "review_requested", scout.address)]
    assert f"fleetctl research review {item['id']}" in peek(rev)["prompt"]
    rev.client.post(f"/v1/research/{item['id']}/reviews", {"verdict": "approve", "comment": "solid"})
    got = peek(scout)["sections"]["research"]
    assert [(r["id"], r["event"], r["state"], r["verdict"], r["comment"]) for r in got] == \
        [(item["id"], "reviewed", "approved", "approve", "solid")]
    assert ': approve by' in peek(scout)["prompt"] and '"solid"' in peek(scout)["prompt"]
    assert ids(peek(world["payer"]), "research") == []


def test_documents_section(world):
    a = world["a"].owner
    scout, payer, xb = world["scout"], world["payer"], world["xb"]
    for actor in (a, scout, payer, xb):
        actor.client.post("/v1/wake")
    a.client.request("PUT", "/v1/documents/runbook", {"body": "v1", "title": "Runbook", "domains": ["infra"],
                                                      "visibility": "cross-fleet"})
    a.client.request("PUT", "/v1/documents/runbook", {"body": "v2", "base_version": 1})
    docs = peek(scout)["sections"]["documents"]
    assert [(d["name"], d["version"], d["new_versions"], d["author"]) for d in docs] == \
        [("runbook", 2, 2, a.address)]
    assert docs[0]["command"] == "fleetctl doc get runbook"
    scout.client.post("/v1/wake")
    a.client.request("PUT", "/v1/documents/runbook", {"body": "v3", "base_version": 2})
    assert peek(scout)["sections"]["documents"][0]["command"] == "fleetctl doc diff runbook 2 3"
    assert peek(scout, commands="mcp")["sections"]["documents"][0]["command"] == \
        f'fleet_read {{"type": "diff", "name": "{world["a"].name}/runbook", "from": 2, "to": 3}}'
    cross = peek(xb)["sections"]["documents"][0]
    assert (cross["new_versions"], cross["command"]) == (3, f"fleetctl doc get {world['a'].name}/runbook")
    assert ids(peek(payer), "documents") == [] and ids(peek(a), "documents") == []


def test_pinned_always_present_but_never_news(world):
    a, scout = world["a"].owner, world["scout"]
    entry = publish(a, "tip", "always use --dry-run first", pinned=True)
    scout.client.post("/v1/wake")
    for _ in range(2):
        wake = scout.client.post("/v1/wake")
        assert wake["empty"] is True and entry["id"] in ids(wake, "pinned")
        assert wake["prompt"].startswith(f"# Fleet wake for {scout.address}: nothing new")
        assert f"- #{entry['id']} [tip] always use --dry-run first" in wake["prompt"]
    assert entry["id"] not in ids(peek(world["xb"]), "pinned")


def test_ack_semantics(world):
    a, scout = world["a"].owner, world["scout"]
    scout.client.post("/v1/wake")
    a.client.post("/v1/messages", {"recipients": ["scout"], "subject": "one"})
    seen = peek(scout)
    assert not seen["empty"] and ids(seen, "messages")
    # news arriving after the peek is not lost by acking the peeked cursor
    late = a.client.post("/v1/messages", {"recipients": ["scout"], "subject": "two"})
    assert scout.client.post("/v1/wake/ack", {"cursor": seen["cursor"]}) == {"cursor": seen["cursor"], "moved": True}
    assert ids(peek(scout), "messages") == [late["id"]]
    assert scout.client.post("/v1/wake/ack", {"cursor": seen["cursor"]})["moved"] is False  # twice: harmless
    assert ids(peek(scout), "messages") == [late["id"]]
    for body in ({"cursor": -1}, {"cursor": 12}, {"cursor": "12"}, {}, {"cursor": seen["cursor"], "member": "x"}):
        resp = scout.http("POST", "/v1/wake/ack", body)
        assert resp.status == 422, (body, resp.body)
        assert resp.getheader("Content-Type") == "application/problem+json"
    assert scout.http("POST", "/v1/wake", {"max_chars": 10}).status == 422
    assert scout.http("GET", "/v1/wake?max_chars=abc").status == 422
    assert scout.http("GET", "/v1/wake?commands=bash").status == 422
    assert scout.http("POST", "/v1/wake", {"member": "wa/owner"}).status == 422


def test_max_chars_cuts_lower_sections_first(world):
    a, scout = world["a"].owner, world["scout"]
    scout.client.post("/v1/wake")
    breaking = publish(a, "breaking", "db failover at noon", domains=["infra"])
    for n in range(12):
        a.client.post("/v1/messages", {"recipients": ["scout"], "subject": f"status report number {n} " + "x" * 60})
    for n in range(5):
        publish(a, "tip", f"tip {n} " + "y" * 80, domains=["infra"])
    full = peek(scout, max_chars=100_000)
    assert full["prompt"].count("fleetctl msg read") == 12 and full["waiting"] == 0
    assert full["prompt"].endswith("Nothing else is waiting.")
    cut = peek(scout, max_chars=900)
    prompt = cut["prompt"]
    assert len(prompt) <= 900 and len(full["prompt"]) > 900
    assert f"#{breaking['id']} [breaking] db failover at noon" in prompt  # the top section survives
    assert cut["sections"]["knowledge"] == [] and cut["counts"]["knowledge"]["waiting"] == 5  # lowest cut first
    shown = prompt.count("fleetctl msg read")
    assert len(cut["sections"]["messages"]) == shown  # the JSON holds exactly what the prompt shows
    assert f"## New messages ({shown}; {12 - shown} more waiting)" in prompt
    assert cut["waiting"] == 12 - shown + 5
    assert prompt.endswith(f"{cut['waiting']} items still waiting: `fleetctl wake` hands over the next part.")
    # the oldest messages come first; what was cut comes first in the next part
    assert ids(cut, "messages") == ids(full, "messages")[:shown]
    scout.client.post("/v1/wake/ack", {"cursor": cut["cursor"]})
    assert ids(peek(scout, max_chars=100_000), "messages") == ids(full, "messages")[shown:]


def test_max_chars_below_one_item_still_hands_one_over(world):
    a, scout = world["a"].owner, world["scout"]
    scout.client.post("/v1/wake")
    long = a.client.post("/v1/tasks", {"title": "t " + "w" * 290, "assign": "scout"})
    a.client.post(f"/v1/tasks/{long['id']}/actions", {"action": "cancel", "reason": "r" * 2000})
    a.client.post("/v1/messages", {"recipients": ["scout"], "subject": "after"})
    first = scout.client.post("/v1/wake", {"max_chars": 200})
    assert sum(len(v) for k, v in first["sections"].items() if k != "pinned") == 1
    assert first["sections"]["messages"] and first["waiting"] == 1 and not first["empty"]
    second = scout.client.post("/v1/wake", {"max_chars": 200})
    assert [(t["id"], t["event"]) for t in second["sections"]["tasks"]] == [(long["id"], "cancelled")]
    assert len(second["prompt"]) > 200 and second["waiting"] == 0  # one item, even over the budget
    assert scout.client.post("/v1/wake", {"max_chars": 200})["empty"] is True


def test_page_per_section(world, monkeypatch):
    from fleetctl.services import wake_read

    a, scout = world["a"].owner, world["scout"]
    scout.client.post("/v1/wake")
    sent = [a.client.post("/v1/messages", {"recipients": ["scout"], "subject": f"m{n}"})["id"] for n in range(7)]
    monkeypatch.setattr(wake_read, "PAGE", 2)
    monkeypatch.setattr(wake_read, "WINDOW", 3)
    wake = peek(scout)
    assert ids(wake, "messages") == sent[:2]  # oldest first
    assert "## New messages (2; 5 more waiting)" in wake["prompt"]
    assert wake["counts"]["messages"] == {"total": 7, "shown": 2, "waiting": 5, "more": True, "at_least": False}
    monkeypatch.setattr(wake_read, "COUNT_CAP", 3)  # a long backlog is counted up to a cap: "at least"
    capped = peek(scout)
    assert "## New messages (2; 5+ more waiting)" in capped["prompt"] and capped["counts"]["messages"]["at_least"]
    assert capped["prompt"].endswith("5+ items still waiting: `fleetctl wake` hands over the next part.")
    got = []
    while not (part := scout.client.post("/v1/wake"))["empty"]:
        got += ids(part, "messages")
    assert got == sent


def test_openapi_documents_wake_routes(server):
    from conftest import http_request

    paths = http_request(server.url, "GET", "/v1/openapi.json").body["paths"]
    assert set(paths["/v1/wake"]) == {"get", "post"} and "post" in paths["/v1/wake/ack"]
    assert paths["/v1/wake/ack"]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"] == \
        ["cursor"]
