"""Foundation over HTTP: health, OpenAPI, whoami, registration rules, problem+json, limits, audit."""

from __future__ import annotations

import re

from conftest import http_request


def test_healthz_needs_no_token(server):
    resp = http_request(server.url, "GET", "/healthz")
    assert resp.status == 200 and resp.body["ok"] is True


def test_openapi_describes_every_route(server):
    spec = http_request(server.url, "GET", "/v1/openapi.json").body
    rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in server.app.url_map.iter_rules()
             if r.endpoint != "static" and not r.rule.startswith("/ui/")}  # the console is HTML, not the API
    documented = set(spec["paths"])
    assert rules <= documented, rules - documented


def test_whoami_shape(make_fleet):
    fleet = make_fleet("acme")
    agent = fleet.member("scout", domains=["infra"])
    data = agent.client.get("/v1/whoami")
    assert data["member"]["address"] == agent.address
    assert data["member"]["role"] == "agent" and data["member"]["domains"] == ["infra"]
    assert data["fleet"]["name"] == fleet.name and data["fleet"]["rate_limit"] == 1000
    assert "token" not in data["member"]


def test_problem_json_for_every_error_class(make_fleet, server):
    fleet = make_fleet()
    owner = fleet.owner
    cases = [
        (http_request(server.url, "GET", "/v1/whoami"), 401),
        (owner.http("POST", "/v1/agents", raw=b"{not json"), 400),
        (owner.http("POST", "/v1/agents", {"name": "Bad Name"}), 422),
        (owner.http("GET", "/v1/agents/nobody"), 404),
        (owner.http("POST", "/v1/agents", raw=b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'), 413),
        (owner.http("DELETE", "/v1/whoami"), 405),
    ]
    for resp, status in cases:
        assert resp.status == status, (status, resp.body)
        assert resp.getheader("Content-Type") == "application/problem+json"
        assert set(resp.body) >= {"type", "title", "status", "detail"} and resp.body["status"] == status


def test_agent_cannot_administer(make_fleet):
    fleet = make_fleet()
    agent = fleet.member("worker")
    for method, path, body in [("POST", "/v1/agents", {"name": "x"}), ("PATCH", f"/v1/agents/{fleet.owner.name}",
                               {"role": "agent"}), ("POST", f"/v1/agents/{fleet.owner.name}/revoke", None),
                               ("POST", f"/v1/agents/{fleet.owner.name}/token", None), ("GET", "/v1/audit", None)]:
        resp = agent.http(method, path, body)
        assert resp.status == 403, (path, resp.body)
    assert [m["name"] for m in fleet.owner.client.get("/v1/agents")["items"]] == ["owner", "worker"]


def test_reviewer_cannot_mint_owner_and_forged_fields_refused(make_fleet):
    fleet = make_fleet()
    resp = fleet.owner.http("POST", "/v1/agents", {"name": "x", "fleet": "other", "sender": "a/b"})
    assert resp.status == 422 and "unknown field" in resp.body["detail"]
    assert fleet.owner.http("GET", "/v1/agents/x").status == 404


def test_owner_of_one_fleet_cannot_touch_another(make_fleet):
    a, b = make_fleet("a"), make_fleet("b")
    victim = b.member("victim")
    assert a.owner.http("GET", f"/v1/agents/{victim.address}").status == 404
    assert a.owner.http("POST", f"/v1/agents/{victim.address}/revoke").status == 404
    assert a.owner.http("PATCH", f"/v1/agents/{b.name}%2Fvictim", {"role": "owner"}).status == 404
    assert victim.client.get("/v1/whoami")["member"]["revoked_at"] is None


def test_revoke_and_rotate_take_effect_at_once(make_fleet):
    fleet = make_fleet()
    agent = fleet.member("worker")
    assert agent.http("GET", "/v1/whoami").status == 200  # now cached
    new = agent.client.post("/v1/tokens/rotate")
    assert agent.http("GET", "/v1/whoami").status == 401
    rotated = type(agent)(agent.address, new["token"], agent.url)
    assert rotated.http("GET", "/v1/whoami").status == 200
    fleet.owner.client.post("/v1/agents/worker/revoke")
    assert rotated.http("GET", "/v1/whoami").status == 401
    refusals = fleet.owner.client.get("/v1/audit", member="worker")["items"]
    assert [r["status"] for r in refusals if r["action"] == "GET /v1/whoami"] == [401, 401]  # owners see them


def test_member_rate_limit_answers_429_with_headers(make_fleet):
    fleet = make_fleet()
    agent = fleet.member("chatty", rate_limit=5)
    statuses = [agent.http("GET", "/v1/whoami") for _ in range(7)]
    assert [r.status for r in statuses[:5]] == [200] * 5
    limited = statuses[-1]
    assert limited.status == 429
    assert int(limited.getheader("Retry-After")) >= 1
    assert limited.getheader("RateLimit-Limit") == "5" and limited.getheader("RateLimit-Remaining") == "0"
    assert fleet.owner.http("GET", "/v1/whoami").status == 200


def test_audit_records_mutations_and_refusals(make_fleet):
    fleet = make_fleet()
    agent = fleet.member("worker")
    agent.http("POST", "/v1/agents", {"name": "sneaky"})
    records = fleet.owner.client.get("/v1/audit")["items"]
    by_action = {(r["action"], r["status"]) for r in records}
    assert ("agent.register", 201) in by_action and ("agent.register", 403) in by_action
    refused = next(r for r in records if r["status"] == 403)
    assert refused["member"] == agent.address and refused["ip"] == "127.0.0.1" and refused["fleet"] == fleet.name
    only = fleet.owner.client.get("/v1/audit", member="worker")["items"]
    assert only and all(r["member"] == agent.address for r in only)


def test_list_limit_is_capped(make_fleet):
    fleet = make_fleet()
    data = fleet.owner.client.get("/v1/agents", limit=10**6)
    assert data["next"] is None and len(data["items"]) == 1
    assert fleet.owner.http("GET", "/v1/agents?limit=abc").status == 422


def test_concurrent_rotations_leave_exactly_one_live_token(make_fleet):
    from concurrent.futures import ThreadPoolExecutor

    fleet = make_fleet()
    agent = fleet.member("worker")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: agent.http("POST", "/v1/tokens/rotate"), range(4)))
    minted = [r.body["token"] for r in results if r.status == 200]
    assert minted, [r.body for r in results]
    live = [t for t in minted if type(agent)(agent.address, t, agent.url).http("GET", "/v1/whoami").status == 200]
    assert len(live) == 1, (len(minted), len(live))


