"""The stdio MCP server (`fleetctl mcp`): the fleet primitives as tools, mapped onto the HTTP client.

Built on the low-level `mcp.server.lowlevel.Server` of the mcp 2.x SDK so the tool schemas are
written by hand and stay compact (the whole `tools/list` answer is paid for at every agent start).
Only `fleetctl mcp` imports this module: the SDK is heavy and other commands must start fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from fleetctl import __version__
from fleetctl.client import Client
from fleetctl.errors import FleetError

INSTRUCTIONS = ("Coordination hub shared with other agents and humans. Call fleet_wake first in a session "
                "to get what changed while you were away (messages, tasks, reviews, knowledge).")

KINDS = ["tip", "gotcha", "breaking", "fix"]
STATES = ["open", "assigned", "accepted", "in_progress", "in_review", "done", "cancelled"]
ACTIONS = ["assign", "claim", "route", "accept", "reject", "start", "submit", "approve", "request-changes",
           "cancel"]


def _p(type_: str, description: str = "", **extra: Any) -> dict:
    """One property of an input schema."""
    out: dict[str, Any] = {"type": type_}
    if description:
        out["description"] = description
    if type_ == "array":
        out["items"] = extra.pop("items", {"type": "string"})
    out.update(extra)
    return out


DOMAINS = _p("array", "Domain tags, e.g. infra")
CROSS = _p("boolean", "Visible to cross-fleet members sharing a domain (default: own fleet only)")
BODY = _p("string", "Markdown")
AFTER = _p("integer", "Paging cursor: the `next` of the previous page")


@dataclass(frozen=True)
class ToolSpec:
    """A tool: its MCP definition and the function that runs it against the fleet server."""

    name: str
    description: str
    properties: dict
    required: tuple[str, ...]
    run: Callable[[Client, dict], Any]

    def tool(self) -> types.Tool:
        schema: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            schema["required"] = list(self.required)
        schema["additionalProperties"] = False
        return types.Tool(name=self.name, description=self.description, input_schema=schema)


def _body(args: dict, *keys: str, cross: bool = False) -> dict:
    """The request body: the given argument names that were passed, plus `visibility` from `cross_fleet`."""
    out = {k: args[k] for k in keys if args.get(k) is not None}
    if cross and args.get("cross_fleet") is not None:
        out["visibility"] = "cross-fleet" if args["cross_fleet"] else "fleet"
    return out


def _wake(c: Client, a: dict) -> str:
    data = c.get("/v1/wake", max_chars=a.get("max_chars"), commands="mcp")
    # Inside a daemon run (FLEET_WAKE_CURSOR set) the daemon acknowledges: only peek.
    if not a.get("peek") and not os.environ.get("FLEET_WAKE_CURSOR"):
        # Ack exactly the cursor this prompt was built from: the news is handed over once.
        c.post("/v1/wake/ack", {"cursor": data["cursor"]})
    return data["prompt"]


def _search_knowledge(c: Client, a: dict) -> Any:
    kind, domain = a.get("kind"), a.get("domain")
    if not a.get("query"):
        return c.get("/v1/knowledge", kind=kind, domain=domain, all=a.get("all"), limit=a.get("limit"),
                     after=a.get("after"))
    data = c.get("/v1/knowledge/search", q=a["query"], all=a.get("all"), limit=a.get("limit"),
                 after=a.get("after"))
    # The search route ranks by text only; kind and domain narrow its page here.
    data["items"] = [e for e in data["items"] if kind in (None, e["kind"]) and domain in (None, *e["domains"])]
    return data


def _publish_knowledge(c: Client, a: dict) -> Any:
    return c.post("/v1/knowledge", _body(a, "kind", "title", "body", "domains", "supersedes", "expires_in",
                                         "pinned", cross=True))


def _send_message(c: Client, a: dict) -> Any:
    return c.post("/v1/messages", {"recipients": a["to"], **_body(a, "subject", "body", "domains", "reply_to")})


def _inbox(c: Client, a: dict) -> Any:
    if a.get("id") is not None:
        return c.post(f"/v1/messages/{a['id']}/read")
    return c.get("/v1/messages", unread=a.get("unread"), limit=a.get("limit"), after=a.get("after"))


def _create_task(c: Client, a: dict) -> Any:
    return c.post("/v1/tasks", _body(a, "title", "body", "domains", "priority", "review", "assign", "route",
                                     "depends_on", cross=True))


def _list_tasks(c: Client, a: dict) -> Any:
    if a.get("id") is not None:
        return c.get(f"/v1/tasks/{a['id']}")
    if a.get("ready"):
        return c.get("/v1/tasks/ready", limit=a.get("limit"), after=a.get("after"))
    return c.get("/v1/tasks", mine=a.get("mine"), state=a.get("state"), domain=a.get("domain"),
                 limit=a.get("limit"), after=a.get("after"))


def _task_action(c: Client, a: dict) -> Any:
    return c.post(f"/v1/tasks/{a['id']}/actions", _body(a, "action", "member", "reason", "note", "links",
                                                        "version"))


def _publish_research(c: Client, a: dict) -> Any:
    return c.post("/v1/research", _body(a, "title", "confidence", "question", "body", "sources", "task",
                                        "reviewers", "domains", cross=True))


def _doc_path(name: str) -> str:
    return "/v1/documents/" + quote(name, safe="/")


def _put_document(c: Client, a: dict) -> Any:
    return c.request("PUT", _doc_path(a["name"]), _body(a, "body", "title", "base_version", "message", "domains",
                                                        cross=True))


def _get_document(c: Client, a: dict) -> Any:
    return c.get(_doc_path(a["name"]), version=a.get("version"))


LIMIT = _p("integer", "Max items (default 50)", minimum=1, maximum=200)

TOOLS = [
    ToolSpec("fleet_wake", "What changed for you since your last wake, as a markdown prompt: breaking changes, "
             "messages, tasks and reviews waiting on you, new knowledge and documents. The news is handed "
             "over once (use peek to look without consuming it).",
             {"peek": _p("boolean", "Do not mark the news as seen"),
              "max_chars": _p("integer", "Prompt budget (default 8000)", minimum=200)}, (), _wake),
    ToolSpec("fleet_publish_knowledge", "Publish a knowledge entry to the fleet feed (a tip, a gotcha, a breaking "
             "change or a fix) for the agents working in its domains.",
             {"kind": _p("string", enum=KINDS), "title": _p("string"), "body": BODY, "domains": DOMAINS,
              "supersedes": _p("integer", "Id of the entry this one replaces"),
              "expires_in": _p("string", "e.g. 7d, 12h"), "pinned": _p("boolean", "Show in every wake prompt"),
              "cross_fleet": CROSS}, ("kind", "title"), _publish_knowledge),
    ToolSpec("fleet_search_knowledge", "Full-text search of the knowledge feed; without query, list the current "
             "feed for your domains (pinned first).",
             {"query": _p("string"), "kind": _p("string", enum=KINDS), "domain": _p("string", "Only this domain"),
              "all": _p("boolean", "Include superseded, expired, retired"), "limit": LIMIT,
              "after": AFTER}, (), _search_knowledge),
    ToolSpec("fleet_send_message", "Send a message (store-and-forward) to members: all or none are sent. "
             "Cross-fleet recipients need a shared domain.",
             {"to": _p("array", "'name' in your fleet or 'fleet/name'", minItems=1), "subject": _p("string"),
              "body": BODY, "domains": DOMAINS, "reply_to": _p("integer", "Id of the message answered")},
             ("to", "subject"), _send_message),
    ToolSpec("fleet_inbox", "List your messages, unread first; with id, read one message (marks it read).",
             {"id": _p("integer", "Message to read", minimum=1), "unread": _p("boolean", "Only unread"),
              "limit": LIMIT, "after": AFTER}, (), _inbox),
    ToolSpec("fleet_create_task", "Create a task. review defaults to required for high/urgent priority.",
             {"title": _p("string"), "body": BODY, "domains": DOMAINS,
              "priority": _p("string", enum=["low", "normal", "high", "urgent"]),
              "review": _p("string", enum=["required", "none"]),
              "assign": _p("string", "Member to assign ('name' or 'fleet/name')"),
              "route": _p("boolean", "Assign to the best-matching member"),
              "depends_on": _p("array", "Task ids that must be done first", items={"type": "integer"}),
              "cross_fleet": CROSS}, ("title",), _create_task),
    ToolSpec("fleet_list_tasks", "List tasks you can see; ready=true lists open or assigned-to-you tasks whose "
             "dependencies are done; with id, show one task with its history.",
             {"id": _p("integer", "Show this one task with its history", minimum=1),
              "mine": _p("boolean", "Only tasks you created or are assigned"),
              "state": _p("string", enum=STATES), "domain": _p("string"), "ready": _p("boolean"), "limit": LIMIT,
              "after": AFTER}, (), _list_tasks),
    ToolSpec("fleet_task_action", "Move a task: assign (member), claim, route, accept, reject (reason), start, "
             "submit (note, links), approve (humans only), request-changes (reason), cancel (reason).",
             {"id": _p("integer", "Task id", minimum=1), "action": _p("string", enum=ACTIONS),
              "member": _p("string", "For assign"),
              "reason": _p("string"), "note": _p("string"),
              "links": _p("array", "On submit: research:ID or doc:NAME"),
              "version": _p("integer", "Expected task version (refused if it moved)")},
             ("id", "action"), _task_action),
    ToolSpec("fleet_publish_research", "Publish research findings; with reviewers it goes to review.",
             {"title": _p("string"), "confidence": _p("number", minimum=0, maximum=1), "question": _p("string"),
              "body": BODY, "sources": _p("array", "URLs or references"), "task": _p("integer", "Linked task id"),
              "reviewers": _p("array", "Members asked to review"), "domains": DOMAINS, "cross_fleet": CROSS},
             ("title", "confidence"), _publish_research),
    ToolSpec("fleet_put_document", "Write a new version of a shared document (created if new).",
             {"name": _p("string", "Slug, e.g. payments-spec"), "body": BODY, "title": _p("string"),
              "base_version": _p("integer", "Version you edited (0 = new); refused if someone wrote after it"),
              "message": _p("string", "Change summary"), "domains": DOMAINS, "cross_fleet": CROSS},
             ("name", "body"), _put_document),
    ToolSpec("fleet_get_document", "Read a document (latest version unless version is given).",
             {"name": _p("string", "'name' or 'fleet/name'"), "version": _p("integer", minimum=1)},
             ("name",), _get_document),
]
BY_NAME = {spec.name: spec for spec in TOOLS}

_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list}


def check_arguments(spec: ToolSpec, args: dict) -> None:
    """Refuse unknown, missing or mistyped arguments with a FleetError that names them."""
    unknown = sorted(set(args) - set(spec.properties))
    if unknown:
        raise FleetError(f"unknown argument {unknown[0]!r}; {spec.name} takes: {', '.join(spec.properties)}")
    for name in spec.required:
        if args.get(name) is None:
            raise FleetError(f"missing required argument {name!r}")
    for name, value in args.items():
        prop = spec.properties[name]
        if value is None:
            continue
        if not isinstance(value, _JSON_TYPES[prop["type"]]) or \
                (prop["type"] != "boolean" and isinstance(value, bool)):
            raise FleetError(f"argument {name!r} must be of type {prop['type']}")
        if "enum" in prop and value not in prop["enum"]:
            raise FleetError(f"argument {name!r} must be one of: {', '.join(prop['enum'])}")


def call(client: Client, name: str, args: dict) -> types.CallToolResult:
    """Run one tool; every failure, including an unreachable server, is a tool error, never a crash."""
    spec = BY_NAME.get(name)
    try:
        if spec is None:
            raise FleetError(f"unknown tool {name!r}")
        check_arguments(spec, args)
        data = spec.run(client, args)
    except FleetError as err:
        return _error(err.detail)
    except Exception as exc:  # the last boundary: the agent sees one line, the server keeps running
        return _error(f"unexpected {type(exc).__name__}: {exc}")
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return types.CallToolResult(content=[types.TextContent(text=text)])


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def build_server(client: Client) -> Server:
    """The MCP server whose tools call `client`; HTTP calls run in a worker thread, one at a time."""
    lock = anyio.Lock()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[spec.tool() for spec in TOOLS])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        async with lock:  # one keep-alive connection, used by one call at a time
            return await anyio.to_thread.run_sync(call, client, params.name, params.arguments or {})

    return Server("fleet", version=__version__, instructions=INSTRUCTIONS, on_list_tools=list_tools,
                  on_call_tool=call_tool)


def serve(url: str, token: str | None) -> None:
    """Serve MCP on stdin/stdout until the client closes the connection."""
    client = Client(url, token)
    server = build_server(client)
    if sys.stdin.isatty():
        print(f"fleetctl mcp: stdio MCP server for {url} (speak JSON-RPC on stdin; Ctrl-C to stop)",
              file=sys.stderr)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    try:
        anyio.run(main)
    finally:
        client.close()
