"""Fair limits: a member's own refusals do not spend its fleet's budget; an owner's revoke and update
always pass, whatever the fleet's load."""

from __future__ import annotations


def _statuses(actor, n: int, path: str = "/v1/whoami") -> list[int]:
    return [actor.http("GET", path).status for _ in range(n)]


def test_refusals_by_the_members_own_limit_do_not_count_against_the_fleet(make_fleet):
    fleet = make_fleet("fair", rate_limit=100)
    flooder = fleet.member("flooder", rate_limit=20)
    innocent = fleet.member("innocent")
    flood = _statuses(flooder, 120)
    assert flood.count(200) == 20 and flood.count(429) == 100
    refused = flooder.http("GET", "/v1/whoami")
    assert refused.status == 429 and "member rate limit" in refused.body["detail"]
    # The fleet saw 20 + the 2 registrations: the innocent member still has its share.
    assert _statuses(innocent, 60) == [200] * 60


def test_an_owner_can_revoke_and_update_while_the_fleet_is_over_its_limit(make_fleet):
    fleet = make_fleet("fair", rate_limit=40)
    flooder = fleet.member("flooder", rate_limit=1000)
    spare = fleet.member("spare")
    statuses = _statuses(flooder, 60)
    assert statuses.count(429) > 0
    owner = fleet.owner
    busy = owner.http("GET", "/v1/whoami")
    assert busy.status == 429 and "fleet rate limit" in busy.body["detail"]
    for _ in range(3):
        assert owner.http("PATCH", "/v1/agents/flooder", {"rate_limit": 1}).status == 200
    assert owner.http("POST", "/v1/agents/flooder/revoke").status == 200
    assert flooder.http("GET", "/v1/whoami").status == 401
    # Only owners, and only those two actions: an agent's writes still wait for the fleet's budget.
    assert spare.http("PATCH", "/v1/agents/spare", {"rate_limit": 5}).status == 429
    assert owner.http("POST", "/v1/knowledge", {"kind": "tip", "title": "t"}).status == 429
