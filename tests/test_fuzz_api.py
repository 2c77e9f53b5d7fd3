"""Fuzz every route of /v1/openapi.json with bodies, query strings and path ids built from its schemas.

Values are mostly wrong on purpose: wrong types, empty and huge strings, NUL bytes, lone surrogates,
NaN and infinities, deep nesting, invalid UTF-8, negative and enormous limits, ids past 64 bits.
Whatever comes in, the server answers below 500, never with a traceback, and stays healthy.
The case budget is FLEET_FUZZ_EXAMPLES per operation (default 25); the seed is fixed for CI.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from urllib.parse import quote, urlencode

import pytest
from conftest import Actor, http_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FLEET_FUZZ_EXAMPLES", "25"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck), print_blob=True)
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlite3.", "psycopg.", "peewee.")

# Right type, wrong content: the strings services parse (durations, times, addresses, links, names).
NASTY = st.sampled_from([
    "", " ", "\ud800", "a\udfffb", "\x00", "‮rtl", "🦀" * 50, "9" * 400, "-1", "0",
    "99999999999999999999w", "-5d", "0s", "1x", "3.5h", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00",
    "2026-13-45T99:99:99Z", "1970-01-01T00:00:00+14:00", "now", "a/b/c", "/", "x/", "/x", "owner",
    "research:99999999999999999999999", "research:-1", "research:", "doc:", "doc:../etc", "task:1",
    "*", "%", "_", "' OR 1=1 --", '"', "\\", "NEAR(a b)", "a AND", "OR", '"unterminated', "a* b*", "-x",
])
BIG_INTS = st.sampled_from([-1, 0, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 + 1, -(2**63) - 1, 10**30])
HUGE = st.sampled_from(["x" * 100_000, "é" * 70_000, "\x00" * 1000, "a\x00b"])
TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
JUNK_SCALAR = st.one_of(
    st.none(), st.booleans(), BIG_INTS, st.integers(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 0.5]),
    TEXT, HUGE, NASTY,
)


def _deep(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


JUNK = st.one_of(
    JUNK_SCALAR,
    st.lists(JUNK_SCALAR, max_size=5),
    st.dictionaries(st.text(max_size=8), JUNK_SCALAR, max_size=4),
    st.sampled_from([_deep(50), _deep(900), [[]] * 500, {"a": {"b": {"c": None}}}]),
)
FORGED = ("author", "sender", "creator", "member", "fleet", "updated_by", "id", "created_at", "state")


def valid_value(schema: dict) -> st.SearchStrategy:
    """A value that satisfies `schema` (the F.schema() subset fleetctl emits)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "integer":
        return st.integers(int(schema.get("minimum", -(2**63))), int(schema.get("maximum", 2**63 - 1)))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e9), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        item = valid_value(schema.get("items", {"type": "string"}))
        return st.lists(item, max_size=min(schema.get("maxItems", 5), 5))
    slug = st.text(string.ascii_lowercase + string.digits + "-/:", min_size=1, max_size=20)
    return st.one_of(slug, st.text(max_size=schema.get("maxLength", 200)), NASTY)


def any_value(schema: dict) -> st.SearchStrategy:
    return st.one_of(valid_value(schema), JUNK)


def body_strategy(schema: dict | None) -> st.SearchStrategy:
    """(raw bytes or None, JSON object or None) for a request body."""
    if schema is None:
        return st.one_of(st.just((None, None)), st.tuples(st.just(None), JUNK))
    props = schema.get("properties", {})
    fields = st.fixed_dictionaries({}, optional={name: any_value(s) for name, s in props.items()})
    required = {name: valid_value(props[name]) for name in schema.get("required", [])}
    good = st.fixed_dictionaries(required, optional={name: valid_value(s) for name, s in props.items()
                                                     if name not in required})
    forged = st.builds(lambda d, k, v: {**d, k: v}, good, st.sampled_from(FORGED), JUNK_SCALAR)
    raw = st.sampled_from([b"\xff\xfe\xfa", b'{"title": "\xc3\x28"}', b"{", b"[" * 100_000, b"null",
                           b'{"a":' * 5000 + b"1" + b"}" * 5000, b"\x00", b"1e99999", b'"' + b"a" * 50 + b'"'])
    return st.one_of(
        st.tuples(st.just(None), fields), st.tuples(st.just(None), good), st.tuples(st.just(None), forged),
        st.tuples(st.just(None), JUNK), st.tuples(raw, st.just(None)),
    )


