"""Behind a load balancer: `serve --trusted-proxy` takes the client address from X-Forwarded-For,
and nobody else can forge it."""

from __future__ import annotations

import pytest
import servers
from conftest import http_request


@pytest.mark.slow
def test_trusted_proxy_names_the_client_and_others_cannot_forge_it(tmp_path):
    db = str(tmp_path / "proxy.db")
    owner = servers.local(db, "fleet", "create", "acme")["token"]
    auth = {"Authorization": f"Bearer {owner}"}
    with servers.start(db, args=("--trusted-proxy", "127.0.0.1")) as behind:
        http_request(behind.url, "POST", "/v1/agents", {"name": "via-proxy"},
                     headers={**auth, "X-Forwarded-For": "203.0.113.7"})
        records = http_request(behind.url, "GET", "/v1/audit", headers=auth).body["items"]
    assert records[0]["resource"] == "agent:acme/via-proxy" and records[0]["ip"] == "203.0.113.7"
    with servers.start(db) as direct:
        http_request(direct.url, "POST", "/v1/agents", {"name": "forged"},
                     headers={**auth, "X-Forwarded-For": "203.0.113.8"})
        records = http_request(direct.url, "GET", "/v1/audit", headers=auth).body["items"]
    assert records[0]["resource"] == "agent:acme/forged" and records[0]["ip"] == "127.0.0.1"
