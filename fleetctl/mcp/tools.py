"""The MCP tools: their definitions (`tools/list`), argument checks and the call boundary.

One list serves both transports (stdio `fleetctl mcp` and HTTP `/mcp`). The schemas are written by
hand and stay compact: the whole `tools/list` answer is paid for at every agent start (a test keeps it
under 10,000 characters). The enums repeat the server's (a test compares them) so that this module
imports neither the models nor the database driver.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleetctl.errors import FleetError
from fleetctl.mcp import runs

KINDS = ["tip", "gotcha", "breaking", "fix"]
STATES = ["open", "assigned", "accepted", "in_progress", "in_review", "done", "cancelled"]
ACTIONS = ["assign", "claim", "route", "accept", "reject", "start", "submit", "approve", "request-changes",
           "cancel"]
RESEARCH_STATES = ["draft", "in_review", "approved", "changes_requested", "rejected"]
VERDICTS = ["approve", "request-changes", "reject"]
READ_TYPES = list(runs.READERS)


def _p(type_: str | list[str], description: str = "", **extra: Any) -> dict:
    """One property of an input schema."""
    out: dict[str, Any] = {"type": type_}
    if description:
        out["description"] = description
    if type_ == "array":
        out["items"] = extra.pop("items", {"type": "string"})
    out.update(extra)
    return out


def _any(description: str = "", enum: list[str] | None = None) -> dict:
    """A filter that takes one value or several (matching any of them)."""
    items: dict[str, Any] = {"type": "string"}
    if enum:
        items["enum"] = enum
    return _p(["string", "array"], description, items=items)


DOMAINS = _p("array", "e.g. infra")
CROSS = _p("boolean", "Visible to other fleets sharing a domain")
BODY = _p("string")
ID = _p("integer")
LIMIT = _p("integer", maximum=200)
AFTER = _p("integer", "A page's `next`")
PAGE = {"limit": LIMIT, "after": AFTER}

READ_ONLY = {"readOnlyHint": True}
ADDS = {"destructiveHint": False}  # writes that only add (defaults assume destructive)
IDEMPOTENT = {"destructiveHint": False, "idempotentHint": True}
DESTRUCTIVE = {"destructiveHint": True}


@dataclass(frozen=True)
class ToolSpec:
    """A tool: its MCP definition and the function that runs it against the fleet server."""

    name: str
    description: str
    properties: dict
    required: tuple[str, ...]
    run: Callable[[Any, dict], Any]
    hints: dict

    def definition(self) -> dict:
        """The tool as `tools/list` lists it."""
        schema: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            schema["required"] = list(self.required)
        # No "additionalProperties": false (5% of the list): an unknown argument is a tool error naming
        # the accepted ones.
        return {"name": self.name, "description": self.description, "inputSchema": schema,
                "annotations": self.hints}


TOOLS = [
    ToolSpec("fleet_wake", "Your news since the last wake (messages, tasks, reviews, knowledge, documents) "
             "and the tool calls to make; handed over once.",
             {"peek": _p("boolean", "Do not consume (see fleet_wake_ack)"),
              "max_chars": _p("integer", "Prompt budget (default 8000)", minimum=200)}, (), runs.wake, ADDS),
    ToolSpec("fleet_wake_ack", "Mark a peeked wake as seen, up to its cursor.",
             {"cursor": _p(["integer", "string"], "As fleet_wake gave it")}, ("cursor",),
             runs.wake_ack, IDEMPOTENT),
    ToolSpec("fleet_whoami", "Your member (name, role, domains) and fleet.", {}, (), runs.whoami, READ_ONLY),
    ToolSpec("fleet_read", "Read one item in full: knowledge (id; with supersede chain), task (id; with "
             "history), research (id; with reviews), message (id; marks it read), thread (id of a message), "
             "document (name, version?), diff (name, from, to).",
             {"type": _p("string", enum=READ_TYPES), "id": ID, "name": _p("string", "Document name"), "version": ID,
              "from": ID, "to": ID}, ("type",), runs.read, IDEMPOTENT),
    ToolSpec("fleet_publish_knowledge", "Publish knowledge (a tip, gotcha, breaking change or fix) for its domains.",
             {"kind": _p("string", enum=KINDS), "title": _p("string"), "body": BODY, "domains": DOMAINS,
              "supersedes": _p("integer", "Id it replaces"),
              "expires_in": _p("string", "e.g. 7d"), "pinned": _p("boolean", "In every wake"),
              "cross_fleet": CROSS}, ("kind", "title"), runs.publish_knowledge, ADDS),
    ToolSpec("fleet_search_knowledge", "Search knowledge; without query, your domains' current feed, pinned first.",
             {"query": _p("string"), "kind": _any(enum=KINDS), "domain": _any(),
              "all": _p("boolean", "Include superseded, expired, retired"), **PAGE},
             (), runs.search_knowledge, READ_ONLY),
    ToolSpec("fleet_send_message", "Send a message to members (all or none). Cross-fleet recipients need a "
             "shared domain.",
             {"to": _p("array", "'name' or 'fleet/name'", minItems=1), "subject": _p("string"),
              "body": BODY, "domains": DOMAINS, "reply_to": _p("integer", "Message id")},
             ("to", "subject"), runs.send_message, ADDS),
    ToolSpec("fleet_inbox", "Your messages, unread first, with previews (marks them delivered).",
             {"unread": _p("boolean", "Only unread"), **PAGE}, (), runs.inbox, IDEMPOTENT),
    ToolSpec("fleet_create_task", "Create a task (review: required by default for high/urgent).",
             {"title": _p("string"), "body": BODY, "domains": DOMAINS,
              "priority": _p("string", enum=["low", "normal", "high", "urgent"]),
              "review": _p("string", enum=["required", "none"]),
              "assign": _p("string", "Member ('name' or 'fleet/name')"),
              "route": _p("boolean", "Assign to the best match"),
              "depends_on": _p("array", "Task ids to finish first", items={"type": "integer"}),
              "cross_fleet": CROSS}, ("title",), runs.create_task, ADDS),
    ToolSpec("fleet_list_tasks", "Tasks you can see, with previews; ready: those you could start now.",
             {"mine": _p("boolean", "Only tasks you created or are assigned"), "state": _any(enum=STATES),
              "domain": _any(), "ready": _p("boolean"), **PAGE}, (), runs.list_tasks, READ_ONLY),
    ToolSpec("fleet_task_action", "Move a task. assign needs member; reject, request-changes, cancel need reason; "
             "submit takes note, links; approve is for humans.",
             {"id": ID, "action": _p("string", enum=ACTIONS), "member": _p("string"),
              "reason": _p("string"), "note": _p("string"),
              "links": _p("array", "research:ID or doc:NAME"),
              "version": _p("integer", "Refused if the task moved past it")},
             ("id", "action"), runs.task_action, DESTRUCTIVE),
    ToolSpec("fleet_publish_research", "Publish research (in review if it has reviewers); with revises, a new "
             "revision of yours.",
             {"revises": _p("integer", "Research id"), "title": _p("string"),
              "confidence": _p("number", minimum=0, maximum=1), "question": _p("string"), "body": BODY,
              "sources": _p("array"), "task": _p("integer", "Task id"),
              "reviewers": _p("array", "Members"), "domains": DOMAINS, "cross_fleet": CROSS},
             (), runs.publish_research, ADDS),
    ToolSpec("fleet_review_research", "Review research in review (approve: humans only).",
             {"id": ID, "verdict": _p("string", enum=VERDICTS), "comment": _p("string")},
             ("id", "verdict"), runs.review_research, DESTRUCTIVE),
    ToolSpec("fleet_list_research", "Research you can see, with previews.",
             {"state": _any(enum=RESEARCH_STATES), "task": _p("integer", "Linked to this task"), **PAGE},
             (), runs.list_research, READ_ONLY),
    ToolSpec("fleet_put_document", "Write a new version of a document (created if new).",
             {"name": _p("string", "Slug, e.g. payments-spec"), "body": BODY, "title": _p("string"),
              "base_version": _p("integer", "Version you edited (0 = new); refused if it moved"),
              "message": _p("string", "Change summary"), "domains": DOMAINS, "cross_fleet": CROSS},
             ("name", "body"), runs.put_document, ADDS),
    ToolSpec("fleet_get_document", "Read a document (latest unless version).",
             {"name": _p("string", "'name' or 'fleet/name'"), "version": ID}, ("name",), runs.get_document,
             READ_ONLY),
    ToolSpec("fleet_list_documents", "Documents you can see.", {"domain": _any(), **PAGE}, (),
             runs.list_documents, READ_ONLY),
]
BY_NAME = {spec.name: spec for spec in TOOLS}
DEFINITIONS = [spec.definition() for spec in TOOLS]

_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list}


def _is(type_: str, value: Any) -> bool:
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