HELD = {"wait": {"maximum": 1}}  # a valid `wait` holds the request that many seconds (live wake): 1 at most


def query_value(schema: dict) -> st.SearchStrategy:
    junk = st.one_of(BIG_INTS.map(str), st.sampled_from(["", "1e309", "NaN", "-0", "0x10", "%ff", "\x00",
                                                          "x" * 100_000, "ünï", "true", "[]"]), TEXT, NASTY)
    valid = valid_value(schema).map(lambda v: json.dumps(v) if isinstance(v, bool) else str(v))
    return st.one_of(valid, junk)


def path_value(schema: dict, known: list[int]) -> st.SearchStrategy:
    if schema.get("type") == "integer":
        ids = st.sampled_from(known) if known else st.just(1)
        return st.one_of(ids, BIG_INTS).map(str)
    names = st.sampled_from(["spec", "fz-doc", "nope", "..", "%2e%2e", "a" * 5000, "x\x00y", "ü", "."])
    return st.one_of(names, st.text(min_size=1, max_size=30))


def operations(spec: dict):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def _check_no_trace(resp, label: str = "") -> str:
    text = resp.body if isinstance(resp.body, str) else json.dumps(resp.body)
    assert resp.status < 500, f"{label} -> {resp.status}: {text[:500]}"
    for marker in TRACE_MARKERS:
        assert marker not in text, f"{label} leaked {marker!r}: {text[:500]}"
    return text


def _check(resp, label: str) -> None:
    text = _check_no_trace(resp, label)
    assert resp.status != 429, f"{label} was rate limited: {text[:200]}"
    if resp.status >= 400 and "(generated by waitress)" in text:
        assert resp.status in (400, 413, 431), label  # refused by the HTTP layer before the app ran
    elif resp.status >= 400:
        ctype = resp.getheader("Content-Type", "")
        assert ctype.startswith("application/problem+json"), f"{label} -> {resp.status} {ctype}: {text[:300]}"
        assert isinstance(resp.body, dict) and resp.body.get("status") == resp.status, label


@pytest.fixture
def fuzz_owner(server):
    """An owner with no practical rate limit in a fleet whose name no fuzz value will guess."""

    from fleetctl.services import members

    fleet, owner, token = members.create_fleet(f"fz-{secrets.token_hex(4)}", 1_000_000,
                                               owner=f"root-{secrets.token_hex(4)}")
    actor = Actor(owner.address, token, server.url)
    actor.client.patch(f"/v1/agents/{owner.name}", {"rate_limit": 1_000_000})
    return actor


def _seed(owner) -> list[int]:
    """A few real items so that path ids sometimes hit something that exists."""
    c = owner.client
    ids = [c.post("/v1/tasks", {"title": "fuzz target"})["id"]]
    ids.append(c.post("/v1/messages", {"recipients": [owner.name], "subject": "fuzz"})["id"])
    c.request("PUT", "/v1/documents/fz-doc", {"body": "one\n"})
    ids.append(c.post("/v1/knowledge", {"kind": "tip", "title": "fuzz"})["id"])
    ids.append(c.post("/v1/research", {"title": "fuzz", "confidence": 0.5})["id"])
    return sorted(set(ids))


