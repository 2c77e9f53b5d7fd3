"""Research over HTTP: the review gate, revisions, task links, visibility and refusals."""

from __future__ import annotations

import threading

import pytest


def publish(actor, **fields):
    return actor.http("POST", "/v1/research", {"title": "Why p99 spiked", "confidence": 0.8, **fields})


def review(actor, research_id, verdict, comment=None):
    body = {"verdict": verdict, **({"comment": comment} if comment else {})}
    return actor.http("POST", f"/v1/research/{research_id}/reviews", body)


def events(research_id):
    from fleetctl.models.core import Change

    rows = Change.select().where(Change.kind == "research", Change.ref_id == research_id,
                                 Change.stream.startswith("research@")).order_by(Change.seq)
    return [(r.event, int(r.stream.split("@")[1])) for r in rows]


def member_id(actor):
    from fleetctl.models.core import Fleet, Member

    fleet, name = actor.address.split("/")
    return Member.select().join(Fleet).where(Fleet.name == fleet, Member.name == name).get().id


def test_review_cycle_with_revision(make_fleet):
    fleet = make_fleet("lab")
    author = fleet.member("analyst", domains=["perf"])
    boss = fleet.member("boss", role="reviewer")
    made = publish(author, question="What caused it?", body="GC pauses.", sources=["grafana/d/1", "grafana/d/1"],
                   reviewers=["boss"], domains=["perf"])
    assert made.status == 201, made.body
    r = made.body
    assert (r["state"], r["author"], r["reviewers"], r["sources"], r["revision"]) == (
        "in_review", author.address, [boss.address], ["grafana/d/1"], 1)
    assert (r["question"], r["body"], r["confidence"], r["task"], r["visibility"]) == (
        "What caused it?", "GC pauses.", 0.8, None, "fleet")
    assert events(r["id"]) == [("review_requested", member_id(boss))]

    sent_back = review(boss, r["id"], "request-changes", "show the heap profile")
    assert sent_back.status == 201 and sent_back.body["state"] == "changes_requested"
    assert review(boss, r["id"], "approve").status == 409  # waiting for the author's revision
    revised = author.http("POST", f"/v1/research/{r['id']}/revisions", {"body": "GC pauses; heap attached.",
                                                                        "confidence": 0.95})
    assert revised.status == 200, revised.body
    assert (revised.body["state"], revised.body["revision"], revised.body["confidence"]) == ("in_review", 2, 0.95)
    assert revised.body["title"] == "Why p99 spiked"  # unchanged fields are kept

    approved = review(boss, r["id"], "approve", "convincing")
    assert approved.status == 201 and approved.body["state"] == "approved"
    assert [(v["reviewer"], v["verdict"], v["comment"], v["revision"]) for v in approved.body["reviews"]] == [
        (boss.address, "request-changes", "show the heap profile", 1), (boss.address, "approve", "convincing", 2)]
    assert events(r["id"]) == [("review_requested", member_id(boss)), ("request-changes", member_id(author)),
                               ("review_requested", member_id(boss)), ("approve", member_id(author))]
    assert review(boss, r["id"], "reject").status == 409  # approved is final
    assert author.http("POST", f"/v1/research/{r['id']}/revisions", {"body": "x"}).status == 409
    shown = author.client.get(f"/v1/research/{r['id']}")
    assert shown["state"] == "approved" and len(shown["reviews"]) == 2
    assert set(shown["reviews"][0]) == {"reviewer", "verdict", "comment", "time", "revision"}  # DESIGN §2


def test_draft_without_reviewers_then_asked(make_fleet):
    fleet = make_fleet("draft")
    author = fleet.member("analyst")
    draft = publish(author).body
    assert draft["state"] == "draft" and draft["reviewers"] == [] and events(draft["id"]) == []
    assert review(fleet.owner, draft["id"], "approve").status == 409
    asked = author.http("POST", f"/v1/research/{draft['id']}/revisions", {"reviewers": ["owner"]}).body
    assert asked["state"] == "in_review" and asked["reviewers"] == [fleet.owner.address]
    assert review(fleet.owner, draft["id"], "reject", "wrong question").body["state"] == "rejected"
    assert author.http("POST", f"/v1/research/{draft['id']}/revisions", {"confidence": 0.1}).status == 409


