"""Messages over HTTP: send, inbox, read, threads, the cross-fleet policy, all-or-nothing, attackers."""

from __future__ import annotations

import pytest


def member_id(actor) -> int:
    from fleetctl.models.core import Fleet, Member

    fleet, name = actor.address.split("/")
    return Member.select(Member.id).join(Fleet).where(Fleet.name == fleet, Member.name == name).scalar()


def received_events(actor) -> list[int]:
    """Ids of the messages recorded as received by `actor` in the change sequence (what wake reads)."""
    from fleetctl.models.core import Change

    rows = Change.select().where(Change.stream == f"messages@{member_id(actor)}", Change.kind == "message",
                                 Change.event == "received").order_by(Change.seq)
    return [r.ref_id for r in rows]


def inbox_ids(actor, **params) -> list[int]:
    return [m["id"] for m in actor.client.get("/v1/messages", **params)["items"]]


@pytest.fixture
def pair(make_fleet):
    """Two fleets: acme (x, y) and labs (scout: cross-fleet, infra only, accepts any fleet)."""
    acme, labs = make_fleet("acme"), make_fleet("labs")
    return (acme, labs, acme.member("x"), acme.member("y"),
            labs.member("scout", domains=["infra"], cross_fleet=True))


def send(actor, recipients, subject="hello", **extra):
    return actor.http("POST", "/v1/messages", {"recipients": recipients, "subject": subject, **extra})


def test_send_shape_views_and_delivery_marks(pair):
    acme, labs, x, y, scout = pair
    resp = send(x, ["y", f"{labs.name}/scout"], body="**hi**", domains=["infra"])
    assert resp.status == 201, resp.body
    m = resp.body
    assert m["sender"] == x.address and m["recipients"] == [y.address, scout.address]
    assert m["subject"] == "hello" and m["body"] == "**hi**" and m["domains"] == ["infra"]
    assert m["thread"] == m["id"] and m["reply_to"] is None and m["created_at"].endswith("Z")
    assert m["deliveries"] == [{"recipient": a, "delivered_at": None, "read_at": None}
                               for a in (y.address, scout.address)]
    # A recipient sees its own marks at top level and not the others' deliveries.
    shown = y.client.get(f"/v1/messages/{m['id']}")
    assert shown["delivered_at"] is None and shown["read_at"] is None and "deliveries" not in shown
    assert shown["body"] == "**hi**"
    # Show has no side effect; the inbox listing marks delivered; read marks read.
    assert x.client.get(f"/v1/messages/{m['id']}")["deliveries"][0]["delivered_at"] is None
    listed = y.client.get("/v1/messages")["items"]
    assert [i["id"] for i in listed] == [m["id"]] and listed[0]["delivered_at"] and listed[0]["read_at"] is None
    assert listed[0]["preview"] == "**hi**" and "body" not in listed[0]
    read = y.client.post(f"/v1/messages/{m['id']}/read")
    assert read["read_at"] and read["delivered_at"] == listed[0]["delivered_at"] and read["body"] == "**hi**"
    marks = {d["recipient"]: d for d in x.client.get(f"/v1/messages/{m['id']}")["deliveries"]}
    assert marks[y.address]["read_at"] == read["read_at"]
    assert marks[scout.address] == {"recipient": scout.address, "delivered_at": None, "read_at": None}
    # The sender reading its own message marks nothing.
    assert x.client.post(f"/v1/messages/{m['id']}/read")["read_at"] is None


def test_forged_sender_is_refused_and_nothing_sent(pair):
    acme, labs, x, y, scout = pair
    for field in ("sender", "from"):
        resp = send(x, ["y"], **{field: f"{acme.name}/owner"})
        assert resp.status == 422 and field in resp.body["detail"], resp.body
    assert inbox_ids(y) == [] and received_events(y) == []
    # The sender is always the token's member.
    assert y.client.post("/v1/messages", {"recipients": ["x"], "subject": "s"})["sender"] == y.address


def test_only_sender_and_recipients_can_read(pair, make_fleet):
    acme, labs, x, y, scout = pair
    bystander = acme.member("bystander")
    m = send(x, ["y"]).body
    outsiders = [bystander, scout, acme.owner, labs.owner, make_fleet("evil").owner]
    for who in outsiders:
        for method, path in (("GET", f"/v1/messages/{m['id']}"), ("POST", f"/v1/messages/{m['id']}/read"),
                             ("GET", f"/v1/messages/{m['id']}/thread")):
            resp = who.http(method, path)
            assert resp.status == 404 and resp.body["detail"] == f"message {m['id']} not found", (who, path)
        # Not even by replying to it, which would pull it into a thread the outsider can read.
        assert send(who, [x.address], reply_to=m["id"], domains=["infra"]).status == 404
        assert inbox_ids(who) == []
    assert x.http("GET", "/v1/messages/999999999").status == 404
    assert y.client.get(f"/v1/messages/{m['id']}")["read_at"] is None  # the refused reads marked nothing


