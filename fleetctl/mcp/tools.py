"""The MCP tools: their definitions (`tools/list`), argument checks and the call boundary.

One list serves both transports (stdio `fleetctl mcp` and HTTP `/mcp`). The input schemas come from the
request models (`python -m fleetctl.mcp.gen` writes tool_schemas.json; a test fails when it is stale), so
this module imports neither pydantic nor the database driver. They stay compact: the whole `tools/list`
answer is paid for at every agent start (a test keeps it under 10,000 characters).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetctl.errors import FleetError
from fleetctl.mcp import runs

SCHEMAS: dict[str, dict] = json.loads(Path(__file__).with_name("tool_schemas.json").read_text())
READ_ONLY = {"readOnlyHint": True}
ADDS = {"destructiveHint": False}  # writes that only add (defaults assume destructive)
IDEMPOTENT = {"destructiveHint": False, "idempotentHint": True}
DESTRUCTIVE = {"destructiveHint": True}


@dataclass(frozen=True)
class ToolSpec:
    """A tool: its MCP definition and the function that runs it against the fleet server."""

    name: str
    description: str
    run: Callable[[Any, dict], Any]
    hints: dict

    @property
    def properties(self) -> dict:
        return SCHEMAS[self.name]["properties"]

    @property
    def required(self) -> list[str]:
        return SCHEMAS[self.name].get("required", [])

    def definition(self) -> dict:
        """The tool as `tools/list` lists it."""
        # No "additionalProperties": false (5% of the list): an unknown argument is a tool error naming
        # the accepted ones.
        return {"name": self.name, "description": self.description,
                "inputSchema": {"type": "object", **SCHEMAS[self.name]}, "annotations": self.hints}


TOOLS = [
    ToolSpec("fleet_wake", "Your news since the last wake (messages, tasks, reviews, knowledge, documents) "
             "and the tool calls to make; handed over once.", runs.wake, ADDS),
    ToolSpec("fleet_wake_ack", "Mark a peeked wake as seen, up to its cursor.", runs.wake_ack, IDEMPOTENT),
    ToolSpec("fleet_whoami", "Your member (name, role, domains) and fleet.", runs.whoami, READ_ONLY),
    ToolSpec("fleet_read", "Read one item in full: knowledge (id; with supersede chain), task (id; with "
             "history), research (id; with reviews), message (id; marks it read), thread (id of a message), "
             "document (name, version?), diff (name, from, to).", runs.read, IDEMPOTENT),
    ToolSpec("fleet_publish_knowledge", "Publish knowledge (a tip, gotcha, breaking change or fix) for its domains.",
             runs.publish_knowledge, ADDS),
    ToolSpec("fleet_search_knowledge", "Search knowledge; without query, your domains' current feed, pinned first.",
             runs.search_knowledge, READ_ONLY),
    ToolSpec("fleet_send_message", "Send a message to members (all or none). Cross-fleet recipients need a "
             "shared domain.", runs.send_message, ADDS),
    ToolSpec("fleet_inbox", "Your messages, unread first, with previews (marks them delivered).", runs.inbox,
             IDEMPOTENT),
    ToolSpec("fleet_create_task", "Create a task (review: required by default for high/urgent).", runs.create_task,
             ADDS),
    ToolSpec("fleet_list_tasks", "Tasks you can see, with previews; ready: those you could start now.",
             runs.list_tasks, READ_ONLY),
    ToolSpec("fleet_task_action", "Move a task. assign needs member; reject, request-changes, cancel need reason; "
             "submit takes note, links; approve is for humans.", runs.task_action, DESTRUCTIVE),
    ToolSpec("fleet_publish_research", "Publish research (in review if it has reviewers); with revises, a new "
             "revision of yours.", runs.publish_research, ADDS),
    ToolSpec("fleet_review_research", "Review research in review (approve: humans only).", runs.review_research,
             DESTRUCTIVE),
    ToolSpec("fleet_list_research", "Research you can see, with previews.", runs.list_research, READ_ONLY),
    ToolSpec("fleet_put_document", "Write a new version of a document (created if new).", runs.put_document, ADDS),
    ToolSpec("fleet_get_document", "Read a document (latest unless version).", runs.get_document, READ_ONLY),
    ToolSpec("fleet_list_documents", "Documents you can see.", runs.list_documents, READ_ONLY),
]
BY_NAME = {spec.name: spec for spec in TOOLS}
DEFINITIONS = [spec.definition() for spec in TOOLS]

_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list}


def _is(type_: str, value: Any) -> bool:
    if type_ == "integer" and type(value) is float:
        return value.is_integer()  # JSON Schema's integers include 817.0, as the server's do
    return isinstance(value, _JSON_TYPES[type_]) and (type_ == "boolean" or not isinstance(value, bool))


def _check(name: str, prop: dict, value: Any) -> None:
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    if not any(_is(t, value) for t in types):
        raise FleetError(f"argument {name!r} must be of type {' or '.join(types)}")
    if isinstance(value, list):
        item = prop["items"]
        if not all(_is(item["type"], v) for v in value):
            raise FleetError(f"items of {name!r} must be of type {item['type']}")
        enum = item.get("enum")
        values = value
    else:
        enum = prop.get("enum") or prop.get("items", {}).get("enum")
        values = [value]
    if enum and any(v not in enum for v in values):
        raise FleetError(f"argument {name!r} must be one of: {', '.join(enum)}")


def check_arguments(spec: ToolSpec, args: Any) -> None:
    """Refuse unknown, missing or mistyped arguments with a FleetError that names them."""
    if not isinstance(args, dict):
        raise FleetError("arguments must be a JSON object")
    unknown = sorted(set(args) - set(spec.properties))
    if unknown:
        raise FleetError(f"unknown argument {unknown[0]!r}; {spec.name} takes: {', '.join(spec.properties)}")
    for name in spec.required:
        if args.get(name) is None:
            raise FleetError(f"missing required argument {name!r}")
    for name, value in args.items():
        if value is not None:
            _check(name, spec.properties[name], value)


def call(client: Any, name: Any, args: Any, *, wake_peek_only: bool = False) -> dict:
    """Run one tool and return its `tools/call` result; every failure, including an unreachable server,
    is a tool error with one line, never a protocol error or a crash. `wake_peek_only` (a daemon's
    command, which acks the wake itself) turns fleet_wake into a peek."""
    spec = BY_NAME.get(name) if isinstance(name, str) else None
    try:
        if spec is None:
            raise FleetError(f"unknown tool {name!r}; see tools/list")
        check_arguments(spec, args)
        if wake_peek_only and name == "fleet_wake":
            args = {**args, "peek": True}
        data = spec.run(client, args)
    except FleetError as err:
        return result(err.detail, error=True)
    except Exception as exc:  # the last boundary: the agent sees one line, the server keeps running
        return result(f"unexpected {type(exc).__name__}: {exc}", error=True)
    return result(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False))


def result(text: str, error: bool = False) -> dict:
    """A `tools/call` result holding one text."""
    out: dict[str, Any] = {"content": [{"type": "text", "text": text}]}
    if error:
        out["isError"] = True
    return out
