"""The knowledge feed over HTTP: publish, supersede, visibility, domains, paging, expiry, pins, search."""

from __future__ import annotations

import secrets
import time

import pytest

FIELDS = {"id", "kind", "title", "body", "domains", "visibility", "author", "created_at", "expires_at",
          "pinned", "supersedes", "superseded_by", "state"}


def tag(name: str) -> str:
    """A domain tag unique to this test: the server (and its cross-fleet feeds) is shared by the session."""
    return f"{name}-{secrets.token_hex(3)}"


def publish(actor, **body):
    resp = actor.http("POST", "/v1/knowledge", {"kind": "tip", "title": "a tip", **body})
    assert resp.status == 201, resp.body
    return resp.body


def ids(actor, path="/v1/knowledge", **params):
    return [e["id"] for e in actor.client.get(path, **params)["items"]]


def events(kind_ref: int) -> list[tuple]:
    from fleetctl.models.core import Change

    rows = Change.select().where(Change.kind == "knowledge", Change.ref_id == kind_ref,
                                 Change.stream.is_null(False)).order_by(Change.seq)
    out: list[tuple] = []
    for r in rows:  # one write fans out to several streams: one event per write
        if not out or out[-1][:2] != (r.event, r.fleet_id):
            out.append((r.event, r.fleet_id, []))
        out[-1][2].append(r.stream)
    return out


def test_publish_shape_and_change_event(make_fleet):
    fleet = make_fleet("kn")
    agent = fleet.member("scout", domains=["infra"])
    entry = publish(agent, kind="gotcha", title="  Deploy needs VPN  ", body="**use** the vpn",
                    domains=["Infra", "infra", "ops"], visibility="cross-fleet", expires_in="7d")
    assert set(entry) == FIELDS
    assert entry["title"] == "Deploy needs VPN" and entry["domains"] == ["infra", "ops"]
    assert entry["author"] == agent.address and entry["state"] == "current" and entry["pinned"] is False
    assert entry["visibility"] == "cross-fleet" and entry["supersedes"] is None and entry["expires_at"]
    assert entry["created_at"].endswith("Z") and entry["expires_at"] > entry["created_at"]
    assert agent.client.get(f"/v1/knowledge/{entry['id']}") == entry
    from fleetctl.models.core import Fleet

    fleet_id = Fleet.get(Fleet.name == fleet.name).id
    # broadcast once, whatever the fleet's size: its whole stream, each domain's, each cross-fleet domain's
    assert events(entry["id"]) == [("published", fleet_id, [f"knowledge:{fleet_id}:*", f"knowledge:{fleet_id}:infra",
                                                            f"knowledge:{fleet_id}:ops", "knowledge:x:infra",
                                                            "knowledge:x:ops"])]


BAD_BODIES = [
    ({"kind": "rumour", "title": "x"}, 422, "kind"),
    ({"kind": "tip", "title": ""}, 422, "title"),
    ({"kind": "tip", "title": "   "}, 422, "title must not be empty"),
    ({"kind": "tip", "title": "two\nlines"}, 422, "one line"),
    ({"kind": "tip"}, 422, "title"),
    ({"kind": "tip", "title": "x", "expires_in": "7 days"}, 422, "duration"),
    ({"kind": "tip", "title": "x", "expires_in": "0s"}, 422, "longer than zero"),
    ({"kind": "tip", "title": "x", "expires_in": "-3h"}, 422, "duration"),
    ({"kind": "tip", "title": "x", "expires_at": "2001-01-01T00:00:00Z"}, 422, "in the past"),
    ({"kind": "tip", "title": "x", "expires_at": "next tuesday"}, 422, "ISO 8601"),
    ({"kind": "tip", "title": "x", "expires_at": "2099-01-01T00:00:00Z", "expires_in": "1h"}, 422, "not both"),
    ({"kind": "tip", "title": "x", "domains": ["Not A Tag"]}, 422, "domain"),
    ({"kind": "tip", "title": "x", "visibility": "public"}, 422, "visibility"),
    ({"kind": "tip", "title": "x", "pinned": "yes"}, 422, "pinned"),
    ({"kind": "tip", "title": "x", "supersedes": "12"}, 422, "supersedes"),
    ({"kind": "tip", "title": "x", "author": "other/boss"}, 422, "unknown field"),
    ({"kind": "tip", "title": "x", "state": "retired", "id": 7}, 422, "unknown field"),
    ({"kind": "tip", "title": "x", "supersedes": 2**61}, 404, "not found"),
    ({"kind": "tip", "title": "x", "body": "b" * (1024 * 1024 + 1)}, 413, "1 MiB"),
]


