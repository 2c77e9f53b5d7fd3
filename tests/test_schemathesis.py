"""A bounded schemathesis run against a real `fleetctl serve`: every check (server errors, status codes,
content types, response schemas and headers, positive and negative data, ...) with an owner's token and
an agent's, a fixed seed and a few examples per operation; it must find nothing."""

from __future__ import annotations

import itertools
import re

import pytest
from conftest import http_request
from servers import local, start

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 4
SEED = 18
# These change the tester's own credentials or role (a rotated or revoked token, an owner demoted), so
# every later request would be a 401 or 403 and test nothing.
CREDENTIALS = ("/v1/tokens/rotate", "/v1/agents/{name}/token", "/v1/agents/{name}/revoke")
# Positive data the schema cannot tell from a refusal: rules across fields or over the stored state (a
# duration or an expiry in the past, assign with route, a reason an action does not take, a wake cursor of
# another member, a since that is not ISO 8601, a search without a word, ...). Anything else that is
# schema-valid must be accepted.
CROSS_FIELD = {
    "POST /v1/knowledge", "POST /v1/tasks", "POST /v1/tasks/{id}/actions", "POST /v1/wake/ack", "GET /v1/audit",
    "POST /v1/research/{id}/revisions", "GET /v1/documents/{name}/diff", "GET /v1/documents/{fleet}/{name}/diff",
    "GET /v1/knowledge/search",  # a query needs a letter or digit: `\\w` differs between regex engines
}


KEYS = itertools.count()


def before_call(context, case, kwargs) -> None:
    """A client sends a new Idempotency-Key with each new request (reusing one for another request is a
    422 by design): a valid key the generator repeated is made unique; an invalid one is kept as sent."""
    from fleetctl.server.openapi import IDEMPOTENCY_PARAM

    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(IDEMPOTENCY_PARAM["schema"]["pattern"], key):
        case.headers["Idempotency-Key"] = f"{key[:200]}-{next(KEYS)}"


def filter_case(context, case) -> bool:
    """`/documents/{fleet}/versions` is the versions of document {fleet}, another operation (the schema
    says `name` is never versions or diff): not a request to this one."""
    return not (case.operation.path.startswith("/v1/documents/{fleet}/{name}")
                and (case.path_parameters or {}).get("name") in ("versions", "diff"))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("schemathesis") / "fleet.db")
    made = local(db, "fleet", "create", "st", "--rate-limit", "1000000")
    # A wake with `wait` answers at once. The failed-authentication limit (60 a minute per address) is
    # raised: the `ignored_auth` check sends a bad token to every operation, and on a fast machine that
    # passes 60 a minute, so the limiter's 429 (tested in test_security_limits) would stand in for the 401.
    server = start(db, env={"FLEET_AUTH_FAILURES_PER_MINUTE": "1000000"}, args=("--max-waiters", "0"))
    owner = made["token"]
    http_request(server.url, "PATCH", "/v1/agents/owner", {"rate_limit": 1_000_000},
                 headers={"Authorization": f"Bearer {owner}"})
    agent = http_request(server.url, "POST", "/v1/agents", {"name": "bot", "domains": ["infra"],
                                                          "rate_limit": 1_000_000},
                         headers={"Authorization": f"Bearer {owner}"}).body["token"]
    yield server, {"owner": owner, "agent": agent}
    server.stop()


def _config(token: str, everything: bool):
    """All checks; `everything` adds the requests whose answer cannot depend on the caller (bodies and
    queries that break the schema are refused before any view runs, undeclared methods are 405), which
    the owner's run sends and the agent's need not repeat."""
    from schemathesis.config import SchemathesisConfig

    coverage = {} if everything else {"unexpected-methods": []}
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "auth": {"openapi": {"bearer": {"bearer": token}}},
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all" if everything else "positive"},
        "phases": {"coverage": coverage},
        "checks": {"enabled": True},
        "operations": [{"include-name": sorted(CROSS_FIELD),
                        "checks": {"positive_data_acceptance": {"expected-statuses": [
                            "2xx", "401", "403", "404", "409", "422", "429"]}}}],
    })


def _failures(events) -> list[str]:
    from schemathesis.engine import events as ev
    from schemathesis.engine.recorder import Status

    out = []
    for event in events:
        if isinstance(event, ev.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE:
                        case = event.recorder.cases[case_id].value
                        info = check.failure_info.failure
                        answer = event.recorder.interactions.get(case_id)
                        answer = answer.response if answer is not None else None
                        said = f"{answer.status_code} {answer.content[:200]!r}" if answer is not None else "-"
                        out.append(f"{event.recorder.label}: {check.name}: {info.title} "
                                   f"({case.method} {case.formatted_path} {case.query} {str(case.body)[:200]}) "
                                   f"-> {said}")
        elif isinstance(event, ev.NonFatalError | ev.FatalError):
            out.append(f"error: {event.info.message if hasattr(event, 'info') else event}")
        elif isinstance(event, ev.EngineFinished):
            out.extend(str(f) for f in event.failures)
    return out


@pytest.mark.parametrize("who", ["owner", "agent"])
def test_schemathesis_finds_nothing(fleet, who):
    import schemathesis
    from schemathesis import engine

    server, tokens = fleet
    schema = schemathesis.openapi.from_url(f"{server.url}/v1/openapi.json", config=_config(tokens[who], who == "owner"))
    for path in CREDENTIALS:
        schema = schema.exclude(path=path)
    schema = schema.exclude(path="/v1/agents/{name}", method="PATCH")
    hooks = [schemathesis.hook(before_call), schemathesis.hook(filter_case)]
    try:
        failures = _failures(engine.from_schema(schema).execute())
    finally:
        for hook in hooks:
            schemathesis.hooks.unregister(hook)
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"
