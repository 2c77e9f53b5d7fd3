"""waitress's own refusals (malformed request line, oversized headers or body) are problem+json too."""

from __future__ import annotations

import json
import select
import socket
from urllib.parse import urlsplit

import pytest
from servers import start

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    server = start(str(tmp_path_factory.mktemp("waitress") / "fleet.db"))
    yield server
    server.stop()


def raw(url: str, data: bytes) -> tuple[int, dict, dict]:
    """Send raw bytes (stopping once the server answers, so it never closes on unread bytes), read the
    answer until the server closes: (status, headers, JSON body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        for start in range(0, len(data), 16384):
            sock.sendall(data[start:start + 16384])
            if select.select([sock], [], [], 0.02)[0]:
                break
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n", 431),
    (b"POST /v1/knowledge HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n", 413),
    (b"\x01\x02 garbage\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400),
])
def test_waitress_refusals_are_problem_json(serve, request_bytes, status):
    code, headers, body = raw(serve.url, request_bytes)
    assert code == status and headers["content-type"] == "application/problem+json"
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("https://")
    assert "\n" not in body["detail"]