def _fuzz_operation(server, state: dict, method: str, path: str, op: dict, known: list[int],
                    examples: int = EXAMPLES) -> None:
    """Run `examples` generated requests against one operation."""
    params = op.get("parameters", [])
    path_params = {p["name"]: path_value(p["schema"], known) for p in params if p["in"] == "path"}
    query_params = {p["name"]: query_value({**p["schema"], **HELD.get(p["name"], {})})
                    for p in params if p["in"] == "query"}
    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    body = st.just((None, None)) if method == "GET" and body_schema is None else body_strategy(body_schema)

    @settings(SETTINGS, max_examples=examples)
    @given(pv=st.fixed_dictionaries(path_params), qv=st.fixed_dictionaries({}, optional=query_params), bv=body)
    def case(pv, qv, bv):
        target = path
        for name, value in pv.items():
            target = target.replace("{" + name + "}", quote(value.encode("utf-8", "surrogatepass"), safe=""))
        if qv:
            target += "?" + urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in qv.items()})
        raw, obj = bv
        if raw is None and obj is not None:
            raw = json.dumps(obj).encode()
        resp = http_request(server.url, method, target, raw=raw,
                            headers={"Authorization": f"Bearer {state['token']}"})
        state["cases"] += 1
        _check(resp, f"{method} {target[:200]} body={(raw or b'')[:200]!r}")
        minted = resp.body.get("member", {}) if resp.status < 300 and isinstance(resp.body, dict) else {}
        if "token" in resp.body and isinstance(minted, dict) and minted.get("address") == state["address"]:
            state["token"] = resp.body["token"]  # the fuzzer rotated its own token

    case()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["owner", "agent"])
def test_fuzz_every_route(server, fuzz_owner, role):
    """As an owner (every route reachable) and as an agent (the refusal paths), EXAMPLES and a third of it."""
    spec = http_request(server.url, "GET", "/v1/openapi.json").body
    known = _seed(fuzz_owner)
    actor, examples = fuzz_owner, EXAMPLES
    if role == "agent":
        made = fuzz_owner.client.post("/v1/agents", {"name": f"fz-agent-{secrets.token_hex(3)}", "cross_fleet": True,
                                                     "domains": ["infra"], "rate_limit": 1_000_000})
        actor, examples = Actor(made["member"]["address"], made["token"], server.url), max(1, EXAMPLES // 3)
    state = {"token": actor.token, "address": actor.address, "cases": 0}
    ops = list(operations(spec))
    assert len(ops) >= 30, "the API description lost routes"
    for method, path, op in ops:
        _fuzz_operation(server, state, method, path, op, known, examples)

    print(f"fuzz: {state['cases']} cases over {len(ops)} operations as {role} ({server.engine})")
    assert state["cases"] >= len(ops) * min(examples, 5)
    health = http_request(server.url, "GET", "/healthz")
    assert health.status == 200 and health.body["ok"] is True
    me = http_request(server.url, "GET", "/v1/whoami", headers={"Authorization": f"Bearer {state['token']}"})
    assert me.status == 200 and me.body["member"]["address"] == actor.address


@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/knowledge/18446744073709551617"), ("GET", "/v1/tasks/9223372036854775808"),
    ("GET", "/v1/messages/99999999999999999999999999"), ("GET", "/v1/research/18446744073709551616"),
    ("POST", "/v1/knowledge/18446744073709551617/pin"), ("GET", "/v1/messages/9223372036854775808/thread"),
    ("GET", "/v1/knowledge?limit=99999999999999999999999"), ("GET", "/v1/tasks?after=-99999999999999999999"),
])
def test_ids_past_64_bits_are_404_or_422(server, fuzz_owner, method, path):
    resp = fuzz_owner.http(method, path)
    assert resp.status in (404, 422), (resp.status, resp.body)
    _check(resp, path)