@pytest.mark.parametrize(("body", "status", "words"), BAD_BODIES)
def test_bad_input_is_refused_and_writes_nothing(make_fleet, body, status, words):
    fleet = make_fleet("kn")
    resp = fleet.owner.http("POST", "/v1/knowledge", body)
    assert resp.status == status, resp.body
    assert words in resp.body["detail"] and resp.getheader("Content-Type") == "application/problem+json"
    assert ids(fleet.owner, all=True) == []


def test_body_over_one_mib_refused_by_the_service(make_fleet):
    from fleetctl.errors import Invalid
    from fleetctl.models.core import Fleet, Member
    from fleetctl.services import knowledge

    fleet = make_fleet("kn")
    owner = Member.select().join(Fleet).where(Fleet.name == fleet.name, Member.name == "owner").get()
    with pytest.raises(Invalid, match="1 MiB"):
        knowledge.publish(owner, "tip", "big", body="é" * (600 * 1024))  # 600 Ki characters, 1.2 MiB
    assert ids(fleet.owner, all=True) == []


def test_supersede_walks_the_chain_both_ways(make_fleet):
    fleet = make_fleet("kn")
    agent = fleet.member("scout")
    infra = tag("infra")
    old = publish(agent, kind="gotcha", title="deploy breaks on Mondays", domains=[infra], pinned=True)
    new = publish(fleet.owner, kind="fix", title="deploy fixed", supersedes=old["id"])
    assert new["supersedes"] == old["id"] and new["domains"] == [infra]  # domains carried over
    shown = agent.client.get(f"/v1/knowledge/{old['id']}")
    assert shown["state"] == "superseded" and shown["superseded_by"] == new["id"]
    newest = publish(agent, kind="fix", title="deploy fixed for good", supersedes=new["id"], domains=[])
    assert newest["domains"] == []
    assert ids(agent) == [newest["id"]]
    # the pin moved to each replacement: pinned first, then newest
    assert ids(agent, all=True) == [newest["id"], new["id"], old["id"]]
    assert [agent.client.get(f"/v1/knowledge/{e['id']}")["pinned"] for e in (old, new, newest)] == \
        [False, False, True]
    chain = agent.client.get(f"/v1/knowledge/{new['id']}/chain")["items"]
    assert [(e["id"], e["state"]) for e in chain] == [
        (old["id"], "superseded"), (new["id"], "superseded"), (newest["id"], "current")]
    again = agent.http("POST", "/v1/knowledge", {"kind": "fix", "title": "late", "supersedes": old["id"]})
    assert again.status == 409 and f"superseded by {new['id']}" in again.body["detail"]
    # a superseded entry is no longer news: only replacements are recorded
    assert [e[0] for e in events(old["id"])] == ["published"]
    assert [e[0] for e in events(new["id"])] == ["published"]


def test_only_the_entry_fleet_can_supersede(make_fleet):
    a, b = make_fleet("kna"), make_fleet("knb")
    shared = tag("payments")
    hidden = publish(a.owner, title="fleet only", domains=[shared])
    open_ = publish(a.owner, title="for everyone", domains=[shared], visibility="cross-fleet")
    outsider = b.member("x", domains=[shared], cross_fleet=True)
    resp = outsider.http("POST", "/v1/knowledge", {"kind": "fix", "title": "mine", "supersedes": hidden["id"]})
    assert resp.status == 404 and "not found" in resp.body["detail"]
    resp = outsider.http("POST", "/v1/knowledge", {"kind": "fix", "title": "mine", "supersedes": open_["id"]})
    assert resp.status == 403 and a.name in resp.body["detail"]
    assert ids(outsider, all=True) == [open_["id"]]
    assert a.owner.client.get(f"/v1/knowledge/{open_['id']}")["state"] == "current"


