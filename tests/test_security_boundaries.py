"""Trust boundaries swept over every resource type (knowledge, tasks, messages, research, documents,
members, audit, and the wake prompt that gathers them):

- a member of another fleet, even a cross-fleet one sharing every domain, and even that fleet's owner,
  gets 404 for fleet-only items by id and the same answer as for a missing item on writes, and never
  finds them in lists or search (members stay addressable across fleets: that is the messaging policy);
- an agent cannot do owner or reviewer actions, a reviewer cannot do owner actions;
- revoked and rotated tokens fail at once on every route;
- no body field can change who acts: identity fields are 422 on every route that takes a body.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from conftest import Actor, http_request

FORGED = ("author", "sender", "creator", "member", "fleet", "updated_by")


@dataclass
class World:
    a: str  # fleet name of the victim fleet
    owner: Actor
    alice: Actor  # agent
    bob: Actor  # agent
    rita: Actor  # reviewer
    b_owner: Actor  # owner of the other fleet
    spy: Actor  # cross-fleet agent of the other fleet sharing alice's domain
    items: dict = field(default_factory=dict)


def _fleet(server, prefix: str) -> tuple[str, Actor]:
    from fleetctl.services import members

    fleet, owner, token = members.create_fleet(f"{prefix}-{secrets.token_hex(3)}", 1_000_000)
    actor = Actor(owner.address, token, server.url)
    actor.client.patch(f"/v1/agents/{owner.name}", {"rate_limit": 1_000_000})
    return fleet.name, actor


def _member(owner: Actor, name: str, **fields) -> Actor:
    data = owner.client.post("/v1/agents", {"name": name, "rate_limit": 1_000_000, **fields})
    return Actor(data["member"]["address"], data["token"], owner.url)


@dataclass
class Kind:
    """One resource type: how fleet A makes a fleet-only item, and every way to reach it."""

    name: str
    create: Callable[[World, str], dict]
    by_id: Callable[[World, dict], list[tuple[str, str, dict | None]]]  # (method, path, body) -> 404
    lists: Callable[[World, str], list[str]]  # paths whose answer must not mention the item
    who: str | None  # the identity field of the created object


def _k_create(w, marker):
    return w.alice.client.post("/v1/knowledge", {"kind": "tip", "title": marker, "body": marker,
                                                 "domains": ["shared"]})


def _t_create(w, marker):
    return w.alice.client.post("/v1/tasks", {"title": marker, "body": marker, "domains": ["shared"]})


def _m_create(w, marker):
    return w.alice.client.post("/v1/messages", {"recipients": ["rita"], "subject": marker, "body": marker,
                                                "domains": ["shared"]})


def _r_create(w, marker):
    return w.alice.client.post("/v1/research", {"title": marker, "body": marker, "confidence": 0.9,
                                                "domains": ["shared"], "reviewers": ["rita"]})


def _d_create(w, marker):
    return w.alice.client.request("PUT", f"/v1/documents/{marker}", {"body": marker, "title": marker,
                                                                     "domains": ["shared"]})


KINDS = [
    Kind("knowledge", _k_create, lambda w, it: [
        ("GET", f"/v1/knowledge/{it['id']}", None), ("GET", f"/v1/knowledge/{it['id']}/chain", None),
        ("POST", f"/v1/knowledge/{it['id']}/pin", None), ("POST", f"/v1/knowledge/{it['id']}/unpin", None),
        ("POST", f"/v1/knowledge/{it['id']}/retire", None),
        ("POST", "/v1/knowledge", {"kind": "fix", "title": "mine now", "supersedes": it["id"]})],
        lambda w, m: ["/v1/knowledge", "/v1/knowledge?all=true", "/v1/knowledge?domain=shared&all=true",
                      f"/v1/knowledge/search?q={m}", f"/v1/knowledge/search?q={m}&all=true"], "author"),
    Kind("tasks", _t_create, lambda w, it: [
        ("GET", f"/v1/tasks/{it['id']}", None), ("POST", f"/v1/tasks/{it['id']}/actions", {"action": "claim"}),
        ("POST", f"/v1/tasks/{it['id']}/actions", {"action": "cancel", "reason": "x"}),
        ("POST", "/v1/tasks", {"title": "after yours", "depends_on": [it["id"]]}),
        ("POST", "/v1/research", {"title": "answers yours", "confidence": 0.5, "task": it["id"]})],
        lambda w, m: ["/v1/tasks", "/v1/tasks?domain=shared", "/v1/tasks/ready", "/v1/tasks?state=open",
                      f"/v1/research?task={w.items['tasks'][1]['id']}"], "creator"),
    Kind("messages", _m_create, lambda w, it: [
        ("GET", f"/v1/messages/{it['id']}", None), ("GET", f"/v1/messages/{it['id']}/thread", None),
        ("POST", f"/v1/messages/{it['id']}/read", None),
        ("POST", "/v1/messages", {"recipients": [w.spy.name], "subject": "re", "reply_to": it["id"]})],
        lambda w, m: ["/v1/messages", "/v1/messages?unread=true"], "sender"),
    Kind("research", _r_create, lambda w, it: [
        ("GET", f"/v1/research/{it['id']}", None),
        ("POST", f"/v1/research/{it['id']}/reviews", {"verdict": "approve"}),
        ("POST", f"/v1/research/{it['id']}/revisions", {"body": "mine now"})],
        lambda w, m: ["/v1/research", "/v1/research?state=in_review"], "author"),
    Kind("documents", _d_create, lambda w, it: [
        ("GET", f"/v1/documents/{it['address']}", None), ("GET", f"/v1/documents/{it['address']}?version=1", None),
        ("GET", f"/v1/documents/{it['address']}/versions", None),
        ("GET", f"/v1/documents/{it['address']}/diff?from=1&to=1", None),
        ("PUT", f"/v1/documents/{it['address']}", {"body": "defaced"})],
        lambda w, m: ["/v1/documents", "/v1/documents?domain=shared"], "updated_by"),
    Kind("members", lambda w, m: w.alice.client.get("/v1/whoami")["member"], lambda w, it: [
        ("GET", f"/v1/agents/{it['name']}", None), ("PATCH", f"/v1/agents/{it['name']}", {"role": "agent"}),
        ("POST", f"/v1/agents/{it['name']}/revoke", None), ("POST", f"/v1/agents/{it['name']}/token", None)],
        lambda w, m: ["/v1/agents"], None),
    Kind("audit", lambda w, m: {"address": w.alice.address}, lambda w, it: [],
         lambda w, m: ["/v1/audit", f"/v1/audit?member={w.alice.address}", "/v1/audit?action=knowledge"], None),
]


@pytest.fixture(scope="module")
def world(server):
    a, owner = _fleet(server, "victim")
    _, b_owner = _fleet(server, "other")
    w = World(a, owner, _member(owner, "alice", domains=["shared"], cross_fleet=True),
              _member(owner, "bob", domains=["shared"]), _member(owner, "rita", role="reviewer", domains=["shared"]),
              b_owner, _member(b_owner, "spy", domains=["shared"], cross_fleet=True))
    for kind in KINDS:
        marker = f"secret{kind.name}{secrets.token_hex(3)}"
        w.items[kind.name] = (marker, kind.create(w, marker))
    return w


def _text(resp) -> str:
    return resp.body if isinstance(resp.body, str) else json.dumps(resp.body)


NOWHERE = {"id": 2**62, "name": "nosuch", "address": "nosuch-fleet/nosuch"}


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_other_fleets_get_404_by_id_and_never_see_fleet_only_items(world, kind):
    """Exactly as if it did not exist: reads are 404, and every answer equals the one for a missing item."""
    marker, item = world.items[kind.name]
    if kind.who:
        assert item[kind.who] == world.alice.address  # the creator is the token's member
    for outsider in (world.spy, world.b_owner):
        for (method, path, body), (_, ghost, ghost_body) in zip(kind.by_id(world, item), kind.by_id(world, NOWHERE),
                                                                strict=True):
            resp = outsider.http(method, path, body)
            missing = outsider.http(method, ghost, ghost_body)
            assert resp.status == missing.status and resp.status in (403, 404), \
                (outsider.address, method, path, resp.status, missing.status, resp.body)
            assert method != "GET" or resp.status == 404
            if marker not in path:  # a name the caller typed may come back in the detail
                assert marker not in _text(resp)
        for path in kind.lists(world, marker):
            resp = outsider.http("GET", path)
            assert resp.status in (200, 403), (outsider.address, path, resp.status)
            assert marker not in _text(resp) and world.alice.address not in _text(resp), (outsider.address, path)
    # The same reads do reach the item from inside its fleet (so the 404s above are about the boundary).
    for method, path, body in kind.by_id(world, item)[:1]:
        assert world.alice.http(method, path, body).status == 200, path


def test_wake_prompts_of_other_fleets_never_mention_fleet_only_items(world):
    for outsider in (world.spy, world.b_owner):
        for method in ("GET", "POST"):
            resp = outsider.http(method, "/v1/wake")
            assert resp.status == 200, resp.body
            for marker, _ in world.items.values():
                assert marker not in _text(resp)
    inside = world.rita.http("GET", "/v1/wake")
    assert world.items["messages"][0] in _text(inside)  # rita was sent the message: the prompt is not empty


def _in_review_task(w: World) -> dict:
    task = w.owner.client.post("/v1/tasks", {"title": "gated", "domains": ["shared"], "review": "required"})
    for action in ("claim", "start", "submit"):
        w.bob.client.post(f"/v1/tasks/{task['id']}/actions", {"action": action})
    return task


def test_agents_cannot_do_owner_or_reviewer_actions_and_reviewers_cannot_do_owner_ones(world):
    w = world
    task = _in_review_task(w)
    owners_entry = w.owner.client.post("/v1/knowledge", {"kind": "tip", "title": "owner's"})
    asked = w.owner.client.post("/v1/research", {"title": "asks alice", "confidence": 0.5, "reviewers": ["alice"]})
    owner_only = [("POST", "/v1/agents", {"name": "intruder"}), ("PATCH", "/v1/agents/bob", {"role": "owner"}),
                  ("PATCH", "/v1/agents/bob", {"rate_limit": 1}), ("POST", "/v1/agents/bob/revoke", None),
                  ("POST", "/v1/agents/bob/token", None), ("GET", "/v1/audit", None)]
    human_only = [("POST", f"/v1/tasks/{task['id']}/actions", {"action": "approve"}),
                  ("POST", f"/v1/tasks/{task['id']}/actions", {"action": "request-changes", "reason": "no"}),
                  ("POST", f"/v1/research/{asked['id']}/reviews", {"verdict": "approve"}),
                  ("POST", f"/v1/research/{asked['id']}/reviews", {"verdict": "reject"})]
    authors_only = [("POST", f"/v1/knowledge/{owners_entry['id']}/retire", None),
                    ("POST", f"/v1/tasks/{task['id']}/actions", {"action": "cancel", "reason": "mine"}),
                    ("POST", f"/v1/research/{asked['id']}/revisions", {"body": "mine now"})]
    for method, path, body in owner_only + human_only + authors_only:
        resp = w.alice.http(method, path, body)
        assert resp.status == 403, ("agent", method, path, resp.status, resp.body)
    for method, path, body in owner_only:
        resp = w.rita.http(method, path, body)
        assert resp.status == 403, ("reviewer", method, path, resp.status, resp.body)
    assert w.owner.client.get(f"/v1/tasks/{task['id']}")["state"] == "in_review"
    assert w.owner.client.get("/v1/agents/bob")["role"] == "agent"
    refused = {(r["member"], r["status"]) for r in w.owner.client.get("/v1/audit?limit=200")["items"]}
    assert (w.alice.address, 403) in refused and (w.rita.address, 403) in refused


def _get_routes(server) -> list[str]:
    spec = http_request(server.url, "GET", "/v1/openapi.json").body
    return [p for p, ops in spec["paths"].items() if "get" in ops and "{" not in p
            and ops["get"].get("security") and not any(q.get("required") for q in ops["get"].get("parameters", []))]


def test_revoked_and_rotated_tokens_fail_at_once_on_every_route(world, server, monkeypatch):
    from fleetctl.services import ratelimit, tokens

    # The per-IP allowance of failed authentications is shared by the whole test session (every test
    # client is 127.0.0.1); start this test with a clean one so each dead token is judged, not throttled.
    monkeypatch.setattr(tokens, "failures", ratelimit.SlidingWindow(60.0))
    w = world
    gone = _member(w.owner, f"gone{secrets.token_hex(2)}", domains=["shared"])
    moved = _member(w.owner, f"moved{secrets.token_hex(2)}", domains=["shared"])
    routes = _get_routes(server)
    assert len(routes) >= 9, routes
    for path in routes[:3]:  # warm the auth cache: revocation must evict it, not wait out its TTL
        assert gone.http("GET", path).status in (200, 403) and moved.http("GET", path).status in (200, 403)
    w.owner.client.post(f"/v1/agents/{gone.name}/revoke")
    fresh = moved.client.post("/v1/tokens/rotate")["token"]
    writes = [("POST", "/v1/knowledge", {"kind": "tip", "title": "x"}), ("POST", "/v1/tasks", {"title": "x"}),
              ("POST", "/v1/messages", {"recipients": ["owner"], "subject": "x"}),
              ("POST", "/v1/research", {"title": "x", "confidence": 0.1}),
              ("PUT", "/v1/documents/after-death", {"body": "x"}), ("POST", "/v1/wake", None),
              ("POST", "/v1/tokens/rotate", None)]
    for dead in (gone, moved):
        for path in routes:
            assert dead.http("GET", path).status == 401, (dead.name, path)
        for method, path, body in writes:
            assert dead.http(method, path, body).status == 401, (dead.name, method, path)
    alive = Actor(moved.address, fresh, moved.url)
    assert all(alive.http("GET", path).status in (200, 403) for path in routes)
    rotated_again = Actor(moved.address, w.owner.client.post(f"/v1/agents/{moved.name}/token")["token"], moved.url)
    assert alive.http("GET", "/v1/whoami").status == 401 and rotated_again.http("GET", "/v1/whoami").status == 200


def test_no_body_field_can_change_who_acts(world, server):
    w = world
    spec = http_request(server.url, "GET", "/v1/openapi.json").body
    task = w.owner.client.post("/v1/tasks", {"title": "forge target", "domains": ["shared"]})
    entry = w.owner.client.post("/v1/knowledge", {"kind": "tip", "title": "forge target"})
    ids = {"{id}": str(task["id"]), "{name}": "bob", "{fleet}": w.a}
    swept = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            props = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if not props:
                continue
            target = path
            for key, value in ids.items():
                target = target.replace(key, value)
            if target.startswith("/v1/knowledge/"):
                target = target.replace(str(task["id"]), str(entry["id"]))
            for name in FORGED:
                if name in props["properties"]:
                    continue  # a real field of this route (task actions' `member`): checked below
                resp = w.alice.http(method.upper(), target, {name: w.owner.address})
                assert resp.status == 422 and name in resp.body["detail"], (method, target, name, resp.body)
                swept += 1
    assert swept >= 60
    # `member` names the assignee of `assign`, never the actor; on any other action it is refused.
    assert w.alice.http("POST", f"/v1/tasks/{task['id']}/actions",
                        {"action": "claim", "member": "bob"}).status == 422
    done = w.owner.client.post(f"/v1/tasks/{task['id']}/actions", {"action": "assign", "member": "bob"})
    assert done["assignee"] == f"{w.a}/bob" and done["history"][-1]["who"] == w.owner.address
    assert w.bob.http("POST", f"/v1/tasks/{task['id']}/actions", {"action": "accept"}).body["history"][-1]["who"] \
        == w.bob.address


def test_links_to_fleet_only_items_answer_as_if_they_did_not_exist(world):
    """A task's submit links (`research:ID`, `doc:fleet/name`) cannot probe another fleet's items."""
    w = world
    research_id = w.items["research"][1]["id"]
    doc = w.items["documents"][1]["address"]
    statuses = []
    for links in ([f"research:{research_id}"], ["research:99999999"], [f"doc:{doc}"], [f"doc:{w.a}/nosuch"]):
        task = w.spy.client.post("/v1/tasks", {"title": "probe"})
        for action in ("claim", "start"):
            w.spy.client.post(f"/v1/tasks/{task['id']}/actions", {"action": action})
        resp = w.spy.http("POST", f"/v1/tasks/{task['id']}/actions", {"action": "submit", "links": links})
        shown = w.spy.http("GET", f"/v1/tasks/{task['id']}")
        statuses.append((resp.status, json.dumps(resp.body).replace(str(research_id), "N").replace(doc, "D")
                         .replace("99999999", "N").replace(f"{w.a}/nosuch", "D")))
        assert w.items["research"][0] not in _text(shown) and w.items["documents"][0] not in _text(shown).replace(
            doc, "")
    assert statuses[0][0] == statuses[1][0] and statuses[2][0] == statuses[3][0], statuses
