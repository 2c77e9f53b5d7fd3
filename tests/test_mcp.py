"""`fleetctl mcp` driven as a subprocess by the SDK's own stdio client, against the real server (the fast loop
keeps one round trip; the tools themselves are tried in-process over `/mcp` in test_mcp_tools/test_mcp_http)."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from mcpclients import ok, over_stdio, text

from fleetctl import config

TOOLS = {"fleet_wake", "fleet_publish_knowledge", "fleet_search_knowledge", "fleet_send_message", "fleet_inbox",
         "fleet_create_task", "fleet_list_tasks", "fleet_task_action", "fleet_publish_research",
         "fleet_put_document", "fleet_get_document", "fleet_read", "fleet_review_research", "fleet_list_research",
         "fleet_list_documents", "fleet_wake_ack", "fleet_whoami"}
READ_ONLY = {"fleet_search_knowledge", "fleet_list_tasks", "fleet_list_research", "fleet_list_documents",
             "fleet_get_document", "fleet_whoami"}


def with_mcp(url: str, token: str, steps, env: dict | None = None):
    return over_stdio(url, token, steps, env)


def as_member(actor, steps, env: dict | None = None):
    return with_mcp(actor.url, actor.token, steps, env)


def test_tools_list_is_complete_compact_and_precise(make_fleet):
    a = make_fleet("mcp").member("lister")

    async def steps(session):
        return await session.list_tools()

    listed = as_member(a, steps)
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == TOOLS
    size = len(json.dumps(listed.model_dump(by_alias=True, mode="json", exclude_none=True)))
    assert size < 10_000, size  # a model pays for the whole list at every start
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object"
        hints = tool.annotations
        # Read-only tools say so; every other one says whether it destroys (the default assumes it does).
        assert bool(hints.read_only_hint) == (tool.name in READ_ONLY), tool.name
        assert tool.name in READ_ONLY or hints.destructive_hint is not None, tool.name
    assert tools["fleet_task_action"].annotations.destructive_hint is True
    assert tools["fleet_publish_knowledge"].annotations.destructive_hint is False
    knowledge = tools["fleet_publish_knowledge"].input_schema
    assert knowledge["properties"]["kind"]["enum"] == ["tip", "gotcha", "breaking", "fix"]
    assert set(knowledge["required"]) == {"kind", "title"}
    action = tools["fleet_task_action"].input_schema
    assert "request-changes" in action["properties"]["action"]["enum"]
    assert set(action["required"]) == {"id", "action"}
    assert "in_review" in tools["fleet_list_tasks"].input_schema["properties"]["state"]["items"]["enum"]
    assert tools["fleet_send_message"].input_schema["required"] == ["to", "subject"]
    # The enums are the server's own, so a model never picks a value the server refuses.
    from fleetctl.models.knowledge import KINDS
    from fleetctl.models.research import STATES as RESEARCH_STATES
    from fleetctl.models.research import VERDICTS
    from fleetctl.models.tasks import PRIORITIES, STATES
    from fleetctl.services.task_actions import ACTIONS

    assert knowledge["properties"]["kind"]["enum"] == list(KINDS)
    assert action["properties"]["action"]["enum"] == list(ACTIONS)
    assert tools["fleet_list_tasks"].input_schema["properties"]["state"]["items"]["enum"] == list(STATES)
    assert tools["fleet_create_task"].input_schema["properties"]["priority"]["enum"] == list(PRIORITIES)
    assert tools["fleet_list_research"].input_schema["properties"]["state"]["items"]["enum"] == list(RESEARCH_STATES)
    assert tools["fleet_review_research"].input_schema["properties"]["verdict"]["enum"] == list(VERDICTS)


def test_message_sent_by_mcp_is_read_with_the_cli(make_fleet):
    fleet = make_fleet("mcp")
    a, b = fleet.member("sender"), fleet.member("reader")

    async def steps(session):
        return await session.call_tool("fleet_send_message", {"to": [b.name], "subject": "deploy is red",
                                                              "body": "see **CI**", "domains": ["infra"]})

    msg = ok(as_member(a, steps))
    assert msg["recipients"] == [b.address] and msg["sender"] == a.address
    shown = b.cli("msg", "read", str(msg["id"]), "--json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["subject"] == "deploy is red" and shown.json()["body"] == "see **CI**"
    assert shown.json()["read_at"]


@pytest.mark.slow
def test_inbox_lists_and_reads(make_fleet):
    fleet = make_fleet("mcp")
    a, b = fleet.member("writer"), fleet.member("inboxer")
    sent = a.client.post("/v1/messages", {"recipients": [b.name], "subject": "hello"})

    async def steps(session):
        listed = ok(await session.call_tool("fleet_inbox", {"unread": True}))
        read = ok(await session.call_tool("fleet_read", {"type": "message", "id": sent["id"]}))
        after = ok(await session.call_tool("fleet_inbox", {"unread": True}))
        return listed, read, after

    listed, read, after = as_member(b, steps)
    assert [m["id"] for m in listed["items"]] == [sent["id"]]
    assert read["subject"] == "hello" and read["read_at"]
    assert after["items"] == []


@pytest.mark.slow
def test_policy_refusal_is_a_tool_error_with_the_server_detail(make_fleet):
    a = make_fleet("mcpa").member("asker", domains=["infra"])
    target = make_fleet("mcpb").member("closed", domains=["infra"], cross_fleet=False)
    body = {"to": [target.address], "subject": "hi", "domains": ["infra"]}

    async def steps(session):
        refused = await session.call_tool("fleet_send_message", body)
        # The MCP server survives the refusal and keeps serving.
        again = await session.call_tool("fleet_send_message", {**body, "to": [a.name]})
        return refused, again

    refused, again = as_member(a, steps)
    assert refused.is_error
    assert text(refused) == (f"{a.address} (agent) is not allowed: "  # a refusal names who was refused
                             f"{target.address} does not accept cross-fleet messages (rule: cross_fleet)")
    assert ok(again)["recipients"] == [a.address]
    assert target.client.get("/v1/messages")["items"] == []


@pytest.mark.slow
def test_bad_arguments_are_tool_errors_naming_the_problem(make_fleet):
    a = make_fleet("mcp").member("sloppy")

    async def steps(session):
        return [await session.call_tool(name, args) for name, args in (
            ("fleet_send_message", {"to": ["x"], "subject": "s", "sender": "boss"}),
            ("fleet_send_message", {"to": ["x"]}),
            ("fleet_publish_knowledge", {"kind": "rumour", "title": "t"}),
            ("fleet_task_action", {"id": "1; drop", "action": "start"}),
            ("fleet_send_message", {"to": ["nobody-here"], "subject": "s"}),
        )]

    results = as_member(a, steps)
    assert all(r.is_error for r in results)
    assert "unknown argument 'sender'" in text(results[0])
    assert "missing required argument 'subject'" in text(results[1])
    assert "'kind' must be one of: tip, gotcha, breaking, fix" in text(results[2])
    assert "'id' must be of type integer" in text(results[3])
    assert "nobody-here" in text(results[4])  # the server's 404 detail


@pytest.mark.slow
def test_unreachable_server_is_a_tool_error():
    async def steps(session):
        return await session.call_tool("fleet_inbox", {})

    result = with_mcp("http://127.0.0.1:9", "flt_1_1_x", steps)
    assert result.is_error and "cannot reach fleet server at http://127.0.0.1:9" in text(result)


def test_print_config_with_env_credentials_refers_to_them(server, make_fleet):
    owner = make_fleet("mcp").owner
    plain = owner.cli("mcp", "--print-config")
    assert plain.exit_code == 0, plain.stderr
    assert json.loads(plain.stdout) == {"mcpServers": {"fleet": {"command": "fleetctl", "args": ["mcp"], "env": {
        "FLEET_URL": "${FLEET_URL}", "FLEET_TOKEN": "${FLEET_TOKEN}"}}}}
    assert f"(now: {owner.address})" in plain.stderr
    assert owner.token not in plain.stdout + plain.stderr
    http = owner.cli("mcp", "--print-config", "--http")
    assert json.loads(http.stdout) == {"mcpServers": {"fleet": {
        "type": "http", "url": f"{server.url}/mcp", "headers": {"Authorization": "Bearer ${FLEET_TOKEN}"}}}}
    assert owner.token not in http.stdout + http.stderr


@pytest.mark.slow
def test_print_config_with_a_profile_pins_it_and_it_wins_over_an_inherited_token(server, make_fleet, tmp_path):
    fleet = make_fleet("mcp")
    builder = fleet.member("builder")
    config.save_profile("work", server.url, builder.token)
    # FLEET_TOKEN of someone else is inherited from the shell: the chosen profile still decides who acts.
    for args, env in ((["--profile", "work"], {}), ([], {"FLEET_PROFILE": "work"})):
        printed = run_cli([*args, "mcp", "--print-config"], {"FLEET_TOKEN": fleet.owner.token, **env})
        assert printed.exit_code == 0, printed.stderr
        assert json.loads(printed.stdout) == {"mcpServers": {"fleet": {
            "command": "fleetctl", "args": ["--profile", "work", "mcp"]}}}
        assert f"profile 'work' (now: {builder.address})" in printed.stderr
        assert builder.token not in printed.stdout + printed.stderr
    http = run_cli(["--profile", "work", "mcp", "--print-config", "--http"], {"FLEET_TOKEN": fleet.owner.token})
    assert json.loads(http.stdout)["mcpServers"]["fleet"]["url"] == f"{server.url}/mcp"
    assert f"set FLEET_TOKEN to the token of {builder.address}" in http.stderr
    assert builder.token not in http.stdout + http.stderr

    async def steps(session):
        return ok(await session.call_tool("fleet_whoami", {}))

    me = over_stdio(server.url, fleet.owner.token, steps, env={"FLEET_CONFIG_DIR": str(tmp_path / "config")},
                    options=("--profile", "work"))
    assert me["member"]["address"] == builder.address


def test_print_config_refuses_what_it_cannot_pin(server, make_fleet):
    owner = make_fleet("mcp").owner
    nothing = run_cli(["mcp", "--print-config"])
    assert nothing.exit_code == 3 and "no credentials to pin" in nothing.stderr
    flag = run_cli(["--token", owner.token, "--url", server.url, "mcp", "--print-config"])
    assert flag.exit_code == 1 and "--token flag cannot be referred to" in flag.stderr
    assert owner.token not in flag.stdout + flag.stderr
    config.save_profile("default", server.url, owner.token)
    empty = run_cli(["mcp"], {"FLEET_TOKEN": ""})  # "${FLEET_TOKEN}" of an unset variable: no fallback
    assert empty.exit_code == 3 and "FLEET_TOKEN is set but empty" in empty.stderr
    assert run_cli(["mcp", "--http"]).exit_code == 2


@pytest.mark.slow
def test_documents_put_get_and_lost_update_refused(make_fleet):
    fleet = make_fleet("mcp")
    a = fleet.member("scribe")

    async def steps(session):
        first = ok(await session.call_tool("fleet_put_document", {
            "name": "runbook", "body": "v1", "title": "Runbook", "base_version": 0, "cross_fleet": False}))
        second = ok(await session.call_tool("fleet_put_document", {
            "name": "runbook", "body": "v2", "base_version": 1, "message": "step 2"}))
        stale = await session.call_tool("fleet_put_document", {"name": "runbook", "body": "v2'", "base_version": 1})
        old = ok(await session.call_tool("fleet_get_document", {"name": "runbook", "version": 1}))
        latest = ok(await session.call_tool("fleet_get_document", {"name": f"{fleet.name}/runbook"}))
        return first, second, stale, old, latest

    first, second, stale, old, latest = as_member(a, steps)
    assert (first["version"], second["version"]) == (1, 2)
    assert stale.is_error and "version" in text(stale), text(stale)
    assert old["body"] == "v1" and latest["body"] == "v2" and latest["title"] == "Runbook"
    assert fleet.owner.client.get("/v1/documents/runbook")["body"] == "v2"


@pytest.mark.slow
def test_task_create_and_actions_through_review(make_fleet):
    fleet = make_fleet("mcp")
    a, b = fleet.member("boss", domains=["infra"]), fleet.member("doer", domains=["infra"])

    async def create(session):
        return ok(await session.call_tool("fleet_create_task", {
            "title": "rotate certs", "body": "before Friday", "domains": ["infra"], "priority": "high",
            "assign": b.name}))

    task = as_member(a, create)
    assert (task["state"], task["assignee"], task["review"]) == ("assigned", b.address, "required")

    async def work(session):
        ready = ok(await session.call_tool("fleet_list_tasks", {"ready": True}))
        accepted = ok(await session.call_tool("fleet_task_action", {"id": task["id"], "action": "accept"}))
        wrong = await session.call_tool("fleet_task_action", {"id": task["id"], "action": "submit"})
        ok(await session.call_tool("fleet_task_action", {"id": task["id"], "action": "start"}))
        submitted = ok(await session.call_tool("fleet_task_action", {
            "id": task["id"], "action": "submit", "note": "done, see runbook"}))
        approve = await session.call_tool("fleet_task_action", {"id": task["id"], "action": "approve"})
        shown = ok(await session.call_tool("fleet_read", {"type": "task", "id": task["id"]}))
        mine = ok(await session.call_tool("fleet_list_tasks", {"mine": True, "state": "in_review"}))
        return ready, accepted, wrong, submitted, approve, shown, mine

    ready, accepted, wrong, submitted, approve, shown, mine = as_member(b, work)
    assert task["id"] in [t["id"] for t in ready["items"]]
    assert accepted["state"] == "accepted" and submitted["state"] == "in_review"
    assert wrong.is_error and "allowed from accepted: start, cancel" in text(wrong)  # the 409's detail
    assert approve.is_error and "review gate" in text(approve)  # an agent never passes a human gate
    assert [h["to"] for h in shown["history"]][-1] == "in_review"
    assert [t["id"] for t in mine["items"]] == [task["id"]]
    approved = fleet.owner.cli("task", "approve", str(task["id"]), "--json")
    assert approved.exit_code == 0 and approved.json()["state"] == "done"


@pytest.mark.slow
def test_knowledge_publish_and_search(make_fleet):
    fleet = make_fleet("mcp")
    a = fleet.member("author", domains=["payments"])

    async def steps(session):
        entry = ok(await session.call_tool("fleet_publish_knowledge", {
            "kind": "gotcha", "title": "Stripe webhooks retry for 3 days", "body": "make handlers *idempotent*",
            "domains": ["payments"], "expires_in": "7d", "pinned": True, "cross_fleet": True}))
        other = ok(await session.call_tool("fleet_publish_knowledge", {
            "kind": "tip", "title": "Idempotent retries in the deploy script", "domains": ["payments"]}))
        found = ok(await session.call_tool("fleet_search_knowledge", {"query": "idempotent", "kind": "gotcha"}))
        both = ok(await session.call_tool("fleet_search_knowledge", {"query": "idempotent"}))
        feed = ok(await session.call_tool("fleet_search_knowledge", {"kind": "gotcha"}))
        bad = await session.call_tool("fleet_publish_knowledge", {"kind": "tip", "title": "t", "supersedes": 10**9})
        return entry, other, found, both, feed, bad

    entry, other, found, both, feed, bad = as_member(a, steps)
    stored = fleet.owner.client.get(f"/v1/knowledge/{entry['id']}")
    assert stored["author"] == a.address and stored["kind"] == "gotcha" and stored["pinned"] is True
    assert stored["visibility"] == "cross-fleet" and stored["expires_at"] and stored["domains"] == ["payments"]
    assert [e["id"] for e in found["items"]] == [entry["id"]]
    assert {e["id"] for e in both["items"]} == {entry["id"], other["id"]}
    assert [e["id"] for e in feed["items"]] == [entry["id"]]
    assert bad.is_error and text(bad) == "knowledge entry 1000000000 not found"


@pytest.mark.slow
def test_research_publish(make_fleet):
    fleet = make_fleet("mcp")
    a = fleet.member("researcher", domains=["infra"])
    reviewer = fleet.member("judge", role="reviewer")

    async def steps(session):
        published = ok(await session.call_tool("fleet_publish_research", {
            "title": "Is the cache the bottleneck?", "question": "p99 latency", "body": "yes: 80% of time",
            "confidence": 0.8, "sources": ["grafana:p99"], "reviewers": [reviewer.name], "domains": ["infra"]}))
        out_of_range = await session.call_tool("fleet_publish_research", {"title": "t", "confidence": 1.5})
        return published, out_of_range

    published, out_of_range = as_member(a, steps)
    stored = reviewer.client.get(f"/v1/research/{published['id']}")
    assert stored["state"] == "in_review" and stored["confidence"] == 0.8 and stored["author"] == a.address
    assert out_of_range.is_error and "confidence" in text(out_of_range)


@pytest.mark.slow
def test_wake_hands_the_news_over_once(make_fleet):
    fleet = make_fleet("mcp")
    a, b = fleet.member("poker"), fleet.member("sleeper")
    a.client.post("/v1/messages", {"recipients": [b.name], "subject": "wake up, prod is down"})

    async def steps(session):
        return [text(await session.call_tool("fleet_wake", args)) for args in (
            {"peek": True}, {"peek": True, "max_chars": 4000}, {}, {})]

    peek1, peek2, first, second = as_member(b, steps)
    assert "wake up, prod is down" in peek1 and "wake up, prod is down" in peek2
    assert "wake up, prod is down" in first
    assert "wake up, prod is down" not in second


def test_stdio_server_loads_neither_the_sdk_nor_the_server_stack():
    """`fleetctl mcp` starts fast: no MCP SDK (1 s of imports), no anyio, no Flask or database driver."""
    import subprocess
    import sys

    code = ("import sys; from fleetctl.cli.main import app; from fleetctl.mcp import stdio; "
            "heavy = [m for m in ('mcp', 'mcp_types', 'anyio', 'starlette', 'httpx2', 'flask', 'werkzeug', "
            "'peewee', 'bcrypt') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
@pytest.mark.slow
def test_wake_inside_a_daemon_run_only_peeks(make_fleet):
    """With FLEET_WAKE_CURSOR set (the daemon sets it for its command) fleet_wake hands nothing over, and the
    prompt names tool calls instead of shell commands."""
    fleet = make_fleet("mcp")
    a, b = fleet.member("poker"), fleet.member("runner")
    sent = a.client.post("/v1/messages", {"recipients": [b.name], "subject": "daemon news"})
    cursor = b.client.get("/v1/wake")["cursor"]
    async def steps(session):
        return [text(await session.call_tool("fleet_wake", {})) for _ in range(2)]

    first, second = over_stdio(b.url, b.token, steps, env={"FLEET_WAKE_CURSOR": cursor})
    assert "daemon news" in first and "daemon news" in second
    assert f'`fleet_read {{"type": "message", "id": {sent["id"]}}}`' in first and "fleetctl msg" not in first
    assert b.client.get("/v1/wake")["cursor"] == cursor  # nothing was handed over
