"""`fleetctl mcp` driven as a subprocess by the SDK's own stdio client, against the real server."""

from __future__ import annotations

import json
import sys

import anyio
from conftest import run_cli
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from fleetctl import config

TOOLS = {"fleet_wake", "fleet_publish_knowledge", "fleet_search_knowledge", "fleet_send_message", "fleet_inbox",
         "fleet_create_task", "fleet_list_tasks", "fleet_task_action", "fleet_publish_research",
         "fleet_put_document", "fleet_get_document"}


def with_mcp(url: str, token: str, steps):
    """Start `fleetctl mcp` for one member, run `await steps(session)` and return its result."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "fleetctl", "mcp"],
                                   env={"FLEET_URL": url, "FLEET_TOKEN": token})

    async def main():
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await steps(session)

    return anyio.run(main)


def as_member(actor, steps):
    return with_mcp(actor.url, actor.token, steps)


def text(result) -> str:
    return result.content[0].text


def ok(result):
    """The JSON a successful tool call answered."""
    assert not result.is_error, text(result)
    return json.loads(text(result))


def test_tools_list_is_complete_compact_and_precise(make_fleet):
    a = make_fleet("mcp").member("lister")

    async def steps(session):
        return await session.list_tools()

    listed = as_member(a, steps)
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == TOOLS
    size = len(json.dumps(listed.model_dump(by_alias=True, mode="json", exclude_none=True)))
    assert size < 10_000, size
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
    knowledge = tools["fleet_publish_knowledge"].input_schema
    assert knowledge["properties"]["kind"]["enum"] == ["tip", "gotcha", "breaking", "fix"]
    assert set(knowledge["required"]) == {"kind", "title"}
    action = tools["fleet_task_action"].input_schema
    assert "request-changes" in action["properties"]["action"]["enum"]
    assert set(action["required"]) == {"id", "action"}
    assert "in_review" in tools["fleet_list_tasks"].input_schema["properties"]["state"]["enum"]
    assert tools["fleet_send_message"].input_schema["required"] == ["to", "subject"]
    # The enums are the server's own, so a model never picks a value the server refuses.
    from fleetctl.models.knowledge import KINDS
    from fleetctl.models.tasks import PRIORITIES, STATES
    from fleetctl.services.task_actions import ACTIONS

    assert knowledge["properties"]["kind"]["enum"] == list(KINDS)
    assert action["properties"]["action"]["enum"] == list(ACTIONS)
    assert tools["fleet_list_tasks"].input_schema["properties"]["state"]["enum"] == list(STATES)
    assert tools["fleet_create_task"].input_schema["properties"]["priority"]["enum"] == list(PRIORITIES)


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


def test_inbox_lists_and_reads(make_fleet):
    fleet = make_fleet("mcp")
    a, b = fleet.member("writer"), fleet.member("inboxer")
    sent = a.client.post("/v1/messages", {"recipients": [b.name], "subject": "hello"})

    async def steps(session):
        listed = ok(await session.call_tool("fleet_inbox", {"unread": True}))
        read = ok(await session.call_tool("fleet_inbox", {"id": sent["id"]}))
        after = ok(await session.call_tool("fleet_inbox", {"unread": True}))
        return listed, read, after

    listed, read, after = as_member(b, steps)
    assert [m["id"] for m in listed["items"]] == [sent["id"]]
    assert read["subject"] == "hello" and read["read_at"]
    assert after["items"] == []


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
    assert text(refused) == f"{target.address} does not accept cross-fleet messages (rule: cross_fleet)"
    assert ok(again)["recipients"] == [a.address]
    assert target.client.get("/v1/messages")["items"] == []


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


def test_unreachable_server_is_a_tool_error():
    async def steps(session):
        return await session.call_tool("fleet_inbox", {})

    result = with_mcp("http://127.0.0.1:9", "flt_1_1_x", steps)
    assert result.is_error and "cannot reach fleet server at http://127.0.0.1:9" in text(result)


def test_print_config_names_url_and_profile_never_the_token(server, make_fleet):
    owner = make_fleet("mcp").owner
    plain = owner.cli("mcp", "--print-config")
    assert plain.exit_code == 0
    assert json.loads(plain.stdout) == {"mcpServers": {"fleet": {
        "command": "fleetctl", "args": ["mcp"], "env": {"FLEET_URL": server.url}}}}
    assert owner.token not in plain.stdout + plain.stderr
    config.save_profile("work", server.url, owner.token)
    profiled = run_cli(["--profile", "work", "mcp", "--print-config"])
    assert profiled.exit_code == 0, profiled.stderr
    assert json.loads(profiled.stdout)["mcpServers"]["fleet"]["env"] == {"FLEET_URL": server.url,
                                                                         "FLEET_PROFILE": "work"}
    assert owner.token not in profiled.stdout + profiled.stderr



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
        shown = ok(await session.call_tool("fleet_list_tasks", {"id": task["id"]}))
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


def test_wake_inside_a_daemon_run_only_peeks(make_fleet):
    """With FLEET_WAKE_CURSOR set (the daemon sets it for its command) fleet_wake hands nothing over, and the
    prompt names tool calls instead of shell commands."""
    fleet = make_fleet("mcp")
    a, b = fleet.member("poker"), fleet.member("runner")
    sent = a.client.post("/v1/messages", {"recipients": [b.name], "subject": "daemon news"})
    cursor = b.client.get("/v1/wake")["cursor"]
    params = StdioServerParameters(command=sys.executable, args=["-m", "fleetctl", "mcp"],
                                   env={"FLEET_URL": b.url, "FLEET_TOKEN": b.token, "FLEET_WAKE_CURSOR": cursor})

    async def main():
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return [text(await session.call_tool("fleet_wake", {})) for _ in range(2)]

    first, second = anyio.run(main)
    assert "daemon news" in first and "daemon news" in second
    assert f'`fleet_read {{"type": "message", "id": {sent["id"]}}}`' in first and "fleetctl msg" not in first
    assert b.client.get("/v1/wake")["cursor"] == cursor  # nothing was handed over
