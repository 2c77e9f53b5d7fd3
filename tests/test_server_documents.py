"""Documents over HTTP: versions, compare-and-set, concurrent writers, visibility and refusals."""

from __future__ import annotations

import threading

import pytest


def put(actor, name, body, **fields):
    return actor.http("PUT", f"/v1/documents/{name}", {"body": body, **fields})


def test_versions_are_kept_and_readable(make_fleet):
    fleet = make_fleet("docs")
    writer = fleet.member("writer")
    first = put(writer, "payments-spec", "# Spec\n\nv1\n", title="Payments spec", domains=["payments"],
                message="first draft")
    assert first.status == 201, first.body
    doc = first.body
    assert (doc["name"], doc["version"], doc["title"], doc["updated_by"]) == (
        "payments-spec", 1, "Payments spec", writer.address)
    assert doc["visibility"] == "fleet" and doc["domains"] == ["payments"] and doc["fleet"] == fleet.name
    second = put(fleet.owner, "payments-spec", "# Spec\n\nv2\n", base_version=1, message="second")
    assert second.status == 200 and second.body["version"] == 2
    assert second.body["title"] == "Payments spec" and second.body["domains"] == ["payments"]  # kept
    assert second.body["updated_by"] == fleet.owner.address

    latest = writer.client.get("/v1/documents/payments-spec")
    assert latest["body"] == "# Spec\n\nv2\n" and latest["version"] == 2 and latest["author"] == fleet.owner.address
    old = writer.client.get(f"/v1/documents/{fleet.name}/payments-spec", version=1)
    assert (old["body"], old["version"], old["latest_version"], old["message"], old["author"]) == (
        "# Spec\n\nv1\n", 1, 2, "first draft", writer.address)
    assert writer.http("GET", "/v1/documents/payments-spec?version=3").status == 404

    history = writer.client.get("/v1/documents/payments-spec/versions")
    assert [(v["version"], v["author"], v["message"]) for v in history["items"]] == [
        (2, fleet.owner.address, "second"), (1, writer.address, "first draft")]
    paged = writer.client.get("/v1/documents/payments-spec/versions", limit=1)
    assert [v["version"] for v in paged["items"]] == [2] and paged["next"] == 2

    diff = writer.client.get("/v1/documents/payments-spec/diff", **{"from": 1, "to": 2})["diff"]
    assert diff.startswith(f"--- {fleet.name}/payments-spec@1\n+++ {fleet.name}/payments-spec@2\n")
    assert "-v1\n+v2\n" in diff
    assert writer.http("GET", "/v1/documents/payments-spec/diff?from=1&to=9").status == 404
    assert writer.http("GET", "/v1/documents/payments-spec/diff?from=1").status == 422

    listed = writer.client.get("/v1/documents")["items"]
    assert [d["name"] for d in listed] == ["payments-spec"] and "body" not in listed[0]


def test_base_version_is_compare_and_set(make_fleet):
    fleet = make_fleet("cas")
    owner = fleet.owner
    assert put(owner, "plan", "new", base_version=0).status == 201
    assert put(owner, "plan", "again", base_version=0).status == 409
    assert put(owner, "plan", "v2", base_version=1).status == 200
    stale = put(owner, "plan", "lost update", base_version=1)
    assert stale.status == 409 and stale.body["current_version"] == 2
    assert "version 2, not 1" in stale.body["detail"]
    assert put(owner, "ghost", "x", base_version=3).status == 409
    assert owner.http("GET", "/v1/documents/ghost").status == 404
    assert owner.client.get("/v1/documents/plan")["body"] == "v2"
    assert put(owner, "plan", "v3").body["version"] == 3  # without a base version a put appends


def _race(writers, name, body_of, **fields):
    barrier = threading.Barrier(len(writers))
    results = [None] * len(writers)

    def run(i, actor):
        barrier.wait()
        results[i] = put(actor, name, body_of(i), **fields)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_writers_on_one_base_exactly_one_wins(make_fleet):
    fleet = make_fleet("race")
    writers = [fleet.member(f"w{i}") for i in range(4)]
    assert put(fleet.owner, "runbook", "base").status == 201
    for round_ in range(1, 4):
        results = _race(writers, "runbook", lambda i, r=round_: f"round {r} by {i}", base_version=round_)
        statuses = sorted(r.status for r in results)
        assert statuses == [200, 409, 409, 409], [r.body for r in results]
        winner = next(i for i, r in enumerate(results) if r.status == 200)
        doc = fleet.owner.client.get("/v1/documents/runbook")
        assert doc["version"] == round_ + 1 and doc["body"] == f"round {round_} by {winner}"
    history = fleet.owner.client.get("/v1/documents/runbook/versions")["items"]
    assert [v["version"] for v in history] == [4, 3, 2, 1]