def test_the_human_gate(make_fleet):
    fleet = make_fleet("gate")
    author = fleet.member("analyst")
    helper = fleet.member("helper")  # an agent asked to review
    bystander = fleet.member("bystander")  # an agent not asked
    human = fleet.member("human", role="reviewer")  # a human of the fleet, not asked
    r = publish(author, reviewers=["helper"]).body
    assert review(helper, r["id"], "approve").status == 403
    assert review(helper, r["id"], "reject").status == 403
    assert review(bystander, r["id"], "request-changes").status == 403
    assert review(author, r["id"], "request-changes").status == 403
    assert author.client.get(f"/v1/research/{r['id']}")["state"] == "in_review"
    assert review(helper, r["id"], "request-changes", "cite sources").body["state"] == "changes_requested"
    author.http("POST", f"/v1/research/{r['id']}/revisions", {"sources": ["rfc 9457"]})
    assert review(human, r["id"], "approve").body["state"] == "approved"

    own = publish(fleet.owner, reviewers=["human"]).body  # an owner cannot approve its own research either
    refused = review(fleet.owner, own["id"], "approve")
    assert refused.status == 403 and "own research" in refused.body["detail"]
    assert author.http("POST", f"/v1/research/{own['id']}/revisions", {"body": "mine now"}).status == 403


