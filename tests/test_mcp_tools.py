"""Every action a wake suggests has an MCP tool; lists are lean and filtered on the server before paging.

Driven through `/mcp` with the official SDK's streamable HTTP client (the tools are the same on stdio)."""

from __future__ import annotations

import json

import mcp_types
from mcpclients import ok, over_http, over_stdio, text

from fleetctl.client import Client
from fleetctl.mcp import protocol, runs, tools


def test_every_wake_action_has_a_tool(make_fleet):
    fleet = make_fleet("mcpt")
    author = fleet.member("author", domains=["infra"])
    judge = fleet.member("judge", role="reviewer")
    old = author.client.post("/v1/knowledge", {"kind": "tip", "title": "use v1", "domains": ["infra"]})
    new = author.client.post("/v1/knowledge", {"kind": "tip", "title": "use v2", "supersedes": old["id"]})
    task = fleet.owner.client.post("/v1/tasks", {"title": "ship it", "assign": judge.name})
    first = author.client.post("/v1/messages", {"recipients": [judge.name], "subject": "question"})
    reply = judge.client.post("/v1/messages", {"recipients": [author.name], "subject": "re", "reply_to": first["id"]})
    author.client.request("PUT", "/v1/documents/spec", {"body": "a\nb\n"})
    author.client.request("PUT", "/v1/documents/spec", {"body": "a\nc\n", "base_version": 1})

    async def author_steps(session):
        research = ok(await session.call_tool("fleet_publish_research", {
            "title": "cache?", "confidence": 0.5, "body": "maybe", "reviewers": [judge.name]}))
        return research

    research = over_http(author.url, author.token, author_steps)

    async def judge_steps(session):
        return {
            "knowledge": ok(await session.call_tool("fleet_read", {"type": "knowledge", "id": new["id"]})),
            "task": ok(await session.call_tool("fleet_read", {"type": "task", "id": task["id"]})),
            "research": ok(await session.call_tool("fleet_read", {"type": "research", "id": research["id"]})),
            "message": ok(await session.call_tool("fleet_read", {"type": "message", "id": first["id"]})),
            "thread": ok(await session.call_tool("fleet_read", {"type": "thread", "id": reply["id"]})),
            "document": ok(await session.call_tool("fleet_read", {"type": "document", "name": "spec"})),
            "v1": ok(await session.call_tool("fleet_read", {"type": "document", "name": f"{fleet.name}/spec",
                                                            "version": 1})),
            "diff": ok(await session.call_tool("fleet_read", {"type": "diff", "name": "spec", "from": 1, "to": 2})),
            "in_review": ok(await session.call_tool("fleet_list_research", {"state": "in_review"})),
            "review": ok(await session.call_tool("fleet_review_research", {
                "id": research["id"], "verdict": "request-changes", "comment": "cite the graph"})),
            "documents": ok(await session.call_tool("fleet_list_documents", {})),
            "accept": ok(await session.call_tool("fleet_task_action", {"id": task["id"], "action": "accept"})),
            "whoami": ok(await session.call_tool("fleet_whoami", {})),
        }

    seen = over_http(judge.url, judge.token, judge_steps)
    assert [e["id"] for e in seen["knowledge"]["chain"]] == [old["id"], new["id"]]
    assert seen["task"]["history"] and seen["research"]["reviewers"] == [judge.address]
    assert seen["message"]["read_at"] and judge.client.get(f"/v1/messages/{first['id']}")["read_at"]
    assert [m["subject"] for m in seen["thread"]["items"]] == ["question", "re"]
    assert seen["document"]["body"] == "a\nc\n" and seen["v1"]["body"] == "a\nb\n"
    assert "-b\n+c" in seen["diff"]["diff"]
    assert [r["id"] for r in seen["in_review"]["items"]] == [research["id"]]
    assert seen["review"]["state"] == "changes_requested"
    assert [d["name"] for d in seen["documents"]["items"]] == ["spec"]
    assert seen["accept"]["state"] == "accepted" and seen["whoami"]["member"]["address"] == judge.address

    async def revise_steps(session):
        return ok(await session.call_tool("fleet_publish_research", {
            "revises": research["id"], "body": "yes, see graph", "confidence": 0.9}))

    revised = over_http(author.url, author.token, revise_steps)
    assert (revised["state"], revised["revision"], revised["confidence"]) == ("in_review", 2, 0.9)
    assert revised["body"] == "yes, see graph" and revised["id"] == research["id"]

    async def approve_steps(session):
        return ok(await session.call_tool("fleet_review_research", {"id": research["id"], "verdict": "approve"}))

    assert over_http(judge.url, judge.token, approve_steps)["state"] == "approved"
    assert author.client.get(f"/v1/research/{research['id']}")["state"] == "approved"


def test_wake_peek_and_ack_with_the_cursor(make_fleet):
    fleet = make_fleet("mcpt")
    a, b = fleet.member("poker"), fleet.member("sleeper")
    a.client.post("/v1/messages", {"recipients": [b.name], "subject": "prod is down"})

    async def steps(session):
        peeked = text(await session.call_tool("fleet_wake", {"peek": True}))
        cursor = json.loads(peeked.rsplit("(cursor: ", 1)[1].rstrip(")"))
        acked = ok(await session.call_tool("fleet_wake_ack", {"cursor": cursor}))
        again = text(await session.call_tool("fleet_wake", {"peek": True}))
        return peeked, acked, again

    peeked, acked, again = over_http(b.url, b.token, steps)
    assert "prod is down" in peeked and "prod is down" not in again
    assert acked