def test_concurrent_appends_and_first_puts_lose_nothing(make_fleet):
    fleet = make_fleet("append")
    writers = [fleet.member(f"w{i}") for i in range(4)]
    created = _race(writers, "log", lambda i: f"entry {i}")
    assert sorted(r.status for r in created) == [200, 200, 200, 201], [r.body for r in created]
    assert sorted(r.body["version"] for r in created) == [1, 2, 3, 4]  # each put reports the version it wrote
    history = fleet.owner.client.get("/v1/documents/log/versions")["items"]
    assert sorted(v["version"] for v in history) == [1, 2, 3, 4]
    assert {v["author"] for v in history} == {w.address for w in writers}
    fresh = _race(writers, "fresh", lambda i: f"only {i}", base_version=0)
    assert sorted(r.status for r in fresh) == [201, 409, 409, 409]


def test_fleet_only_documents_are_invisible_to_other_fleets(make_fleet):
    home, other = make_fleet("home"), make_fleet("other")
    put(home.owner, "secret", "classified", domains=["infra"])
    spy = other.member("spy", domains=["infra"], cross_fleet=True)
    address = f"{home.name}/secret"
    for path in (address, f"{address}/versions", f"{address}/diff?from=1&to=1"):
        resp = spy.http("GET", f"/v1/documents/{path}")
        assert resp.status == 404, (path, resp.body)
    assert put(spy, address, "defaced").status == 404
    assert spy.client.get("/v1/documents")["items"] == []
    assert home.owner.client.get("/v1/documents/secret")["version"] == 1


def test_cross_fleet_documents_reach_matching_members_and_stay_read_only(make_fleet):
    home, other = make_fleet("home"), make_fleet("other")
    put(home.owner, "api", "contract v1", domains=["payments"], visibility="cross-fleet")
    put(home.owner, "notes", "internal", domains=["payments"])
    partner = other.member("partner", domains=["payments"], cross_fleet=True)
    local_only = other.member("local", domains=["payments"])
    elsewhere = other.member("elsewhere", domains=["infra"], cross_fleet=True)
    address = f"{home.name}/api"

    doc = partner.client.get(f"/v1/documents/{address}")
    assert doc["body"] == "contract v1" and doc["address"] == address
    assert partner.client.get(f"/v1/documents/{address}/versions")["items"][0]["version"] == 1
    assert [d["address"] for d in partner.client.get("/v1/documents")["items"]] == [address]
    assert partner.client.get("/v1/documents", domain="infra")["items"] == []
    for outsider in (local_only, elsewhere):
        assert outsider.http("GET", f"/v1/documents/{address}").status == 404
        assert put(outsider, address, "x").status == 404
    refused = put(partner, address, "hijacked", base_version=1)
    assert refused.status == 403 and home.name in refused.body["detail"]
    # The bare name means the caller's own fleet: the partner creates its own document, not home's.
    assert put(partner, "api", "ours").body["address"] == f"{other.name}/api"
    assert home.owner.client.get("/v1/documents/api")["body"] == "contract v1"
    # Making it fleet-only again hides it at once.
    put(home.owner, "api", "contract v2", visibility="fleet")
    assert partner.http("GET", f"/v1/documents/{address}").status == 404


@pytest.mark.parametrize("body", [
    {"body": "x", "author": "someone/else"},
    {"body": "x", "version": 7},
    {"body": "x", "fleet": "other"},
    {"body": 5},
    {"title": "no body"},
    {"body": "x", "base_version": -1},
    {"body": "x", "base_version": "1"},
    {"body": "x", "visibility": "public"},
    {"body": "x", "domains": ["Not A Tag"]},
    {"body": "x", "title": ""},
])
def test_bad_or_forged_bodies_are_422(make_fleet, body):
    fleet = make_fleet("bad")
    resp = fleet.owner.http("PUT", "/v1/documents/spec", body)
    assert resp.status == 422, resp.body
    assert fleet.owner.http("GET", "/v1/documents/spec").status == 404


def test_bad_names_are_422(make_fleet):
    owner = make_fleet("names").owner
    for name in ("Bad_Name", "versions", "diff", "-x", "a" * 64):
        assert put(owner, name, "x").status == 422, name
    assert owner.http("GET", "/v1/documents/NOPE").status == 422


def test_every_version_is_a_change_event_and_audited(make_fleet, server):
    from fleetctl.models.core import Change

    fleet = make_fleet("events")
    doc = put(fleet.owner, "spec", "one").body
    put(fleet.owner, "spec", "two")
    def versions():
        rows = Change.select().where(Change.kind == "document", Change.ref_id == doc["id"],
                                     Change.stream.endswith(":*"))
        return [(r.event, r.note) for r in rows.order_by(Change.seq)]

    assert versions() == [("version", "1"), ("version", "2")]
    assert put(fleet.owner, "spec", "stale", base_version=1).status == 409
    assert versions() == [("version", "1"), ("version", "2")]
    audit = fleet.owner.client.get("/v1/audit", action="document")["items"]
    assert {(a["action"], a["resource"], a["status"]) for a in audit} >= {
        ("document.put", f"document:{fleet.name}/spec", 201), ("document.put", f"document:{fleet.name}/spec", 200)}