def test_other_fleets_see_only_cross_fleet_entries_sharing_a_domain(make_fleet):
    a, b = make_fleet("kna"), make_fleet("knb")
    infra, other = tag("infra"), tag("other")
    secret = publish(a.owner, title="fleet-only secret token rotation", domains=[infra])
    public = publish(a.owner, title="cross-fleet token rotation", domains=[infra], visibility="cross-fleet")
    untagged = publish(a.owner, title="untagged cross-fleet token rotation", visibility="cross-fleet")
    cross = b.member("cross", domains=[infra], cross_fleet=True)
    local = b.member("local", domains=[infra])
    unrelated = b.member("unrelated", domains=[other], cross_fleet=True)
    assert ids(cross) == [public["id"]]
    assert ids(cross, "/v1/knowledge/search", q="rotation") == [public["id"]]
    assert cross.http("GET", f"/v1/knowledge/{secret['id']}").status == 404
    assert cross.http("GET", f"/v1/knowledge/{untagged['id']}").status == 404
    assert cross.client.get(f"/v1/knowledge/{public['id']}")["author"] == a.owner.address
    for outsider in (local, unrelated):
        assert ids(outsider, all=True) == []
        assert ids(outsider, "/v1/knowledge/search", q="rotation", all=True) == []
        assert outsider.http("GET", f"/v1/knowledge/{public['id']}").status == 404
    assert ids(cross, domain=[infra]) == [public["id"]]
    assert ids(unrelated, domain=[infra]) == []  # --domain does not widen visibility


def test_domain_filtering(make_fleet):
    fleet = make_fleet("kn")
    infra, pay = tag("infra"), tag("payments")
    e_infra = publish(fleet.owner, title="infra", domains=[infra])
    e_pay = publish(fleet.owner, title="payments", domains=[pay])
    e_both = publish(fleet.owner, title="both", domains=[pay, infra])
    e_none = publish(fleet.owner, title="everyone")
    ops = fleet.member("ops", domains=[infra])
    anyone = fleet.member("anyone")
    assert ids(ops) == [e_none["id"], e_both["id"], e_infra["id"]]
    assert ids(anyone) == [e_none["id"], e_both["id"], e_pay["id"], e_infra["id"]]
    assert ids(ops, domain=[pay]) == [e_both["id"], e_pay["id"]]
    assert ids(anyone, domain=[infra]) == [e_both["id"], e_infra["id"]]
    assert ids(ops, kind="gotcha") == [] and ids(ops, kind="tip") == ids(ops)
    assert ops.http("GET", "/v1/knowledge?kind=rumour").status == 422
    assert ops.http("GET", "/v1/knowledge?domain=Bad%20Tag").status == 422


def test_pinned_first_then_newest_and_paging(make_fleet):
    fleet = make_fleet("kn")
    infra = tag("infra")
    agent = fleet.member("reader", domains=[infra])
    made = [publish(fleet.owner, title=f"entry {i}", domains=[infra] if i % 2 else [], pinned=i in (1, 4))["id"]
            for i in range(7)]
    expected = [made[4], made[1], made[6], made[5], made[3], made[2], made[0]]
    assert ids(agent) == expected
    seen, after = [], None
    while True:
        page = agent.client.get("/v1/knowledge", limit=2, after=after)
        seen += [e["id"] for e in page["items"]]
        assert len(page["items"]) <= 2
        after = page["next"]
        if after is None:
            break
    assert seen == expected
    assert agent.http("GET", "/v1/knowledge?after=-1").status == 422


