"""What each MCP tool does: one function per tool, mapping its arguments onto the typed client.

Every function takes a client (`fleetctl.client.Client`, or the in-process client of the `/mcp`
endpoint) and the checked arguments, and returns JSON data or a text. Lists come back lean: a
preview of each body and no per-item history, so a page never floods a model's context.
"""

from __future__ import annotations

import json
from typing import Any

from fleetctl.errors import FleetError

PREVIEW_CHARS = 280


def _args(args: dict, *keys: str, cross: bool = False) -> dict:
    """The named arguments as keyword arguments of a client method (absent ones as None), plus `visibility`
    from `cross_fleet`."""
    out = {k: args.get(k) for k in keys}
    if cross and args.get("cross_fleet") is not None:
        out["visibility"] = "cross-fleet" if args["cross_fleet"] else "fleet"
    return out


def _page(args: dict) -> dict:
    return {"limit": args.get("limit"), "after": args.get("after")}


def lean(page: dict) -> dict:
    """A list page with previews instead of bodies, no task history and reviews without comments."""
    for item in page.get("items") or []:
        if not isinstance(item, dict):
            continue
        body = item.pop("body", None)
        if isinstance(body, str):
            item.setdefault("preview", body[:PREVIEW_CHARS])
            item.setdefault("body_chars", len(body))
        item.pop("history", None)
        if isinstance(item.get("reviews"), list):
            item["reviews"] = [{k: r.get(k) for k in ("reviewer", "verdict", "revision")} for r in item["reviews"]]
    return page


def wake(c: Any, a: dict) -> str:
    # commands=mcp: the prompt names tool calls (fleet_read {...}) instead of shell commands.
    data = c.wake.peek(max_chars=a.get("max_chars"), commands="mcp")
    if a.get("peek"):  # with the cursor as the JSON argument of fleet_wake_ack
        return f"{data['prompt']}\n\n(cursor: {json.dumps(data['cursor'])})"
    # Ack exactly the cursor this prompt was built from: the news is handed over once.
    c.wake.ack(data["cursor"])
    return data["prompt"]


def wake_ack(c: Any, a: dict) -> Any:
    return c.wake.ack(a["cursor"])


def whoami(c: Any, a: dict) -> Any:
    return c.system.whoami()


def search_knowledge(c: Any, a: dict) -> Any:
    filters = {**_args(a, "kind", "domain"), "all": bool(a.get("all")), **_page(a)}
    if a.get("query"):
        return lean(c.knowledge.search(a["query"], **filters))
    return lean(c.knowledge.list(**filters))


def publish_knowledge(c: Any, a: dict) -> Any:
    return c.knowledge.publish(**_args(a, "kind", "title", "body", "domains", "supersedes", "expires_in", "pinned",
                                       cross=True))


def send_message(c: Any, a: dict) -> Any:
    return c.messages.send(a["to"], **_args(a, "subject", "body", "domains", "reply_to"))


def inbox(c: Any, a: dict) -> Any:
    return lean(c.messages.inbox(unread=bool(a.get("unread")), **_page(a)))


def create_task(c: Any, a: dict) -> Any:
    return c.tasks.create(**_args(a, "title", "body", "domains", "priority", "review", "assign", "route",
                                  "depends_on", cross=True))


def list_tasks(c: Any, a: dict) -> Any:
    if a.get("ready"):
        return lean(c.tasks.ready(**_page(a)))
    return lean(c.tasks.list(mine=bool(a.get("mine")), **_args(a, "state", "domain"), **_page(a)))


def task_action(c: Any, a: dict) -> Any:
    return c.tasks.act(a["id"], **_args(a, "action", "member", "reason", "note", "links", "version"))


RESEARCH_FIELDS = ("title", "confidence", "question", "body", "sources", "reviewers", "domains")


def publish_research(c: Any, a: dict) -> Any:
    if a.get("revises") is not None:
        if a.get("task") is not None:
            raise FleetError("argument 'task' cannot change in a revision; leave it out with 'revises'")
        return c.research.revise(a["revises"], **_args(a, *RESEARCH_FIELDS, cross=True))
    for name in ("title", "confidence"):
        if a.get(name) is None:
            raise FleetError(f"missing required argument {name!r} (required unless 'revises' is given)")
    return c.research.publish(**_args(a, *RESEARCH_FIELDS, "task", cross=True))


def review_research(c: Any, a: dict) -> Any:
    return c.research.review(a["id"], **_args(a, "verdict", "comment"))


def list_research(c: Any, a: dict) -> Any:
    return lean(c.research.list(**_args(a, "state", "task"), **_page(a)))


def put_document(c: Any, a: dict) -> Any:
    return c.documents.put(**_args(a, "name", "body", "title", "base_version", "message", "domains", cross=True))


def get_document(c: Any, a: dict) -> Any:
    return c.documents.get(a["name"], version=a.get("version"))


def list_documents(c: Any, a: dict) -> Any:
    return lean(c.documents.list(domain=a.get("domain"), **_page(a)))


def _needs(a: dict, *names: str) -> None:
    for name in names:
        if a.get(name) is None:
            raise FleetError(f"fleet_read type {a['type']!r} needs argument {name!r}")


def _read_knowledge(c: Any, a: dict) -> Any:
    entry = c.knowledge.show(a["id"])
    chain = c.knowledge.chain(a["id"])["items"]
    entry["chain"] = [{k: e.get(k) for k in ("id", "title", "state", "created_at")} for e in chain]
    return entry


READERS: dict[str, tuple[tuple[str, ...], Any]] = {
    "knowledge": (("id",), _read_knowledge),
    "task": (("id",), lambda c, a: c.tasks.show(a["id"])),
    "research": (("id",), lambda c, a: c.research.show(a["id"])),
    "message": (("id",), lambda c, a: c.messages.read(a["id"])),
    "thread": (("id",), lambda c, a: c.messages.thread(a["id"], **_page(a))),
    "document": (("name",), get_document),
    "diff": (("name", "from", "to"), lambda c, a: c.documents.diff(a["name"], a["from"], a["to"])),
}


def read(c: Any, a: dict) -> Any:
    needs, reader = READERS[a["type"]]
    _needs(a, *needs)
    return reader(c, a)
