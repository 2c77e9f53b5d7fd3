"""Write fleetctl/mcp/tool_schemas.json: the MCP tools' input schemas, generated from the request models.

`fleetctl mcp` reads the JSON file and never imports pydantic (its start-up is measured); a test fails
when the file is stale. Run `python -m fleetctl.mcp.gen` after changing a request model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from fleetctl.mcp.runs import READERS
from fleetctl.schemas import common, documents, knowledge, messages, research, tasks, wake
from fleetctl.schemas.common import Page

PATH = Path(__file__).with_name("tool_schemas.json")
DOMAINS = "e.g. infra"
CROSS = {"type": "boolean", "description": "Visible to other fleets sharing a domain"}
ID = {"type": "integer", "minimum": 1}
PAGE = {"limit": (Page, "limit", None), "after": (Page, "after", "A page's `next`")}


def field(model: type[BaseModel], name: str, description: str | None = "") -> dict:
    """The compact schema of one field: no titles or defaults, no NUL-byte pattern, never null."""
    schema = model.model_json_schema()
    prop = dict(schema["properties"][name])
    if "anyOf" in prop:  # `X | None`: a tool argument is left out rather than null
        inner = next(s for s in prop.pop("anyOf") if s.get("type") != "null")
        prop = {**inner, **prop}
    prop = _compact(prop)
    prop.pop("description", None)
    if description:
        prop["description"] = description
    return prop


def either(model: type[BaseModel], name: str, description: str | None = "") -> dict:
    """A list filter a model may also give as one value (`"tip"` for `["tip"]`): the query takes both."""
    return {**field(model, name, description), "type": ["string", "array"]}


def _compact(schema: Any) -> Any:
    """Keep what helps a model write the call (types, enums, numeric bounds); lengths and patterns are the
    server's to check: its 422 comes back as a one-line tool error naming the field."""
    if isinstance(schema, list):
        return [_compact(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    drop = {"title", "default", "pattern", "maxLength", "maxItems", "not"}
    if schema.get("maximum", 0) >= common.PAGE_LIMIT_MAX:
        drop.add("maximum")
    if schema.get("minimum") == 0:
        drop.add("minimum")
    return {k: _compact(v) for k, v in schema.items() if k not in drop}


def _tool(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict:
    props = {name: field(*spec) if isinstance(spec, tuple) else spec for name, spec in properties.items()}
    out: dict[str, Any] = {"properties": props}
    if required:
        out["required"] = list(required)
    return out


def schemas() -> dict[str, dict]:
    """Every tool's input schema (properties and required), by tool name."""
    k, m, t, r, d = (knowledge.PublishKnowledge, messages.SendMessage, tasks.CreateTask, research.PublishResearch,
                     documents.PutDocument)
    domain_filter = either(knowledge.FeedQuery, "domain")
    return {
        "fleet_wake": _tool({"peek": {"type": "boolean", "description": "Do not consume (see fleet_wake_ack)"},
                             "max_chars": (wake.Advance, "max_chars", "Prompt budget (default 8000)")}),
        "fleet_wake_ack": _tool({"cursor": (wake.Ack, "cursor", "As fleet_wake gave it")}, ("cursor",)),
        "fleet_whoami": _tool({}),
        "fleet_read": _tool({"type": {"type": "string", "enum": list(READERS)}, "id": ID,
                             "name": {"type": "string", "description": "Document name"},
                             "version": (documents.VersionQuery, "version", None),
                             "from": (documents.DiffQuery, "from", None), "to": (documents.DiffQuery, "to", None)},
                            ("type",)),
        "fleet_publish_knowledge": _tool({
            "kind": (k, "kind", None), "title": (k, "title", None), "body": (k, "body", None),
            "domains": (k, "domains", DOMAINS), "supersedes": (k, "supersedes", "Id it replaces"),
            "expires_in": (k, "expires_in", "e.g. 7d"), "pinned": (k, "pinned", "In every wake"),
            "cross_fleet": CROSS}, ("kind", "title")),
        "fleet_search_knowledge": _tool({
            "query": (knowledge.SearchQuery, "q", None), "kind": either(knowledge.FeedQuery, "kind"),
            "domain": domain_filter, "all": (knowledge.FeedQuery, "all", "Include superseded, expired, retired"),
            **PAGE}),
        "fleet_send_message": _tool({
            "to": (m, "recipients", "'name' or 'fleet/name'"), "subject": (m, "subject", None),
            "body": (m, "body", None), "domains": (m, "domains", DOMAINS), "reply_to": (m, "reply_to", "Message id")},
            ("to", "subject")),
        "fleet_inbox": _tool({"unread": (messages.InboxQuery, "unread", "Only unread"), **PAGE}),
        "fleet_create_task": _tool({
            "title": (t, "title", None), "body": (t, "body", None), "domains": (t, "domains", DOMAINS),
            "priority": (t, "priority", None), "review": (t, "review", None),
            "assign": (t, "assign", "Member ('name' or 'fleet/name')"),
            "route": (t, "route", "Assign to the best match"),
            "depends_on": (t, "depends_on", "Task ids to finish first"), "cross_fleet": CROSS}, ("title",)),
        "fleet_list_tasks": _tool({
            "mine": (tasks.TaskQuery, "mine", "Only tasks you created or are assigned"),
            "state": either(tasks.TaskQuery, "state"), "domain": domain_filter,
            "ready": {"type": "boolean"}, **PAGE}),
        "fleet_task_action": _tool({
            "id": ID, "action": (tasks.TaskAction, "action", None), "member": (tasks.TaskAction, "member", None),
            "reason": (tasks.TaskAction, "reason", None), "note": (tasks.TaskAction, "note", None),
            "links": (tasks.TaskAction, "links", "research:ID or doc:NAME"),
            "version": (tasks.TaskAction, "version", "Refused if the task moved past it")}, ("id", "action")),
        "fleet_publish_research": _tool({
            "revises": {**ID, "description": "Research id"}, "title": (r, "title", None),
            "confidence": (r, "confidence", None), "question": (r, "question", None), "body": (r, "body", None),
            "sources": (r, "sources", None), "task": (r, "task", "Task id"), "reviewers": (r, "reviewers", "Members"),
            "domains": (r, "domains", DOMAINS), "cross_fleet": CROSS}),
        "fleet_review_research": _tool({
            "id": ID, "verdict": (research.ReviewResearch, "verdict", None),
            "comment": (research.ReviewResearch, "comment", None)}, ("id", "verdict")),
        "fleet_list_research": _tool({
            "state": either(research.ResearchQuery, "state"),
            "task": (research.ResearchQuery, "task", "Linked to this task"), **PAGE}),
        "fleet_put_document": _tool({
            "name": {**documents.NAME_PARAM, "description": "Slug, e.g. payments-spec"}, "body": (d, "body", None),
            "title": (d, "title", None),
            "base_version": (d, "base_version", "Version you edited (0 = new); refused if it moved"),
            "message": (d, "message", "Change summary"), "domains": (d, "domains", DOMAINS), "cross_fleet": CROSS},
            ("name", "body")),
        "fleet_get_document": _tool({"name": {"type": "string", "description": "'name' or 'fleet/name'"},
                                     "version": (documents.VersionQuery, "version", None)}, ("name",)),
        "fleet_list_documents": _tool({"domain": domain_filter, **PAGE}),
    }


def render() -> str:
    """The JSON file's text."""
    return json.dumps(schemas(), indent=1, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    PATH.write_text(render())
    print(f"wrote {PATH}")