def test_expiry_is_evaluated_when_read(make_fleet):
    fleet = make_fleet("kn")
    short = publish(fleet.owner, title="brief", expires_in="1s")
    lasting = publish(fleet.owner, title="lasting", expires_at="2099-01-01T00:00:00+02:00")
    assert lasting["expires_at"] == "2098-12-31T22:00:00.000Z"
    assert ids(fleet.owner) == [lasting["id"], short["id"]]
    time.sleep(1.1)
    assert ids(fleet.owner) == [lasting["id"]]
    assert ids(fleet.owner, "/v1/knowledge/search", q="brief") == []
    assert ids(fleet.owner, "/v1/knowledge/search", q="brief", all=True) == [short["id"]]
    assert fleet.owner.client.get(f"/v1/knowledge/{short['id']}")["state"] == "expired"
    assert ids(fleet.owner, all=True) == [lasting["id"], short["id"]]
    publish(fleet.owner, title="sweeps")  # stores the expired state; nothing visible changes
    assert fleet.owner.client.get(f"/v1/knowledge/{short['id']}")["state"] == "expired"
    assert fleet.owner.http("POST", f"/v1/knowledge/{short['id']}/pin").status == 409


def test_pin_unpin_retire_permissions(make_fleet):
    a, b = make_fleet("kna"), make_fleet("knb")
    shared = tag("shared")
    author = a.member("author")
    peer = a.member("peer")
    entry = publish(author, title="pin me", domains=[shared], visibility="cross-fleet")
    hidden = publish(author, title="hidden")
    outsider = b.member("x", domains=[shared], cross_fleet=True)
    assert outsider.http("POST", f"/v1/knowledge/{entry['id']}/pin").status == 403
    assert outsider.http("POST", f"/v1/knowledge/{hidden['id']}/pin").status == 404
    pinned = peer.client.post(f"/v1/knowledge/{entry['id']}/pin")
    assert pinned["pinned"] is True
    assert peer.client.post(f"/v1/knowledge/{entry['id']}/pin")["pinned"] is True  # idempotent
    assert [e[0] for e in events(entry["id"])] == ["published"]  # pinned entries are in every wake, not news
    for action in ("unpin", "retire"):
        resp = peer.http("POST", f"/v1/knowledge/{entry['id']}/{action}")
        assert resp.status == 403 and author.address in resp.body["detail"]
        assert outsider.http("POST", f"/v1/knowledge/{entry['id']}/{action}").status == 403
        assert outsider.http("POST", f"/v1/knowledge/{hidden['id']}/{action}").status == 404
    assert author.client.post(f"/v1/knowledge/{entry['id']}/unpin")["pinned"] is False
    retired = a.owner.client.post(f"/v1/knowledge/{entry['id']}/retire")
    assert retired["state"] == "retired"
    assert ids(peer) == [hidden["id"]] and ids(outsider) == []
    assert entry["id"] in ids(peer, all=True)
    assert author.http("POST", f"/v1/knowledge/{entry['id']}/retire").status == 409
    assert peer.http("POST", f"/v1/knowledge/{entry['id']}/pin").status == 409
    assert peer.http("POST", "/v1/knowledge/999999999/pin").status == 404
    assert peer.http("GET", f"/v1/knowledge/{2**70}").status == 404


def test_search_matches_titles_and_bodies(make_fleet):
    fleet = make_fleet("kn")
    title_hit = publish(fleet.owner, title="Kubernetes ingress gotcha", body="nothing here")
    body_hit = publish(fleet.owner, title="networking", body="the ingress controller restarts when deploying")
    publish(fleet.owner, title="unrelated", body="payments")
    found = ids(fleet.owner, "/v1/knowledge/search", q="ingress")
    assert sorted(found) == sorted([title_hit["id"], body_hit["id"]])
    assert ids(fleet.owner, "/v1/knowledge/search", q="ingress deploy") == [body_hit["id"]]  # stemmed, all terms
    assert ids(fleet.owner, "/v1/knowledge/search", q="INGRESS restarts") == [body_hit["id"]]
    page = fleet.owner.client.get("/v1/knowledge/search", q="ingress", limit=1)
    rest = fleet.owner.client.get("/v1/knowledge/search", q="ingress", limit=1, after=page["next"])
    assert sorted(e["id"] for e in page["items"] + rest["items"]) == sorted(found) and rest["next"] is None


NASTY = ['"', '"unbalanced', "AND", "OR NOT", "NEAR(a b", "title:x", "a*", "*", "-x", "^x", "(((", "a AND",
         "x' OR '1'='1", "\\", "col:", "{x}", "a + b", "é ü 中文", "!!", "'", "NOT", "a OR"]


