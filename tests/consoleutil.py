"""Helpers for the console tests: work to review, and signing in over plain HTTP."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def task_in_review(owner, agent, title: str = "Ship the fix", body: str = "Done, see the diff.") -> dict:
    """A high-priority task (review required) that `agent` worked and submitted: in_review."""
    task = owner.client.post("/v1/tasks", {"title": title, "body": body, "priority": "high", "assign": agent.name})
    for action in ("accept", "start", "submit"):
        agent.client.post(f"/v1/tasks/{task['id']}/actions", {"action": action})
    return owner.client.get(f"/v1/tasks/{task['id']}")


class Browserless:
    """A cookie-keeping HTTP client for console pages (no redirects followed)."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.headers = headers or {}

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {**self.headers, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.text = resp.read().decode()
        conn.close()
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return resp

    def csrf(self, path: str) -> str:
        return CSRF.search(self.request("GET", path).text).group(1)

    def sign_in(self, token: str):
        return self.request("POST", "/ui/signin", {"csrf": self.csrf("/ui/signin"), "token": token})
