"""The console's pages without a browser: bad input gets a clear page (never a 500) and changes nothing;
sessions end when they should; actions leave the API's audit records; the API pays nothing for the console."""

from __future__ import annotations

import re
import time

import pytest
from consoleutil import Browserless, task_in_review

SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


@pytest.fixture
def crew(make_fleet):
    fleet = make_fleet("pages")
    return fleet, fleet.member("worker", domains=["infra"]), fleet.member("rev", role="reviewer")


def signed_in(server, token: str) -> Browserless:
    client = Browserless(server.url)
    response = client.sign_in(token)
    assert response.status == 303, response.text
    return client


def error_of(text: str) -> str:
    return re.search(r'class="error" role="alert">([^<]*)<', text).group(1)


def test_every_console_page_sends_the_security_headers(server, crew):
    fleet, _, _ = crew
    client = signed_in(server, fleet.owner.token)
    for path in ("/ui/signin", "/ui/review", "/ui/tasks/999999999", "/ui/audit"):
        response = client.request("GET", path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (path, name)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert not re.search(r"<script(?![^>]*\bsrc=\"/ui/static/)", response.text), path
        assert not re.search(r"(src|href)=\"(https?:)?//", response.text), path  # nothing from another host


def test_a_token_pasted_with_spaces_and_newlines_signs_in(server, crew):
    fleet, _, _ = crew
    token = fleet.owner.token
    client = Browserless(server.url)
    response = client.sign_in(f"\n  {token[:9]} {token[9:20]}\r\n\t{token[20:]}  \n")
    assert response.status == 303 and response.headers["Location"].endswith("/ui/review")
    cookie = next(h for h in response.headers.get_all("Set-Cookie") if h.startswith("fleet_console="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # plain http without a trusted proxy
    assert client.request("GET", "/ui/review").status == 200


@pytest.mark.parametrize("pasted, detail", [
    ("", "paste a token"), ("flt_1_1_" + "a" * 36, "checksum mismatch"), ("not a token", "malformed token"),
    ("x" * 5000, "malformed token")])
def test_bad_tokens_get_a_clear_sign_in_page(server, crew, pasted, detail):
    client = Browserless(server.url)
    response = client.sign_in(pasted)
    assert response.status in (401, 422) and detail in error_of(response.text)
    assert "fleet_console" not in client.cookies


def test_the_sign_in_form_needs_its_own_csrf_token(server, crew):
    fleet, _, _ = crew
    client = Browserless(server.url)
    client.request("GET", "/ui/signin")
    response = client.request("POST", "/ui/signin", {"csrf": "forged", "token": fleet.owner.token})
    assert response.status == 403 and "CSRF" in error_of(response.text)
    assert "fleet_console" not in client.cookies


@pytest.mark.parametrize("cookie", ["forged-session-id", "x" * 4000, "", "%00%ff", "a;b"])
def test_a_forged_cookie_gets_the_sign_in_page_never_a_500(server, crew, cookie):
    client = Browserless(server.url)
    client.cookies["fleet_console"] = cookie
    response = client.request("GET", "/ui/review")
    assert response.status == 401 and 'id="token"' in response.text
    response = client.request("POST", "/ui/tasks/1/actions", {"action": "approve", "csrf": "x"})
    assert response.status == 401 and "nothing was changed" in error_of(response.text)


def test_an_expired_session_ends_and_its_row_goes(server, crew):
    from fleetctl.models.base import utcnow
    from fleetctl.models.console import ConsoleSession

    fleet, agent, _ = crew
    task = task_in_review(fleet.owner, agent)
    client = signed_in(server, fleet.owner.token)
    csrf = client.csrf("/ui/review")
    row = ConsoleSession.select().order_by(ConsoleSession.created_at.desc()).first()
    assert abs((row.expires_at - row.created_at).total_seconds() - 12 * 3600) < 1
    ConsoleSession.update(expires_at=utcnow()).where(ConsoleSession.key == row.key).execute()
    response = client.request("POST", f"/ui/tasks/{task['id']}/actions", {"action": "approve", "csrf": csrf})
    assert response.status == 401 and "expired after 12 hours" in error_of(response.text)
    assert ConsoleSession.get_or_none(ConsoleSession.key == row.key) is None
    assert fleet.owner.client.get(f"/v1/tasks/{task['id']}")["state"] == "in_review"


def test_a_100000_character_reason_is_refused_clearly_and_changes_nothing(server, crew):
    fleet, agent, reviewer = crew
    task = task_in_review(fleet.owner, agent)
    client = signed_in(server, reviewer.token)
    csrf = client.csrf(f"/ui/tasks/{task['id']}")
    for action in ("request-changes", "cancel"):
        response = client.request("POST", f"/ui/tasks/{task['id']}/actions",
                                  {"action": action, "reason": "r" * 100_000, "csrf": csrf})
        assert response.status == 422 and "at most 10000" in error_of(response.text), response.text[:300]
    huge = client.request("POST", f"/ui/tasks/{task['id']}/actions",
                          {"action": "approve", "note": "n" * 1_100_000, "csrf": csrf})
    assert huge.status == 413 and "larger than 1 MiB" in error_of(huge.text)
    assert fleet.owner.client.get(f"/v1/tasks/{task['id']}") == task


@pytest.mark.parametrize("query, status, detail", [
    ("from=1&to=9", 404, "has no version 9 (versions 1 to 2)"), ("from=7&to=8", 404, "has no version 7"),
    ("from=abc&to=2", 422, "from must be a whole number"), ("to=2", 422, "needs two version numbers"),
    ("from=0&to=2", 422, "needs two version numbers"), ("from=1&to=99999999999999999999", 422, "whole number from 0")])
def test_a_diff_between_versions_that_do_not_exist_is_a_clear_page(server, crew, query, status, detail):
    fleet, agent, _ = crew
    for body in ("one\n", "two\n"):
        agent.client.request("PUT", "/v1/documents/notes", {"body": body})
    client = signed_in(server, fleet.owner.token)
    assert client.request("GET", f"/ui/diff/{fleet.name}/notes?from=1&to=2").status == 200
    response = client.request("GET", f"/ui/diff/{fleet.name}/notes?{query}")
    assert response.status == status and detail in error_of(response.text)
    missing = client.request("GET", f"/ui/diff/{fleet.name}/nope?from=1&to=2")
    assert missing.status == 404


@pytest.mark.parametrize("path, status, detail", [
    ("/ui/nope", 404, "no console page"), ("/ui/tasks/abc", 404, "no console page"),
    ("/ui/tasks/99999999999999999999999", 404, "out of range"), ("/ui/tasks/9223372036854775807", 404, "not found"),
    ("/ui/tasks?state=bogus", 422, "invalid state"), ("/ui/tasks?after=-1", 422, "whole number"),
    ("/ui/knowledge?kind=nope", 422, "invalid kind"), ("/ui/audit?since=yesterday", 422, "ISO 8601"),
    ("/ui/documents/a%00b", 422, "invalid document name"), ("/ui/inbox?reply_to=77777777", 404, "not found"),
    ("/ui/research/77777777", 404, "not found"), ("/ui/messages/77777777", 404, "not found")])
def test_bad_addresses_and_filters_get_a_clear_page(server, crew, path, status, detail):
    fleet, _, _ = crew
    response = signed_in(server, fleet.owner.token).request("GET", path)
    assert response.status == status and detail in error_of(response.text), response.text[-400:]


def test_console_actions_leave_the_same_audit_records_as_the_api(server, crew):
    fleet, agent, reviewer = crew
    by_api, by_console = task_in_review(fleet.owner, agent), task_in_review(fleet.owner, agent)
    entry = agent.client.post("/v1/knowledge", {"kind": "tip", "title": "t"})
    reviewer.client.post(f"/v1/tasks/{by_api['id']}/actions", {"action": "approve"})
    reviewer.client.post(f"/v1/knowledge/{entry['id']}/pin")
    from fleetctl.errors import Forbidden

    with pytest.raises(Forbidden):
        reviewer.client.post(f"/v1/knowledge/{entry['id']}/unpin")
    client = signed_in(server, reviewer.token)
    csrf = client.csrf("/ui/review")
    assert client.request("POST", f"/ui/tasks/{by_console['id']}/actions",
                          {"action": "approve", "csrf": csrf}).status == 303
    assert client.request("POST", f"/ui/knowledge/{entry['id']}/unpin", {"csrf": csrf}).status == 403
    sent = client.request("POST", "/ui/messages", {"csrf": csrf, "recipients": agent.name, "subject": "hi"})
    message_id = int(re.search(r"/ui/messages/(\d+)\?ok=message.send", sent.headers["Location"])[1])
    api_sent = reviewer.client.post("/v1/messages", {"recipients": [agent.name], "subject": "hi"})
    records = [(r["action"], r["resource"], r["status"], r["member"])
               for r in fleet.owner.client.get("/v1/audit", member=reviewer.name)["items"]]
    who = reviewer.address
    assert ("task.approve", f"task:{by_api['id']}", 200, who) in records
    assert ("task.approve", f"task:{by_console['id']}", 200, who) in records
    assert ("knowledge.pin", f"knowledge:{entry['id']}", 200, who) in records
    assert ("knowledge.unpin", None, 403, who) in records  # the author's or an owner's, named as the API does
    assert ("console.signin", f"agent:{who}", 200, who) in records
    assert ("message.send", f"message:{message_id}", 201, who) in records
    assert ("message.send", f"message:{api_sent['id']}", 201, who) in records
    assert records.count(("knowledge.unpin", None, 403, who)) == 2  # one by the API, one by the console
    assert records.count(("task.approve", f"task:{by_console['id']}", 200, who)) == 1


def test_owners_pages_are_refused_to_others_and_owner_actions_check_the_role(server, crew):
    fleet, agent, reviewer = crew
    client = signed_in(server, reviewer.token)
    assert client.request("GET", "/ui/audit").status == 403
    csrf = client.csrf("/ui/members")
    response = client.request("POST", "/ui/members", {"name": "sneaky", "role": "owner", "csrf": csrf})
    assert response.status == 403 and "only an owner" in error_of(response.text)
    response = client.request("POST", f"/ui/members/{agent.name}/revoke", {"csrf": csrf})
    assert response.status == 403
    assert fleet.owner.client.get(f"/v1/agents/{agent.name}")["revoked_at"] is None


def test_an_agent_cannot_post_even_with_a_good_csrf_token(server, crew):
    fleet, agent, _ = crew
    entry = agent.client.post("/v1/knowledge", {"kind": "tip", "title": "mine"})
    client = signed_in(server, agent.token)
    csrf = client.csrf(f"/ui/knowledge/{entry['id']}")
    response = client.request("POST", f"/ui/knowledge/{entry['id']}/pin", {"csrf": csrf})
    assert response.status == 403 and "read-only" in error_of(response.text)
    assert agent.client.get(f"/v1/knowledge/{entry['id']}")["pinned"] is False


def test_sign_out_deletes_the_session_and_the_cookie_replayed_is_refused(server, crew):
    fleet, agent, _ = crew
    entry = agent.client.post("/v1/knowledge", {"kind": "tip", "title": "pin me"})
    client = signed_in(server, fleet.owner.token)
    csrf = client.csrf("/ui/review")
    old = dict(client.cookies)
    response = client.request("POST", "/ui/signout", {"csrf": csrf})
    assert response.status == 303 and "fleet_console" not in client.cookies
    client.cookies = old
    response = client.request("POST", f"/ui/knowledge/{entry['id']}/pin", {"csrf": csrf})
    assert response.status == 401 and "nothing was changed" in error_of(response.text)
    assert agent.client.get(f"/v1/knowledge/{entry['id']}")["pinned"] is False


def test_rotating_the_token_ends_the_session_signed_in_with_it(server, crew):
    fleet, _, reviewer = crew
    client = signed_in(server, reviewer.token)
    reviewer.client.post("/v1/tokens/rotate")
    response = client.request("GET", "/ui/review")
    assert response.status == 401 and "revoked or rotated" in response.text


@pytest.mark.slow
def test_a_revoke_on_another_server_ends_the_session_within_the_cache_ttl(server, crew):
    """Two servers on one database: the revoke happens on one, the session lives on the other."""
    import servers

    fleet, _, reviewer = crew
    with servers.start(server.db_url, {"FLEET_AUTH_CACHE_TTL": "1"}) as other:
        client = signed_in(other, reviewer.token)
        assert client.request("GET", "/ui/review").status == 200
        fleet.owner.client.post(f"/v1/agents/{reviewer.name}/revoke")
        revoked_at = time.monotonic()
        while client.request("GET", "/ui/review").status == 200:
            assert time.monotonic() - revoked_at < 3, "the session outlived the token cache TTL"
            time.sleep(0.1)
        assert client.request("GET", "/ui/review").status == 401


def test_the_api_does_no_console_work(server, crew, monkeypatch):
    """API requests never reach the console's session check (its hooks belong to the /ui blueprint)."""
    from fleetctl.console import sessions

    fleet, _, _ = crew
    calls = []
    real = sessions.current
    monkeypatch.setattr(sessions, "current", lambda cookie: calls.append(cookie) or real(cookie))
    for _ in range(3):
        fleet.owner.client.get("/v1/whoami")
        fleet.owner.client.post("/v1/knowledge", {"kind": "tip", "title": "api"})
    assert calls == []
    signed_in(server, fleet.owner.token).request("GET", "/ui/review")
    assert calls


def test_markdown_is_sanitised_and_keeps_the_text():
    from fleetctl.console.text import markdown

    html = str(markdown("<script>alert(1)</script> <img src=x onerror=alert(1)> [a](javascript:alert(1)) "
                        "[b](JaVaScRiPt:alert(1)) [c](data:text/html,x) ![i](https://evil.example/i.png) "
                        "<a href=\"https://ok.example\" onclick=\"x()\">raw</a> [ok](https://ok.example)"))
    assert "<script" not in html and "<img" not in html and not re.search(r"<[^>]+\son\w+=", html)
    assert not re.search(r"href=\"(?!https://)", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "[a](javascript:alert(1))" in html
    assert '<a href="https://ok.example" rel="noopener noreferrer nofollow">ok</a>' in html
    assert 'href="https://evil.example/i.png"' in html  # an image is a link, never a fetch


def test_an_owner_rotating_its_own_token_gets_it_once_and_signs_in_again(server, crew):
    fleet, _, _ = crew
    client = signed_in(server, fleet.owner.token)
    response = client.request("POST", f"/ui/members/{fleet.owner.name}/token", {"csrf": client.csrf("/ui/members")})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'readonly>(flt_[^<]+)</textarea>', response.text)[1]
    assert "sign in again" in response.text
    assert client.request("GET", "/ui/members").status == 401  # the session's token is dead
    assert token not in signed_in(server, token).request("GET", "/ui/members").text
