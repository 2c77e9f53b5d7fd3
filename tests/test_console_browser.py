"""The console in a real headless Chromium (Debian's package driven by Playwright): signing in, reviewing,
read-only agents, sanitised markdown, CSRF, cookie flags, sign-out, revocation, tokens shown once, 390 px."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from consoleutil import task_in_review

CHROMIUM = os.environ.get("FLEET_TEST_CHROMIUM", "/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow  # a real browser

XSS = ("Look: <script>window.__pwned = 1; alert('script')</script> and "
       "<img src=x onerror=\"window.__pwned = 2; alert('img')\"> and "
       "[click me](javascript:window.__pwned=3) and **bold** end.")


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the whole module (a new context per test is cheap)."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Console:
    """One browser context (its own cookies) with a page, recording dialogs, console output and errors."""

    def __init__(self, browser, url: str, **options) -> None:
        self.url = url
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.logs: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda msg: self.logs.append(msg.text))
        self.page.on("pageerror", lambda err: self.logs.append(str(err)))
        self.accept_dialogs = False

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept() if self.accept_dialogs else dialog.dismiss()

    def go(self, path: str):
        return self.page.goto(self.url + path)

    def sign_in(self, token: str, pasted=lambda t: f"  {t[:12]}\n{t[12:30]} \n{t[30:]}\n"):
        self.go("/ui/signin")
        self.page.fill("#token", pasted(token))
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        return self

    def cookie(self) -> dict | None:
        return next((c for c in self.context.cookies() if c["name"] == "fleet_console"), None)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_console(browser, server):
    opened: list[Console] = []

    def make(url: str | None = None, **options) -> Console:
        console = Console(browser, url or server.url, **options)
        opened.append(console)
        return console

    yield make
    for console in opened:
        console.close()


@pytest.fixture
def crew(make_fleet):
    fleet = make_fleet("ui")
    agent = fleet.member("builder", domains=["infra"])
    reviewer = fleet.member("rita", role="reviewer")
    return fleet, agent, reviewer


def test_sign_in_with_a_pasted_token_sets_a_strict_httponly_12_hour_cookie(open_console, crew):
    fleet, _, _ = crew
    console = open_console()
    response = console.go("/ui/signin")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    console.sign_in(fleet.owner.token)
    assert console.page.url.endswith("/ui/review")
    assert fleet.owner.address in console.page.inner_text("header")
    cookie = console.cookie()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["secure"] is False
    import time

    assert 12 * 3600 - 120 < cookie["expires"] - time.time() <= 12 * 3600
    assert "fleet_console=" not in console.page.evaluate("document.cookie")  # HttpOnly: no script reads it
    assert fleet.owner.token not in str(console.context.cookies())  # the cookie is not the token


def test_a_wrong_token_is_refused_with_a_clear_message(open_console, crew):
    console = open_console().sign_in("flt_1_2_nonsense")
    assert "sign-in refused: malformed token" in console.page.inner_text("main")
    assert console.cookie() is None


def test_reviewer_approves_from_the_review_queue_with_the_apis_audit_record(open_console, crew):
    fleet, agent, reviewer = crew
    task = task_in_review(fleet.owner, agent, title="Rotate the deploy keys")
    console = open_console().sign_in(reviewer.token)
    card = console.page.locator("article", has_text="Rotate the deploy keys")
    assert f"fleetctl task show {task['id']}" in card.inner_text()
    card.get_by_role("button", name="Approve").click()
    console.page.wait_for_url(lambda url: url.endswith(f"/ui/tasks/{task['id']}?ok=task.approve"))
    assert "Done: task.approve" in console.page.inner_text("main")
    shown = fleet.owner.client.get(f"/v1/tasks/{task['id']}")
    assert shown["state"] == "done" and shown["history"][-1]["who"] == reviewer.address
    records = fleet.owner.client.get("/v1/audit", member=reviewer.name)["items"]
    assert {"action": "task.approve", "resource": f"task:{task['id']}", "status": 200} in [
        {k: r[k] for k in ("action", "resource", "status")} for r in records]


def test_request_changes_needs_and_keeps_a_reason(open_console, crew):
    fleet, agent, reviewer = crew
    task = task_in_review(fleet.owner, agent, title="Tune the cache")
    console = open_console().sign_in(reviewer.token)
    card = console.page.locator("article", has_text="Tune the cache")
    card.get_by_role("button", name="Request changes").click()  # empty reason: the browser asks for it
    assert console.page.url.endswith("/ui/review")
    card.get_by_placeholder("what must change").fill("Add a test for the TTL")
    card.get_by_role("button", name="Request changes").click()
    console.page.wait_for_url(lambda url: url.endswith(f"/ui/tasks/{task['id']}?ok=task.request-changes"))
    shown = fleet.owner.client.get(f"/v1/tasks/{task['id']}")
    assert shown["state"] == "in_progress"
    assert shown["history"][-1]["note"] == "Add a test for the TTL"
    assert "Add a test for the TTL" in console.page.inner_text("ol.history")


def test_an_agent_sees_read_only_pages(open_console, crew):
    fleet, agent, _ = crew
    task = task_in_review(fleet.owner, agent, title="Agent-visible task")
    entry = agent.client.post("/v1/knowledge", {"kind": "tip", "title": "A tip", "body": "text"})
    console = open_console().sign_in(agent.token)
    assert "read-only" in console.page.inner_text("main")
    for path in ("/ui/review", f"/ui/tasks/{task['id']}", f"/ui/knowledge/{entry['id']}", "/ui/inbox",
                 "/ui/members"):
        console.go(path)
        posts = console.page.locator("form[method=post]")
        assert posts.count() == 1 and "Sign out" in posts.inner_text(), path  # only the sign-out form
    csrf = console.page.locator("input[name=csrf]").first.get_attribute("value")
    status = console.page.evaluate("""async ([url, csrf]) => (await fetch(url, {method: 'POST',
        body: new URLSearchParams({csrf: csrf, action: 'approve'})})).status""",
                                   [f"/ui/tasks/{task['id']}/actions", csrf])
    assert status == 403
    assert fleet.owner.client.get(f"/v1/tasks/{task['id']}")["state"] == "in_review"


def test_script_event_handler_and_javascript_link_never_run_and_stay_visible(open_console, crew):
    fleet, agent, _ = crew
    task = agent.client.post("/v1/tasks", {"title": "XSS <script>alert('title')</script>", "body": XSS})
    entry = agent.client.post("/v1/knowledge", {"kind": "gotcha", "title": "<img src=x onerror=alert(1)>",
                                                "body": XSS})
    message = agent.client.post("/v1/messages", {"recipients": ["owner"], "subject": "hi <b>there</b>",
                                                 "body": XSS})
    console = open_console().sign_in(fleet.owner.token)
    full = (f"/ui/tasks/{task['id']}", f"/ui/knowledge/{entry['id']}", "/ui/knowledge", f"/ui/messages/{message['id']}")
    for path in (*full, "/ui/inbox", "/ui/tasks", "/ui/review"):
        console.go(path)
        page = console.page
        text = page.inner_text("main")
        if path in full:  # the text stays visible, as text
            assert "<script>window.__pwned = 1; alert('script')</script>" in text, path
            assert "onerror=" in text and "click me" in text and "bold" in text, path
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("main script, main img, main [onerror], main a[href^='javascript']").count() == 0
        for block in page.locator("main .md").all():
            block.click()
        assert page.evaluate("window.__pwned") is None, path
    assert console.dialogs == []
    assert not [log for log in console.logs if "pwned" in log]


def test_a_form_without_or_with_a_wrong_csrf_token_is_refused(open_console, crew):
    fleet, agent, reviewer = crew
    task = task_in_review(fleet.owner, agent)
    console = open_console().sign_in(reviewer.token)
    for form in ({"action": "approve"}, {"action": "approve", "csrf": "forged-token-value"}):
        status, text = console.page.evaluate("""async ([url, form]) => {
            const r = await fetch(url, {method: 'POST', body: new URLSearchParams(form)});
            return [r.status, await r.text()]; }""", [f"/ui/tasks/{task['id']}/actions", form])
        assert status == 403 and "CSRF token is missing or wrong" in text
    assert fleet.owner.client.get(f"/v1/tasks/{task['id']}")["state"] == "in_review"


def test_another_site_cannot_post_a_console_form(open_console, crew, server):
    """A page on another site submitting a form to the console: the Strict cookie is not sent, nothing changes."""
    fleet, agent, reviewer = crew
    task = task_in_review(fleet.owner, agent)
    console = open_console().sign_in(reviewer.token)
    attack = (f'<form method="post" action="{server.url}/ui/tasks/{task["id"]}/actions">'
              '<input name="action" value="approve"><button>win a prize</button></form>')
    console.page.route("http://evil.example/**", lambda route: route.fulfill(body=attack, content_type="text/html"))
    console.page.goto("http://evil.example/")
    console.page.click("button")
    console.page.wait_for_load_state()
    assert "nothing was changed" in console.page.inner_text("main")
    assert fleet.owner.client.get(f"/v1/tasks/{task['id']}")["state"] == "in_review"


def test_sign_out_ends_the_session_and_a_replayed_form_is_refused(open_console, crew):
    fleet, agent, reviewer = crew
    task = task_in_review(fleet.owner, agent, title="Replay target")
    console = open_console().sign_in(reviewer.token)
    stale = console.context.new_page()  # a second tab still shows the form with its CSRF token
    stale.goto(console.url + f"/ui/tasks/{task['id']}")
    csrf = stale.locator("input[name=csrf]").first.get_attribute("value")
    old_cookie = console.cookie()
    console.page.get_by_role("button", name="Sign out").click()
    console.page.wait_for_url("**/ui/signin")
    assert console.cookie() is None
    stale.get_by_role("button", name="Approve").click()
    stale.wait_for_load_state()
    assert "you are not signed in" in stale.inner_text("main") and "nothing was changed" in stale.inner_text("main")
    console.context.add_cookies([old_cookie])  # a copy of the old cookie is dead too
    stale.go_back()
    stale.wait_for_load_state()
    assert "your session has ended" in stale.inner_text("main")  # no-store: the page is fetched again
    console.context.add_cookies([old_cookie])
    status = console.page.evaluate("""async ([url, form]) => (await fetch(url, {method: 'POST',
        body: new URLSearchParams(form)})).status""", [f"/ui/tasks/{task['id']}/actions",
                                                       {"action": "approve", "csrf": csrf}])
    assert status == 401
    assert fleet.owner.client.get(f"/v1/tasks/{task['id']}")["state"] == "in_review"


def test_revoking_a_member_ends_its_session(open_console, crew):
    fleet, _, reviewer = crew
    console = open_console().sign_in(reviewer.token)
    console.go("/ui/tasks")
    assert reviewer.address in console.page.inner_text("header")
    fleet.owner.client.post(f"/v1/agents/{reviewer.name}/revoke")
    console.go("/ui/tasks")
    assert "revoked or rotated" in console.page.inner_text("main")
    assert console.page.locator("#token").count() == 1 and console.cookie() is None


def test_owner_registers_and_rotates_and_sees_each_token_once(open_console, crew):
    fleet, agent, _ = crew
    console = open_console().sign_in(fleet.owner.token)
    console.accept_dialogs = True
    console.go("/ui/members")
    form = console.page.locator("form", has=console.page.get_by_role("button", name="Register"))
    form.locator("input[name=name]").fill("newbie")
    form.locator("select[name=role]").select_option("agent")
    form.locator("input[name=domains]").fill("infra, payments")
    form.get_by_role("button", name="Register").click()
    token = console.page.input_value("#minted")
    assert token.startswith("flt_") and "shown once" in console.page.inner_text("main")
    from fleetctl.client import Client

    assert Client(fleet.url, token).get("/v1/whoami")["member"]["domains"] == ["infra", "payments"]
    console.go("/ui/members")
    assert token not in console.page.content()
    row = console.page.locator("tr", has_text=f"{fleet.name}/newbie")
    row.locator("summary").click()
    row.get_by_role("button", name="Rotate token").click()
    console.page.wait_for_selector("#minted")
    rotated = console.page.input_value("#minted")
    assert rotated.startswith("flt_") and rotated != token and console.dialogs
    assert Client(fleet.url, rotated).get("/v1/whoami")["member"]["name"] == "newbie"
    from fleetctl.errors import Unauthorized

    with pytest.raises(Unauthorized):
        Client(fleet.url, token).get("/v1/whoami")
    console.go("/ui/members")
    assert rotated not in console.page.content()


@pytest.mark.parametrize("width", [390, 1280])
def test_every_page_fits_the_width_without_horizontal_scrolling(open_console, crew, width):
    fleet, agent, _ = crew
    task = task_in_review(fleet.owner, agent, title="A rather long task title " * 4,
                          body="A long unbroken line: " + "x" * 300 + "\n\n```\n" + "code " * 80 + "\n```")
    entry = agent.client.post("/v1/knowledge", {"kind": "breaking", "title": "Breaking " * 10, "body": "y" * 500})
    message = agent.client.post("/v1/messages", {"recipients": ["owner"], "subject": "S " * 60, "body": "z" * 400})
    agent.client.request("PUT", "/v1/documents/spec", {"body": "one\n" + "w" * 300})
    agent.client.request("PUT", "/v1/documents/spec", {"body": "two\n" + "w" * 300})
    console = open_console(viewport={"width": width, "height": 844}).sign_in(fleet.owner.token)
    requested: list[str] = []
    console.page.on("request", lambda request: requested.append(request.url))
    for path in ("/ui/review", "/ui/tasks", f"/ui/tasks/{task['id']}", "/ui/knowledge",
                 f"/ui/knowledge/{entry['id']}", "/ui/inbox", f"/ui/messages/{message['id']}", "/ui/documents",
                 f"/ui/documents/{fleet.name}/spec", f"/ui/diff/{fleet.name}/spec?from=1&to=2", "/ui/members",
                 "/ui/audit", "/ui/signin"):
        console.go(path)
        overflow = console.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than {width}"
    assert console.dialogs == []
    # every page works under its own CSP and loads every file it names (the console's own, nothing else)
    assert not [log for log in console.logs if "Content Security Policy" in log or "Failed to load" in log]
    assert {urlsplit(r).netloc for r in requested} == {urlsplit(console.url).netloc}


@pytest.mark.slow
def test_the_cookie_is_secure_behind_an_https_proxy_named_by_trusted_proxy(open_console, crew, server):
    """`serve --trusted-proxy` believes the proxy's X-Forwarded-Proto: https, so the cookie is Secure."""
    import servers

    fleet, _, _ = crew
    with servers.start(server.db_url, args=("--trusted-proxy", "127.0.0.1")) as behind:
        console = open_console(behind.url, extra_http_headers={"X-Forwarded-Proto": "https"})
        console.sign_in(fleet.owner.token)
        cookie = console.cookie()
        assert cookie["secure"] is True and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        console.go("/ui/tasks")
        assert fleet.owner.address in console.page.inner_text("header")