def test_concurrent_reviews_have_one_winner(make_fleet):
    fleet = make_fleet("race")
    author = fleet.member("analyst")
    humans = [fleet.member(f"h{i}", role="reviewer") for i in range(4)]
    r = publish(author, reviewers=[h.name for h in humans]).body
    barrier = threading.Barrier(len(humans))
    results = [None] * len(humans)

    def run(i):
        barrier.wait()
        results[i] = review(humans[i], r["id"], "approve" if i % 2 else "reject")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(humans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(x.status for x in results) == [201, 409, 409, 409], [x.body for x in results]
    assert len(author.client.get(f"/v1/research/{r['id']}")["reviews"]) == 1


@pytest.mark.parametrize("fields", [
    {"confidence": 1.5}, {"confidence": -0.1}, {"confidence": "0.5"}, {"confidence": True},
    {"confidence": None}, {"title": ""}, {"sources": [""]}, {"sources": [3]}, {"visibility": "public"},
    {"author": "x/y"}, {"state": "approved"}, {"fleet": "other"}, {"reviews": []}, {"task": "1"},
])
def test_bad_or_forged_fields_are_422(make_fleet, fields):
    owner = make_fleet("bad").owner
    resp = publish(owner, **fields)
    assert resp.status == 422, resp.body
    assert owner.client.get("/v1/research")["items"] == []


def test_confidence_is_required_and_nan_refused(make_fleet):
    owner = make_fleet("nan").owner
    assert owner.http("POST", "/v1/research", {"title": "x"}).status == 422
    nan = owner.http("POST", "/v1/research", raw=b'{"title": "x", "confidence": NaN}')
    assert nan.status == 422 and "confidence" in nan.body["detail"]
    assert review(owner, 1, "maybe").status == 422


def test_reviewers_must_be_addressable(make_fleet):
    home, other = make_fleet("home"), make_fleet("other")
    author = home.member("analyst")
    closed = other.member("closed", role="reviewer", domains=["perf"])
    picky = other.member("picky", role="reviewer", domains=["perf"], cross_fleet=True, allow_fleets=["nobody"])
    partner = other.member("partner", role="reviewer", domains=["perf"], cross_fleet=True)
    assert publish(author, reviewers=["ghost"]).status == 404
    assert publish(author, reviewers=["analyst"]).status == 422
    assert "rule: cross_fleet" in publish(author, reviewers=[closed.address], domains=["perf"]).body["detail"]
    assert "rule: allow_fleets" in publish(author, reviewers=[picky.address], domains=["perf"]).body["detail"]
    assert "rule: domains" in publish(author, reviewers=[partner.address], domains=["ops"],
                                      visibility="cross-fleet").body["detail"]
    hidden = publish(author, reviewers=[partner.address], domains=["perf"])  # fleet-only: it could not see it
    assert hidden.status == 403 and "rule: visibility" in hidden.body["detail"]
    assert author.client.get("/v1/research")["items"] == []

    shared = publish(author, reviewers=[partner.address], domains=["perf"], visibility="cross-fleet").body
    assert shared["state"] == "in_review" and shared["reviewers"] == [partner.address]
    assert partner.client.get(f"/v1/research/{shared['id']}")["id"] == shared["id"]
    assert review(partner, shared["id"], "approve").body["state"] == "approved"


def test_fleet_only_research_is_invisible_elsewhere(make_fleet):
    home, other = make_fleet("home"), make_fleet("other")
    secret = publish(home.owner, domains=["perf"]).body
    shared = publish(home.owner, domains=["perf"], visibility="cross-fleet").body
    spy = other.member("spy", role="owner", domains=["perf"])  # not cross-fleet
    peer = other.member("peer", role="reviewer", domains=["perf"], cross_fleet=True)
    for actor in (spy, peer):
        assert actor.http("GET", f"/v1/research/{secret['id']}").status == 404
        assert review(actor, secret["id"], "approve").status == 404
        assert actor.http("POST", f"/v1/research/{secret['id']}/revisions", {"body": "x"}).status == 404
    assert spy.client.get("/v1/research")["items"] == []
    seen = [r["id"] for r in peer.client.get("/v1/research")["items"]]
    assert shared["id"] in seen and secret["id"] not in seen
    assert peer.http("POST", f"/v1/research/{shared['id']}/revisions", {"body": "x"}).status == 403
    assert review(peer, shared["id"], "approve").status == 409  # a draft: nobody asked for review yet
    assert home.owner.client.get(f"/v1/research/{secret['id']}")["body"] == ""


def test_outside_research_on_a_cross_fleet_task(make_fleet):
    owners, helpers, strangers = make_fleet("owners"), make_fleet("helpers"), make_fleet("strangers")
    lead = owners.member("lead", role="reviewer", domains=["payments"], cross_fleet=True)
    teammate = owners.member("teammate")
    task = owners.owner.client.post("/v1/tasks", {"title": "Find the double charge", "domains": ["payments"],
                                                  "visibility": "cross-fleet"})
    private = owners.owner.client.post("/v1/tasks", {"title": "Internal", "domains": ["payments"]})
    outsider = helpers.member("outsider", domains=["payments"], cross_fleet=True)
    stranger = strangers.member("stranger", domains=["ops"], cross_fleet=True)

    assert publish(outsider, task=private["id"]).status == 404
    assert publish(outsider, task=999999).status == 404
    found = publish(outsider, task=task["id"], domains=["payments"], reviewers=[lead.address])
    assert found.status == 201, found.body
    r = found.body
    assert (r["task"], r["fleet"], r["visibility"], r["state"]) == (task["id"], helpers.name, "fleet", "in_review")
    # Everyone who can see the task sees the research, though it is fleet-only in the helpers' fleet.
    assert teammate.client.get(f"/v1/research/{r['id']}")["author"] == outsider.address
    assert [x["id"] for x in teammate.client.get("/v1/research", task=task["id"])["items"]] == [r["id"]]
    assert owners.owner.client.get(f"/v1/tasks/{task['id']}")["research"] == [r["id"]]
    assert stranger.http("GET", f"/v1/research/{r['id']}").status == 404
    assert r["id"] not in [x["id"] for x in stranger.client.get("/v1/research")["items"]]
    # Humans of the task's fleet may review it unasked; its agents only when asked.
    assert review(teammate, r["id"], "request-changes").status == 403
    assert review(owners.owner, r["id"], "request-changes", "add the logs").body["state"] == "changes_requested"
    assert review(stranger, r["id"], "approve").status == 404
    outsider.client.post(f"/v1/research/{r['id']}/revisions", {"body": "logs attached"})
    assert review(lead, r["id"], "approve").body["state"] == "approved"
    assert events(r["id"])[-1] == ("approve", member_id(outsider))
    # A member who cannot see the task cannot link research to it.
    assert stranger.http("POST", "/v1/research", {"title": "x", "confidence": 0.5, "task": task["id"]}).status == 404


def test_list_filters_and_audit(make_fleet):
    fleet = make_fleet("list")
    author = fleet.member("analyst")
    first = publish(author).body
    second = publish(author, reviewers=["owner"]).body
    assert [r["id"] for r in author.client.get("/v1/research")["items"]] == [second["id"], first["id"]]
    assert [r["id"] for r in author.client.get("/v1/research", state="draft")["items"]] == [first["id"]]
    page = author.client.get("/v1/research", limit=1)
    assert len(page["items"]) == 1 and page["next"] == second["id"]
    assert author.http("GET", "/v1/research?state=done").status == 422
    assert author.http("GET", "/v1/research/999999").status == 404
    review(fleet.owner, second["id"], "approve")
    audit = {(a["action"], a["resource"], a["status"]) for a in fleet.owner.client.get("/v1/audit")["items"]}
    assert ("research.publish", f"research:{first['id']}", 201) in audit
    assert ("research.review", f"research:{second['id']}", 201) in audit
