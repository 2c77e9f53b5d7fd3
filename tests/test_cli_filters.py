"""Repeated filters match any of their values, server-side; `task list` shows active tasks by default."""

from __future__ import annotations

import pytest


@pytest.fixture
def crew(make_fleet):
    fleet = make_fleet("filters")
    return fleet, fleet.member("dev", domains=["infra", "api"]), fleet.member("rev", role="reviewer")


def ids(result) -> list[int]:
    assert result.exit_code == 0, result.stderr
    return [item["id"] for item in result.json()["items"]]


def make_task(actor, title: str, *args: str) -> int:
    out = actor.cli("task", "create", title, "--review", "none", *args, "--json")
    assert out.exit_code == 0, out.stderr
    return out.json()["id"]


def test_task_list_is_active_unless_all_or_state_and_states_domains_repeat(crew):
    fleet, dev, rev = crew
    opened = make_task(rev, "open one", "-d", "infra")
    assigned = make_task(rev, "assigned one", "-d", "api", "--assign", "dev")
    done = make_task(rev, "done one", "-d", "web", "--assign", "dev")
    for action in ("accept", "start", "submit"):
        assert dev.cli("task", action, str(done)).exit_code == 0
    cancelled = make_task(rev, "cancelled one", "-d", "infra")
    assert rev.cli("task", "cancel", str(cancelled), "--reason", "no").exit_code == 0

    assert ids(dev.cli("task", "list", "--json")) == [assigned, opened]
    assert ids(dev.cli("task", "list", "--all", "--json")) == [cancelled, done, assigned, opened]
    assert ids(dev.cli("task", "list", "--state", "open", "--state", "assigned", "--json")) == [assigned, opened]
    assert ids(dev.cli("task", "list", "-s", "done", "-s", "cancelled", "--json")) == [cancelled, done]
    assert ids(dev.cli("task", "list", "--domain", "api", "--domain", "web", "--all", "--json")) == [done, assigned]
    assert ids(dev.cli("task", "list", "-d", "infra", "-d", "web", "--json")) == [opened]  # active only
    assert ids(dev.cli("task", "list", "-d", "infra", "-s", "cancelled", "-s", "open", "--json")) == [
        cancelled, opened]
    bad = dev.cli("task", "list", "--state", "open", "--state", "finished")
    assert bad.exit_code == 2 and "must be one of" in bad.stderr

    # The HTTP route itself takes repeated query parameters (not the CLI's doing).
    resp = dev.http("GET", "/v1/tasks?state=open&state=assigned")
    assert resp.status == 200 and [t["id"] for t in resp.body["items"]] == [assigned, opened]
    resp = dev.http("GET", "/v1/tasks?domain=web&domain=api")
    assert [t["id"] for t in resp.body["items"]] == [done, assigned]
    assert [t["id"] for t in dev.http("GET", "/v1/tasks?active=true").body["items"]] == [assigned, opened]
    assert len(dev.http("GET", "/v1/tasks").body["items"]) == 4  # the API's default stays: every state
    assert dev.http("GET", "/v1/tasks?state=open&state=bogus").status == 422


def test_knowledge_kinds_research_states_and_document_domains_repeat(crew):
    fleet, dev, rev = crew

    def publish(kind: str, title: str) -> int:
        out = dev.cli("knowledge", "publish", "--kind", kind, "--title", title, "-d", "infra", "--json")
        assert out.exit_code == 0, out.stderr
        return out.json()["id"]

    tip, gotcha, fix = publish("tip", "t"), publish("gotcha", "g"), publish("fix", "f")
    assert ids(dev.cli("knowledge", "list", "--kind", "tip", "--kind", "gotcha", "--json")) == [gotcha, tip]
    assert ids(dev.cli("knowledge", "list", "-k", "fix", "-k", "breaking", "--all", "--json")) == [fix]
    assert dev.http("GET", "/v1/knowledge?kind=tip&kind=nope").status == 422

    draft = dev.cli("research", "publish", "--title", "d", "--confidence", "0.5", "--json").json()["id"]
    asked = dev.cli("research", "publish", "--title", "r", "--confidence", "0.5", "--reviewer", "rev",
                    "--json").json()["id"]
    assert ids(dev.cli("research", "list", "--state", "draft", "--state", "in_review", "--json")) == [asked, draft]
    assert ids(dev.cli("research", "list", "--state", "in_review", "--json")) == [asked]

    for name, domain in (("a", "infra"), ("b", "api"), ("c", "web")):
        assert dev.cli("doc", "put", name, "--body", "x", "-d", domain).exit_code == 0
    docs = dev.cli("doc", "list", "--domain", "infra", "--domain", "web", "--json")
    assert [d["name"] for d in docs.json()["items"]] == ["c", "a"]