def test_wake_inside_a_daemon_command_only_peeks(make_fleet):
    fleet = make_fleet("mcpt")
    a, b = fleet.member("poker"), fleet.member("sleeper")
    a.client.post("/v1/messages", {"recipients": [b.name], "subject": "still there"})

    async def steps(session):
        return [text(await session.call_tool("fleet_wake", {})) for _ in range(2)]

    first, second = over_stdio(b.url, b.token, steps, env={"FLEET_WAKE_CURSOR": "0"})
    assert "still there" in first and "still there" in second  # the daemon acks, not the tool
    assert not b.client.get("/v1/wake")["empty"]


def test_wake_asks_for_the_prompt_in_tool_call_style():
    """fleet_wake fetches the wake with commands=mcp (the server renders tool calls instead of shell commands)."""

    class Recorder(Client):
        """The real client, with the wire replaced by a list of the requests it would send."""

        calls: list = []

        def _send(self, method, path, payload, headers):
            self.calls.append((method, path, json.loads(payload) if payload else None))
            return 200, json.dumps({"cursor": 4, "prompt": "news", "empty": False} if method == "GET" else {}).encode()

    recorder = Recorder("http://recorder", "flt_1_1_x")
    assert runs.wake(recorder, {}) == "news"
    assert recorder.calls == [("GET", "/v1/wake?commands=mcp", None), ("POST", "/v1/wake/ack", {"cursor": 4})]


def test_filters_apply_on_the_server_before_paging(make_fleet):
    fleet = make_fleet("mcpt")
    a = fleet.member("reader", domains=["payments", "infra"])
    breaking = [a.client.post("/v1/knowledge", {"kind": "breaking", "title": f"refunds API v{i}",
                                                "domains": ["payments"]})["id"] for i in range(3)]
    for i in range(8):  # newer and better-ranked matches of other kinds would fill a page filtered afterwards
        a.client.post("/v1/knowledge", {"kind": "tip", "title": f"refunds refunds tip {i}", "domains": ["infra"]})

    async def steps(session):
        return [ok(await session.call_tool("fleet_search_knowledge", args)) for args in (
            {"query": "refunds", "kind": "breaking", "limit": 3},
            {"query": "refunds", "kind": ["breaking", "fix"], "limit": 2},
            {"query": "refunds", "domain": "payments"},
            {"kind": "breaking", "limit": 3},
            {"kind": ["breaking"], "domain": ["payments"]},
        )]

    exact, first_page, by_domain, feed, both = over_http(a.url, a.token, steps)
    assert sorted(e["id"] for e in exact["items"]) == breaking and exact["next"] is None
    assert len(first_page["items"]) == 2 and first_page["next"] is not None
    assert all(e["kind"] == "breaking" for e in first_page["items"])
    assert sorted(e["id"] for e in by_domain["items"]) == breaking
    assert sorted(e["id"] for e in feed["items"]) == breaking
    assert sorted(e["id"] for e in both["items"]) == breaking


def test_lists_carry_previews_not_bodies(make_fleet):
    fleet = make_fleet("mcpt")
    a = fleet.member("writer")
    body = "long tip " * 1200  # ~10 KB
    for i in range(10):
        a.client.post("/v1/knowledge", {"kind": "tip", "title": f"tip {i}", "body": body})
        a.client.post("/v1/tasks", {"title": f"task {i}", "body": body})
        a.client.post("/v1/messages", {"recipients": [a.name], "subject": f"note {i}", "body": body})
        a.client.post("/v1/research", {"title": f"study {i}", "confidence": 0.5, "body": body})
        a.client.request("PUT", f"/v1/documents/doc-{i}", {"body": body})

    async def steps(session):
        return [(name, await session.call_tool(name, args)) for name, args in (
            ("fleet_search_knowledge", {}), ("fleet_list_tasks", {}), ("fleet_inbox", {}),
            ("fleet_list_research", {}), ("fleet_list_documents", {}), ("fleet_search_knowledge", {"query": "tip"}))]

    for name, result in over_http(a.url, a.token, steps):
        page = ok(result)
        assert len(page["items"]) == 10, name
        assert len(text(result)) < 20_000, (name, len(text(result)))  # not 100 KB of bodies
        for item in page["items"]:
            assert "body" not in item and "history" not in item, name
            if "preview" in item:  # the server's own previews may end with "..."
                assert len(item["preview"]) <= runs.PREVIEW_CHARS + 3, name
                assert item.get("body_chars", len(body)) == len(body), name


def test_answers_match_the_sdk_models():
    """The protocol's answers validate against the official SDK's own models (mcp_types)."""
    listed = mcp_types.ListToolsResult.model_validate({"tools": tools.DEFINITIONS})
    assert [t.name for t in listed.tools] == [spec.name for spec in tools.TOOLS]
    wire = protocol.encode(protocol.answer({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, None))
    assert len(wire) < 10_000, len(wire)
    init = mcp_types.InitializeResult.model_validate(protocol.initialize({"protocolVersion": "2025-06-18"}))
    assert init.protocol_version == "2025-06-18" and init.server_info.name == "fleet"
    assert protocol.initialize({"protocolVersion": "1999-01-01"})["protocolVersion"] == "2025-11-25"
    assert mcp_types.CallToolResult.model_validate(tools.result("no", error=True)).is_error
