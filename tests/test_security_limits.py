"""Limits a client cannot talk its way past: every list's page size is capped (proved with more rows than
the cap), bodies over 1 MiB are 413 on every mutation route (with or without Content-Length), and huge
limits, long search queries and long URLs are refused or capped quickly."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from conftest import http_request

CAP = 200
ROWS = CAP + 3


@pytest.fixture(scope="module")
def limited(server):
    """A fleet owner with a message and a document to aim every route at."""
    import secrets

    from conftest import Actor

    from fleetctl.services import members

    _, owner, token = members.create_fleet(f"lim-{secrets.token_hex(3)}", 1_000_000)
    actor = Actor(owner.address, token, server.url)
    c = actor.client
    c.patch(f"/v1/agents/{owner.name}", {"rate_limit": 1_000_000, "domains": ["cap"]})
    root = c.post("/v1/messages", {"recipients": [owner.name], "subject": "root"})
    c.request("PUT", "/v1/documents/many", {"body": "0\n"})
    return actor, {"id": root["id"], "name": "many"}


@pytest.fixture(scope="module")
def crowded(limited):
    """The same owner with more than CAP of everything a list can return (about 1,400 writes: slow)."""
    actor, ids = limited
    owner_name = actor.name
    fresh = lambda: actor.client  # noqa: E731  (one client per call: a Client is not thread-safe)
    jobs = [
        lambda n: fresh().post("/v1/agents", {"name": f"m{n}"}),
        lambda n: fresh().post("/v1/knowledge", {"kind": "tip", "title": f"capword {n}", "domains": ["cap"]}),
        lambda n: fresh().post("/v1/tasks", {"title": f"task {n}", "domains": ["cap"]}),
        lambda n: fresh().post("/v1/messages", {"recipients": [owner_name], "subject": f"m {n}",
                                                "reply_to": ids["id"]}),
        lambda n: fresh().post("/v1/research", {"title": f"r {n}", "confidence": 0.5}),
        lambda n: fresh().request("PUT", f"/v1/documents/d{n}", {"body": "x"}),
        lambda n: fresh().request("PUT", "/v1/documents/many", {"body": f"{n}\n"}),
    ]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda job_n: job_n[0](job_n[1]), [(job, n) for job in jobs for n in range(ROWS)]))
    return actor, ids


def list_routes(server) -> list[str]:
    spec = http_request(server.url, "GET", "/v1/openapi.json").body
    out = []
    for path, ops in spec["paths"].items():
        params = ops.get("get", {}).get("parameters", [])
        if any(p["name"] == "limit" for p in params) and "{fleet}" not in path:
            out.append(path)
    return out


@pytest.mark.slow
def test_every_list_caps_its_page_size(server, crowded):
    actor, ids = crowded
    routes = list_routes(server)
    assert len(routes) >= 10, routes
    checked = []
    for path in routes:
        target = path.replace("{id}", str(ids["id"])).replace("{name}", ids["name"])
        extra = "&q=capword" if path.endswith("/search") else ""
        for limit in (10**9, 1_000_000, CAP + 1):
            began = time.perf_counter()
            resp = actor.http("GET", f"{target}?limit={limit}{extra}")
            elapsed = time.perf_counter() - began
            assert resp.status in (200, 422), (target, limit, resp.status, resp.body)
            assert elapsed < 2.0, (target, limit, elapsed)
            if resp.status == 200:
                assert len(resp.body["items"]) == CAP and resp.body["next"] is not None, (target, limit)
        checked.append(target)
    print(f"limits: {len(checked)} lists capped at {CAP}: {', '.join(checked)}")


def test_bodies_over_one_mib_are_413_on_every_mutation_route(server, limited):
    actor, ids = limited
    spec = http_request(server.url, "GET", "/v1/openapi.json").body
    big = json.dumps({"title": "t", "body": "x" * (1024 * 1024)}).encode()
    routes = [(method.upper(), path) for path, ops in spec["paths"].items() for method, op in ops.items()
              if "requestBody" in op]
    assert len(routes) >= 10
    for method, path in routes:
        target = (path.replace("{id}", str(ids["id"])).replace("{name}", ids["name"])
                  .replace("{fleet}", actor.address.split("/")[0]))
        resp = actor.http(method, target, raw=big)
        assert resp.status == 413, (method, target, resp.status)
        assert resp.body["status"] == 413 and "1 MiB" in resp.body["detail"]
        chunked = _chunked(server.url, method, target, big, actor.token)
        assert chunked == 413, (method, target, chunked)


def _chunked(url: str, method: str, path: str, payload: bytes, token: str) -> int:
    """Send `payload` with Transfer-Encoding: chunked (no Content-Length to check up front)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    chunks = (payload[i:i + 65536] for i in range(0, len(payload), 65536))
    conn.request(method, path, body=chunks, encode_chunked=True,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                          "Transfer-Encoding": "chunked"})
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_body_just_under_the_limit_is_accepted(limited):
    actor, _ = limited
    resp = actor.http("POST", "/v1/knowledge", {"kind": "tip", "title": "big", "body": "y" * 1_000_000})
    assert resp.status == 201, resp.body


@pytest.mark.slow
@pytest.mark.parametrize("query", [
    "q=" + "a" * 100_000, "q=" + "word%20OR%20" * 40 + "x", "q=" + "%22" * 400, "q=" + "*" * 500,
    "q=capword&limit=-1", "q=capword&after=-5", "q=capword&limit=0", "q=",
])
def test_search_queries_cannot_be_made_slow_or_huge(crowded, query):
    actor, _ = crowded
    began = time.perf_counter()
    resp = actor.http("GET", f"/v1/knowledge/search?{query}")
    assert time.perf_counter() - began < 2.0
    assert resp.status in (200, 422), (query[:50], resp.status, resp.body)
    if resp.status == 200:
        assert len(resp.body["items"]) <= CAP


def test_urls_and_headers_past_the_server_limits_are_refused(server, limited):
    actor, _ = limited
    long_url = actor.http("GET", "/v1/knowledge?kind=" + "a" * 300_000)
    assert 400 <= long_url.status < 500
    assert http_request(server.url, "GET", "/healthz").status == 200


@pytest.mark.slow
def test_serve_refuses_huge_bodies_before_spooling_them(db_url):
    """`fleetctl serve` caps bodies in waitress itself: 8 MiB sent to any route (even one that takes no
    body) is refused at once instead of being written to a temporary file first."""
    import servers

    srv = servers.start(db_url)
    try:
        made = servers.local(db_url, "fleet", "create", f"huge-{time.time_ns() % 10**8}")
        parts = urlsplit(srv.url)
        for path in ("/v1/agents/nobody/revoke", "/v1/knowledge"):
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request("POST", path, body=b"x" * (8 * 1024 * 1024),
                             headers={"Authorization": f"Bearer {made['token']}"})
                status = conn.getresponse().status
            except OSError:  # refused mid-upload: the server closed the connection after its 413
                status = 413
            finally:
                conn.close()
            assert status == 413, (path, status)
        assert http_request(srv.url, "GET", "/healthz").status == 200
    finally:
        srv.stop()