def test_cross_fleet_policy_is_read_from_the_registration_at_each_send(pair):
    acme, labs, x, y, scout = pair
    quiet = labs.member("quiet", domains=["infra"])
    resp = send(x, [quiet.address], domains=["infra"])
    assert resp.status == 403 and "rule: cross_fleet" in resp.body["detail"]
    resp = send(x, [scout.address], domains=["payments"])
    assert resp.status == 403 and "rule: domains" in resp.body["detail"] and "infra" in resp.body["detail"]
    assert send(x, [scout.address]).status == 403  # no domain at all
    labs.owner.client.patch("/v1/agents/scout", {"allow_fleets": ["someone-else"]})
    resp = send(x, [scout.address], domains=["infra"])
    assert resp.status == 403 and "rule: allow_fleets" in resp.body["detail"]
    labs.owner.client.patch("/v1/agents/scout", {"allow_fleets": [acme.name]})
    assert send(x, [scout.address], domains=["infra"]).status == 201
    labs.owner.client.patch("/v1/agents/quiet", {"cross_fleet": True})
    assert send(x, [quiet.address], domains=["infra"]).status == 201
    labs.owner.client.patch("/v1/agents/scout", {"cross_fleet": False})
    assert send(x, [scout.address], domains=["infra"]).status == 403
    # Inside one fleet everything goes, domains or not.
    assert send(scout, ["quiet"]).status == 201


def test_all_or_nothing(pair):
    acme, labs, x, y, scout = pair
    refused = send(x, ["y", scout.address], domains=["payments"])
    assert refused.status == 403 and scout.address in refused.body["detail"]
    unknown = send(x, ["y", f"{labs.name}/ghost"], domains=["infra"])
    assert unknown.status == 404 and f"{labs.name}/ghost" in unknown.body["detail"]
    labs.owner.client.post("/v1/agents/scout/revoke")
    revoked = send(x, ["y", scout.address], domains=["infra"])
    assert revoked.status == 403 and "rule: revoked" in revoked.body["detail"]
    assert inbox_ids(y) == [] and received_events(y) == []
    assert x.client.get("/v1/messages")["items"] == []


def test_refusal_is_audited_for_the_senders_owner(pair):
    acme, labs, x, y, scout = pair
    assert send(x, [scout.address], domains=["payments"]).status == 403
    records = acme.owner.client.get("/v1/audit", action="message.send")["items"]
    assert [(r["member"], r["status"]) for r in records] == [(x.address, 403)]
    ok = send(x, ["y"]).body
    records = acme.owner.client.get("/v1/audit", action="message")["items"]
    assert (x.address, "message.send", f"message:{ok['id']}", 201) in [
        (r["member"], r["action"], r["resource"], r["status"]) for r in records]


def test_change_event_per_recipient(pair):
    acme, labs, x, y, scout = pair
    m = send(x, ["y", scout.address, "y"], domains=["infra"]).body
    assert received_events(y) == [m["id"]] and received_events(scout) == [m["id"]]
    assert received_events(x) == []
    from fleetctl.models.core import Change, Fleet

    rows = Change.select().where(Change.kind == "message", Change.ref_id == m["id"])
    assert {r.fleet_id for r in rows} == {Fleet.get(Fleet.name == acme.name).id}  # the sender's fleet


def test_inbox_unread_first_then_newest_and_paging(pair):
    acme, labs, x, y, scout = pair
    ids = [send(x, ["y"], subject=f"m{n}").body["id"] for n in range(4)]
    for i in (ids[1], ids[3]):
        y.client.post(f"/v1/messages/{i}/read")
    expected = [ids[2], ids[0], ids[3], ids[1]]
    assert inbox_ids(y) == expected
    assert inbox_ids(y, unread=True) == [ids[2], ids[0]]
    for size in (1, 2, 3):
        seen, after = [], None
        while True:
            page = y.client.get("/v1/messages", limit=size, after=after)
            seen += [m["id"] for m in page["items"]]
            after = page["next"]
            if after is None:
                break
        assert seen == expected, size
    page = y.client.get("/v1/messages", unread=True, limit=1)
    assert [m["id"] for m in page["items"]] == [ids[2]]
    assert inbox_ids(y, unread=True, after=page["next"]) == [ids[0]]