def test_a_known_token_outlives_a_forged_token_flood_from_its_address(make_fleet, monkeypatch):
    from fleetctl.services import tokens

    fleet = make_fleet()
    agent = fleet.member("steady")
    assert agent.http("GET", "/v1/whoami").status == 200
    monkeypatch.setattr(tokens, "failures", tokens.SlidingWindow(60.0))
    forged = f"flt_1_1_{'a' * 36}"
    statuses = {fleet.owner.http("GET", "/v1/whoami", headers={"Authorization": f"Bearer {forged}"}).status
                for _ in range(tokens.AUTH_FAILURES_PER_MINUTE + 5)}
    assert statuses == {401, 429}
    key = __import__("hashlib").sha256(agent.token.encode()).hexdigest()
    tokens.cache._entries[key].expires = 0  # its cached trust ran out: it must be verified again
    assert agent.http("GET", "/v1/whoami").status == 200
    stranger = fleet.member("newcomer")  # never verified here, genuine: its token row exists, so it passes
    assert stranger.http("GET", "/v1/whoami").status == 200
    refused = fleet.owner.http("GET", "/v1/whoami", headers={"Authorization": f"Bearer {forged}"})
    assert refused.status == 429 and refused.getheader("Content-Type") == "application/problem+json"
    assert int(refused.getheader("Retry-After")) >= 1 and "failed authentications" in refused.body["detail"]
    from fleetctl.models.core import AuditEntry
    from fleetctl.services import audit

    audit.writer.flush()
    assert AuditEntry.select().where(AuditEntry.status == 429, AuditEntry.action == "GET /v1/whoami").exists()


def test_the_last_owner_cannot_demote_itself(make_fleet):
    fleet = make_fleet()
    resp = fleet.owner.http("PATCH", f"/v1/agents/{fleet.owner.name}", {"role": "agent"})
    assert resp.status == 409 and "last owner" in resp.body["detail"]
    assert fleet.owner.client.get("/v1/whoami")["member"]["role"] == "owner"
    fleet.member("second", role="owner")
    assert fleet.owner.http("PATCH", f"/v1/agents/{fleet.owner.name}", {"role": "reviewer"}).status == 200


def test_members_are_addressed_by_fleet_slash_name_too(make_fleet):
    fleet, other = make_fleet(), make_fleet()
    worker = fleet.member("worker")
    shown = fleet.owner.http("GET", f"/v1/agents/{worker.address}")
    assert shown.status == 200 and shown.body["address"] == worker.address
    assert fleet.owner.client.patch(f"/v1/agents/{worker.address}", {"domains": ["infra"]})["domains"] == ["infra"]
    assert fleet.owner.client.post(f"/v1/agents/{worker.address}/token")["member"]["address"] == worker.address
    assert fleet.owner.client.post(f"/v1/agents/{worker.address}/revoke")["revoked_at"] is not None
    assert other.owner.http("GET", f"/v1/agents/{worker.address}").status == 404