def test_search_never_fails_on_user_syntax(make_fleet):
    fleet = make_fleet("kn")
    publish(fleet.owner, title="AND OR NOT near title", body="x a b")
    for query in NASTY:
        resp = fleet.owner.http("GET", "/v1/knowledge/search?" + _q(query))
        assert resp.status in (200, 422), (query, resp.body)
        if resp.status == 200:
            assert isinstance(resp.body["items"], list)
    assert fleet.owner.http("GET", "/v1/knowledge/search?q=").status == 422
    assert fleet.owner.http("GET", "/v1/knowledge/search").status == 422
    assert fleet.owner.http("GET", "/v1/knowledge/search?" + _q('near( "title')).body["items"]


def _q(text: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": text})


@pytest.mark.engine("sqlite")  # EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by statistics
def test_feed_queries_walk_indexes_never_the_table(make_fleet, server, monkeypatch):
    from fleetctl import db
    from fleetctl.models.core import Fleet, Member
    from fleetctl.services import knowledge_feed

    fleet = make_fleet("kn")
    fleet.member("cross", domains=["infra", "ml"], cross_fleet=True)
    reader = Member.select().join(Fleet).where(Fleet.name == fleet.name, Member.name == "cross").get()
    plans, real = [], knowledge_feed._ids

    def explain(query, key, below, want):
        sql, params = query.where(key < 10**9).order_by(key.desc()).limit(want).sql()
        rows = db.database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        plans.append(" | ".join(row[-1] for row in rows))
        return real(query, key, below, want)

    monkeypatch.setattr(knowledge_feed, "_ids", explain)
    for options in ({}, {"all": True}, {"domain": ["web"]}, {"kind": "gotcha"}):
        knowledge_feed.feed(reader, **options)
    assert len(plans) > 10
    for plan in plans:
        assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan


def test_pinned_entries_for_the_wake_prompt(make_fleet):
    from fleetctl.models.core import Fleet, Member
    from fleetctl.services import knowledge_feed

    a, b = make_fleet("kna"), make_fleet("knb")
    infra, pay = tag("infra"), tag("pay")
    mine = publish(a.owner, title="infra pin", domains=[infra], pinned=True)
    publish(a.owner, title="payments pin", domains=[pay], pinned=True)
    general = publish(a.owner, title="general pin", pinned=True)
    publish(a.owner, title="not pinned", domains=[infra])
    theirs = publish(b.owner, title="their pin", domains=[infra], pinned=True, visibility="cross-fleet")
    publish(b.owner, title="their private pin", domains=[infra], pinned=True)
    a.member("ops", domains=[infra], cross_fleet=True)
    ops = Member.select().join(Fleet).where(Fleet.name == a.name, Member.name == "ops").get()
    assert [e["id"] for e in knowledge_feed.pinned(ops)] == [theirs["id"], general["id"], mine["id"]]
    assert ids(a.member("reader", domains=[infra], cross_fleet=True))[:3] == [theirs["id"], general["id"], mine["id"]]


def test_a_replacement_keeps_the_visibility_it_replaces(make_fleet):
    acme, labs = make_fleet("acme"), make_fleet("labs")
    author = acme.member("ops", domains=["infra"])
    outsider = labs.member("scout", domains=["infra"], cross_fleet=True)
    old = author.client.post("/v1/knowledge", {"kind": "gotcha", "title": "docker net changed",
                                               "domains": ["infra"], "visibility": "cross-fleet"})
    fix = author.client.post("/v1/knowledge", {"kind": "fix", "title": "use the new bridge", "supersedes": old["id"]})
    assert fix["visibility"] == "cross-fleet" and fix["domains"] == ["infra"]
    assert outsider.client.get(f"/v1/knowledge/{fix['id']}")["title"] == "use the new bridge"
    narrowed = author.client.post("/v1/knowledge", {"kind": "fix", "title": "internal detail",
                                                    "supersedes": fix["id"], "visibility": "fleet"})
    assert narrowed["visibility"] == "fleet"
    assert outsider.http("GET", f"/v1/knowledge/{narrowed['id']}").status == 404
