"""MCP over streamable HTTP at `/mcp`, driven by the official SDK's client against a real waitress server:
identity from the bearer token only, 401 without a good one, stateless across servers, bad input."""

from __future__ import annotations

import json

import anyio
import pytest
import servers
from conftest import http_request
from mcp.shared.exceptions import MCPError
from mcpclients import http_session, ok, over_http, text

from fleetctl.mcp import tools


def rpc(url: str, body, token: str | None = None, headers: dict | None = None):
    """One raw POST to /mcp (status, decoded body)."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http_request(url, "POST", "/mcp", raw=raw, headers={"Accept": "application/json, text/event-stream",
                                                               **auth, **(headers or {})})


def call(name: str, arguments: dict, ident: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": ident, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def test_http_endpoint_serves_the_same_tools_as_the_token_member(make_fleet):
    fleet = make_fleet("mcph")
    a, b = fleet.member("sender"), fleet.member("reader")

    async def steps(session):
        listed = await session.list_tools()
        sent = ok(await session.call_tool("fleet_send_message", {"to": [b.name], "subject": "over http"}))
        me = ok(await session.call_tool("fleet_whoami", {}))
        return listed, sent, me

    listed, sent, me = over_http(a.url, a.token, steps)
    assert [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listed.tools] == tools.DEFINITIONS
    assert sent["sender"] == a.address and sent["recipients"] == [b.address]
    assert me["member"]["address"] == a.address
    assert [m["subject"] for m in b.client.get("/v1/messages")["items"]] == ["over http"]
    audit = fleet.owner.client.get("/v1/audit", member="sender")["items"]
    assert [(r["action"], r["status"]) for r in audit] == [("message.send", 201)]  # the API's own record


def test_two_agents_at_once_each_act_as_their_own_token(make_fleet):
    fleet = make_fleet("mcph")
    a, b = fleet.member("alice"), fleet.member("bob")
    results: dict = {}

    async def agent(actor, other):
        async def steps(session):
            out = []
            for i in range(5):
                out.append(ok(await session.call_tool("fleet_send_message", {"to": [other.name], "subject": f"{i}"})))
                out.append(ok(await session.call_tool("fleet_whoami", {})))
            return out

        # Headers naming the other member (and a session id) change nothing: only the bearer token counts.
        results[actor.name] = await http_session(actor.url, actor.token, steps, headers={
            "Mcp-Session-Id": "session-of-" + other.name, "X-Fleet-Member": other.address})

    async def both():
        async with anyio.create_task_group() as tg:
            tg.start_soon(agent, a, b)
            tg.start_soon(agent, b, a)

    anyio.run(both)
    for actor in (a, b):
        sent = results[actor.name][0::2]
        assert {m["sender"] for m in sent} == {actor.address}
        assert {w["member"]["address"] for w in results[actor.name][1::2]} == {actor.address}
    assert len(a.client.get("/v1/messages")["items"]) == 5 and len(b.client.get("/v1/messages")["items"]) == 5


def test_no_token_or_a_revoked_one_is_401_and_writes_nothing(make_fleet):
    fleet = make_fleet("mcph")
    gone, reader = fleet.member("gone"), fleet.member("reader")
    send = call("fleet_send_message", {"to": [reader.name], "subject": "from beyond"})
    missing = rpc(fleet.url, send)
    assert missing.status == 401 and missing.getheader("Content-Type") == "application/problem+json"
    assert "bearer token" in missing.body["detail"]
    assert rpc(fleet.url, send, token="flt_1_1_" + "x" * 40).status == 401
    fleet.owner.client.post("/v1/agents/gone/revoke")
    revoked = rpc(fleet.url, send, token=gone.token)
    assert revoked.status == 401 and revoked.body["detail"] == "token revoked or unknown"
    assert reader.client.get("/v1/messages")["items"] == []
    refusals = fleet.owner.client.get("/v1/audit", member="gone")["items"]
    assert ("POST /mcp", 401) in {(r["action"], r["status"]) for r in refusals}  # owners see it

    async def steps(session):
        return await session.list_tools()

    with pytest.raises(Exception):  # noqa: B017 - the SDK client cannot even initialize (its own error types)
        over_http(fleet.url, None, steps)


@pytest.mark.engine("postgres")  # several servers share a database on PostgreSQL
def test_stateless_any_server_answers_any_request(server, make_fleet):
    """Behind a load balancer: initialize on one server, then tools calls on another, with no session."""
    fleet = make_fleet("mcph")
    a, b = fleet.member("roamer"), fleet.member("target")
    with servers.start(None, {"FLEET_DB": server.db_url}, threads=2) as other:
        init = rpc(other.url, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
            token=a.token)
        assert init.status == 200 and init.getheader("Mcp-Session-Id") is None
        there = rpc(other.url, call("fleet_send_message", {"to": [b.name], "subject": "one"}), token=a.token)
        here = rpc(server.url, call("fleet_send_message", {"to": [b.name], "subject": "two"}), token=a.token)
    assert not there.body["result"].get("isError") and not here.body["result"].get("isError")
    assert sorted(m["subject"] for m in b.client.get("/v1/messages")["items"]) == ["one", "two"]


def test_protocol_edges_answer_cleanly(make_fleet):
    a = make_fleet("mcph").member("edgy")
    note = rpc(a.url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, token=a.token)
    assert note.status == 202 and not note.body
    stream = http_request(a.url, "GET", "/mcp", headers={"Authorization": f"Bearer {a.token}"})
    assert stream.status == 405 and "POST" in stream.getheader("Allow")
    assert stream.getheader("Content-Type") == "application/problem+json"
    broken = rpc(a.url, b"{not json", token=a.token)
    assert broken.status == 400 and "not valid JSON" in broken.body["detail"]
    junk = rpc(a.url, {"hello": "world"}, token=a.token)
    assert junk.status == 200 and junk.body["error"]["code"] == -32600
    unknown = rpc(a.url, {"jsonrpc": "2.0", "id": 7, "method": "resources/list"}, token=a.token)
    assert unknown.status == 200 and unknown.body["error"]["code"] == -32601 and unknown.body["id"] == 7
    batch = rpc(a.url, [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, call("fleet_whoami", {}, 2)], token=a.token)
    assert [r["id"] for r in batch.body] == [1, 2] and batch.body[0]["result"] == {}
    nameless = rpc(a.url, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"arguments": []}},
                   token=a.token)
    assert nameless.body["result"]["isError"] and "unknown tool None" in nameless.body["result"]["content"][0]["text"]


def test_bad_input_is_a_tool_error_with_the_server_detail(make_fleet):
    fleet = make_fleet("mcph")
    a = fleet.member("sloppy")
    hidden = make_fleet("mcph-other").owner.client.post("/v1/tasks", {"title": "not yours"})

    async def steps(session):
        return [await session.call_tool(name, args) for name, args in (
            ("fleet_nope", {}),
            ("fleet_read", {"type": "task", "id": hidden["id"]}),
            ("fleet_read", {"type": "task"}),
            ("fleet_read", {"type": "podcast", "id": 1}),
            ("fleet_task_action", {"id": True, "action": "start"}),
            ("fleet_list_tasks", {"state": ["open", 3]}),
            ("fleet_wake_ack", {"cursor": 10**12}),
        )]

    results = over_http(a.url, a.token, steps)
    assert all(r.is_error for r in results), [text(r) for r in results]
    assert text(results[0]) == "unknown tool 'fleet_nope'; see tools/list"
    assert text(results[1]) == f"task {hidden['id']} not found"
    assert text(results[2]) == "fleet_read type 'task' needs argument 'id'"
    assert "'type' must be one of: knowledge, task" in text(results[3])
    assert text(results[4]) == "argument 'id' must be of type integer"
    assert text(results[5]) == "items of 'state' must be of type string"
    assert "cursor" in text(results[6])  # the API's 422 detail


def test_oversized_arguments_get_the_api_413_rule(make_fleet):
    fleet = make_fleet("mcph")
    a = fleet.member("bulky")
    big = "x" * (1024 * 1024 + 10)
    over = rpc(a.url, call("fleet_put_document", {"name": "huge", "body": big}), token=a.token)
    assert over.status == 200 and over.body["result"]["isError"]
    assert over.body["result"]["content"][0]["text"] == "request body is larger than 1 MiB"
    assert http_request(a.url, "GET", "/v1/documents", headers={
        "Authorization": f"Bearer {a.token}"}).body["items"] == []
    huge = rpc(a.url, call("fleet_put_document", {"name": "huge", "body": big * 2}), token=a.token)
    assert huge.status == 413 and huge.getheader("Content-Type") == "application/problem+json"


def test_sdk_sees_tool_errors_not_protocol_errors(make_fleet):
    a = make_fleet("mcph").member("careful")

    async def steps(session):
        try:
            return await session.call_tool("fleet_read", {"type": "message", "id": 10**9})
        except MCPError as exc:  # pragma: no cover - the failure this test guards against
            return exc

    result = over_http(a.url, a.token, steps)
    assert not isinstance(result, MCPError) and result.is_error
    assert text(result) == "message 1000000000 not found"


@pytest.mark.slow
def test_mcp_inspector_cli_as_an_outside_client(make_fleet, tmp_path):
    """The official MCP Inspector (npm) lists the tools and calls one through `/mcp` with a bearer header."""
    import shutil
    import subprocess

    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx is not installed")
    a = make_fleet("mcph").member("inspected")

    def inspector(*args: str):
        done = subprocess.run([npx, "-y", "@modelcontextprotocol/inspector@2.12.0", "--cli", f"{a.url}/mcp",
                               "--transport", "http", "--header", f"Authorization: Bearer {a.token}", *args],
                              capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert done.stdout.strip().startswith("{"), done.stderr[-2000:]
        return json.JSONDecoder().raw_decode(done.stdout.strip())[0]  # the answer (an error line may follow)

    listed = inspector("--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} == {d["name"] for d in tools.DEFINITIONS}
    me = inspector("--method", "tools/call", "--tool-name", "fleet_whoami")
    assert json.loads(me["content"][0]["text"])["member"]["address"] == a.address
    missing = inspector("--method", "tools/call", "--tool-name", "fleet_read", "--tool-arg", "type=task", "id=99999")
    assert missing["isError"] and missing["content"][0]["text"] == "task 99999 not found"