def test_threads(pair):
    acme, labs, x, y, scout = pair
    bystander = acme.member("bystander")
    root = send(x, ["y", scout.address], subject="deploy broke", domains=["infra"]).body
    # A cross-fleet reply obeys the policy too: x's registration decides what it accepts.
    r1 = send(scout, [x.address], subject="re: deploy", reply_to=root["id"])
    assert r1.status == 403 and "rule: cross_fleet" in r1.body["detail"]
    acme.owner.client.patch("/v1/agents/x", {"cross_fleet": True, "domains": ["infra"]})
    r1 = send(scout, [x.address], subject="re: deploy", reply_to=root["id"])
    assert r1.status == 201, r1.body
    r1 = r1.body
    assert r1["thread"] == root["id"] and r1["reply_to"] == root["id"] and r1["domains"] == ["infra"]
    r2 = send(x, ["y", "bystander"], subject="fyi", reply_to=r1["id"]).body
    assert r2["thread"] == root["id"] and r2["reply_to"] == r1["id"]
    thread = x.client.get(f"/v1/messages/{r2['id']}/thread")
    assert thread["thread"] == root["id"] and [m["id"] for m in thread["items"]] == [root["id"], r1["id"], r2["id"]]
    assert thread["items"][1]["preview"] == "" and thread["items"][1]["body_chars"] == 0
    assert thread["items"][1]["sender"] == scout.address
    # Each member sees only the messages of the thread it can read.
    assert [m["id"] for m in y.client.get(f"/v1/messages/{root['id']}/thread")["items"]] == [root["id"], r2["id"]]
    assert [m["id"] for m in bystander.client.get(f"/v1/messages/{r2['id']}/thread")["items"]] == [r2["id"]]
    assert bystander.http("GET", f"/v1/messages/{root['id']}/thread").status == 404
    assert [m["id"] for m in scout.client.get(f"/v1/messages/{r1['id']}/thread")["items"]] == [root["id"], r1["id"]]
    paged = x.client.get(f"/v1/messages/{root['id']}/thread", limit=2)
    assert len(paged["items"]) == 2 and paged["next"] is not None
    # Replying to a message that does not exist is 404 and sends nothing.
    assert send(y, ["x"], reply_to=10**9).status == 404
    assert [m["id"] for m in x.client.get("/v1/messages")["items"]] == [r1["id"]]


def test_recipient_rules(pair):
    acme, labs, x, y, scout = pair
    m = send(x, ["y", y.address, " y", "x"]).body
    assert m["recipients"] == [y.address, x.address]  # duplicates collapse; yourself is allowed
    assert inbox_ids(x) == [m["id"]] and x.client.get(f"/v1/messages/{m['id']}")["deliveries"]
    for bad, status in (([], 422), (["Not A Name"], 422), (["a/b/c"], 422), ([7], 422), ("y", 422),
                        (["ghost"], 404), ([f"{acme.name}x/y"], 404)):
        resp = send(x, bad)
        assert resp.status == status, (bad, resp.body)
    many = [f"m{n}" for n in range(101)]
    resp = send(x, many)
    assert resp.status == 422 and "100" in resp.body["detail"]
    assert inbox_ids(y) == [m["id"]]


def test_bad_input_writes_nothing(pair):
    acme, labs, x, y, scout = pair
    for body, status in (({"recipients": ["y"], "subject": ""}, 422), ({"recipients": ["y"], "subject": "  "}, 422),
                         ({"recipients": ["y"]}, 422), ({"subject": "s"}, 422),
                         ({"recipients": ["y"], "subject": "s", "body": 5}, 422),
                         ({"recipients": ["y"], "subject": "s", "domains": ["Bad Tag"]}, 422),
                         ({"recipients": ["y"], "subject": "x" * 301}, 422),
                         ({"recipients": ["y"], "subject": "s", "reply_to": 0}, 422),
                         ({"recipients": ["y"], "subject": "s", "reply_to": "1"}, 422)):
        resp = x.http("POST", "/v1/messages", body)
        assert resp.status == status, (body, resp.body)
        assert resp.getheader("Content-Type") == "application/problem+json"
    big = x.http("POST", "/v1/messages", {"recipients": ["y"], "subject": "s", "body": "a" * (1024 * 1024 + 1)})
    assert big.status == 413
    assert inbox_ids(y) == [] and received_events(y) == []
    assert x.http("GET", "/v1/messages?unread=maybe").status == 422
    assert x.http("GET", "/v1/messages?limit=0").status == 422


def test_mark_delivered_for_the_wake_prompt(pair):
    from fleetctl.models.core import Member
    from fleetctl.services import messages

    acme, labs, x, y, scout = pair
    m1, m2 = (send(x, ["y"]).body["id"] for _ in range(2))
    other = send(x, ["x"]).body["id"]
    y_member = Member.get_by_id(member_id(y))
    assert messages.mark_delivered(y_member, [m1, other]) == 1  # only y's own deliveries change
    assert messages.mark_delivered(y_member, [m1]) == 0  # the first fetch is kept
    assert y.client.get(f"/v1/messages/{m1}")["delivered_at"] is not None
    assert y.client.get(f"/v1/messages/{m2}")["delivered_at"] is None
    assert x.client.get(f"/v1/messages/{other}")["delivered_at"] is None


def test_openapi_documents_message_routes(server):
    from conftest import http_request

    paths = http_request(server.url, "GET", "/v1/openapi.json").body["paths"]
    send_schema = paths["/v1/messages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(send_schema["properties"]) == {"recipients", "subject", "body", "domains", "reply_to"}
    assert send_schema["additionalProperties"] is False
    for path in ("/v1/messages/{id}", "/v1/messages/{id}/read", "/v1/messages/{id}/thread"):
        assert path in paths