def test_values_no_database_can_store_are_refused(server, fuzz_owner):
    """Integers past 64 bits, lone surrogates, NaN and infinities: 422 on both engines, never 500."""
    task = fuzz_owner.client.post("/v1/tasks", {"title": "overflow target"})
    me = fuzz_owner.name
    cases = [("POST", f"/v1/tasks/{task['id']}/actions", {"action": "claim", "version": 2**64}),
             ("POST", "/v1/tasks", {"title": "t", "depends_on": [2**64]}),
             ("POST", "/v1/tasks", {"title": "t", "depends_on": [-(2**63) - 5]}),
             ("PUT", "/v1/documents/fz-big", {"body": "x", "base_version": 2**40}),
             ("POST", "/v1/messages", {"recipients": [me], "subject": "s", "reply_to": 2**70}),
             ("POST", "/v1/tasks", {"title": "\ud800"}),
             ("POST", "/v1/tasks", {"title": "t", "domains": ["a\udfff"]}),
             ("POST", "/v1/messages", {"recipients": [me], "subject": "s", "body": "x\udc00y"}),
             ("POST", "/v1/knowledge", {"kind": "tip", "title": "\ud83d"}),
             ("PUT", "/v1/documents/fz-sur", {"body": "\udfff"}),
             ("POST", "/v1/research", {"title": "r", "confidence": float("nan")}),
             ("POST", "/v1/research", {"title": "r", "confidence": float("inf")})]
    for method, path, body in cases:
        resp = fuzz_owner.http(method, path, body)
        assert resp.status == 422, (path, body, resp.status, resp.body)
        _check(resp, path)


AUTH_JUNK = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer flt_", "Bearer flt_1_1_", "Token abc",
                     "Bearer flt_0_0_" + "a" * 36, "Bearer flt_99999999999999999999_1_" + "a" * 36,
                     "Bearer " + "x" * 8000, "Bearer flt_1_1_" + "é" * 36]),
    st.builds(lambda a, b, s: f"Bearer flt_{a}_{b}_{s}", st.integers(-5, 2**70), st.integers(-5, 2**70),
              st.text(string.ascii_letters + string.digits, min_size=30, max_size=40)),
)


def test_fuzz_authorization_headers_never_5xx_and_spoofed_ips_do_not_dodge_the_limit(server, fuzz_owner,
                                                                                        monkeypatch):
    from fleetctl.services import ratelimit, tokens

    monkeypatch.setattr(tokens, "failures", ratelimit.SlidingWindow(60.0))  # this test's failures only
    assert fuzz_owner.http("GET", "/v1/whoami").status == 200  # verified and cached before the flood
    seen: list[int] = []

    @SETTINGS
    @given(header=AUTH_JUNK, path=st.sampled_from(["/v1/whoami", "/v1/knowledge", "/v1/tasks/1", "/v1/audit"]),
           spoof=st.integers(1, 250))
    def case(header, path, spoof):
        value = header.encode("utf-8", "surrogatepass").decode("latin-1").translate({10: 32, 13: 32})
        headers = {"Authorization": value, "X-Forwarded-For": f"10.0.0.{spoof}", "X-Real-IP": f"10.1.0.{spoof}",
                   "Forwarded": f"for=10.2.0.{spoof}"}
        resp = http_request(server.url, "GET", path, headers=headers)
        seen.append(resp.status)
        assert resp.status in (400, 401, 429, 431), (header[:80], resp.status, resp.body)
        _check_no_trace(resp)

    case()
    for _ in range(tokens.AUTH_FAILURES_PER_MINUTE + 5):  # whatever the fuzz left of the allowance, use it up
        seen.append(http_request(server.url, "GET", "/v1/whoami", headers={
            "Authorization": "Bearer nope", "X-Forwarded-For": f"10.9.{len(seen) % 250}.1"}).status)
    assert seen[-1] == 429, "spoofed proxy headers reset the per-IP failure allowance"
    assert fuzz_owner.http("GET", "/v1/whoami").status == 200  # a cached good token still works from this IP
    print(f"fuzz: {len(seen)} authorization cases ({server.engine})")
