"""The seven sections of a wake prompt (DESIGN §3), each built from bounded change-stream reads."""

from __future__ import annotations

from fleetctl.models.base import iso, utcnow
from fleetctl.models.core import Change, Fleet
from fleetctl.models.documents import Document
from fleetctl.models.knowledge import Knowledge
from fleetctl.models.messages import Delivery, Message
from fleetctl.models.research import Research, ResearchReview
from fleetctl.models.tasks import Task
from fleetctl.services import knowledge_feed
from fleetctl.services.members import addresses
from fleetctl.services.wake_stream import (
    Section,
    Span,
    broadcast,
    by_id,
    collect,
    hits,
    scan,
    sees,
    targeted,
)

PINNED_LIMIT = 20
OPEN_TASK = ("assigned", "accepted", "in_progress", "in_review")


def _knowledge_items(ids: list[int], events: dict[int, str]) -> dict[int, dict]:
    rows = list(Knowledge.select().where(Knowledge.id.in_(ids)))
    names = addresses(r.author_id for r in rows)
    return {r.id: {"id": r.id, "kind": r.kind, "title": r.title, "state": r.state,
                   "author": names.get(r.author_id), "domains": r.domains, "pinned": r.pinned,
                   "supersedes": r.supersedes, "superseded_by": r.superseded_by,
                   "event": events.get(r.id, "pinned"), "created_at": iso(r.created_at),
                   "command": f"fleetctl knowledge show {r.id}"} for r in rows}


def _knowledge_changes(span: Span) -> tuple[list[tuple], bool]:
    """One scan for sections 1 and 5: published or superseded entries by others the member may see."""
    if "knowledge" not in span.memo:
        member = span.member
        lookup = by_id(Knowledge, Knowledge.kind, Knowledge.state, Knowledge.expires_at, Knowledge.author,
                       Knowledge.fleet, Knowledge.visibility, Knowledge.domains)
        span.memo["knowledge"] = scan(span, lookup, [(
            broadcast("knowledge"), ("published", "superseded"),
            lambda row: row[6] != member.id and sees(member, *row[7:10]))])
    return span.memo["knowledge"]


def _live(state: str, expires_at, now) -> bool:
    return state == "current" and (expires_at is None or expires_at > now)


def breaking(span: Span) -> Section:
    """1. New breaking changes the member can see, in its domains."""
    rows, truncated = _knowledge_changes(span)
    now = utcnow()
    found = hits([r for r in rows if r[3] == "breaking" and r[2] == "published" and _live(r[4], r[5], now)],
                 truncated)
    return found.section("breaking", lambda ids: _knowledge_items(ids, found.events))


def knowledge(span: Span) -> Section:
    """5. New or superseded gotchas, tips and fixes the member can see, in its domains."""
    rows, truncated = _knowledge_changes(span)
    now = utcnow()
    found = hits([r for r in rows if r[3] != "breaking" and (r[4] == "superseded" or _live(r[4], r[5], now))],
                 truncated)
    return found.section("knowledge", lambda ids: _knowledge_items(ids, found.events))


def messages(span: Span) -> Section:
    """2. Messages to the member that no client of it has fetched yet."""
    mine = (Delivery.message == Change.ref_id) & (Delivery.recipient == span.member.id)
    hits = collect(span, by_id(Delivery, Delivery.delivered_at, on=mine),
                   [(targeted(span, "message"), ("received",), lambda row: row[3] is None)])

    def render(ids):
        rows = list(Message.select().where(Message.id.in_(ids)))
        names = addresses(r.sender_id for r in rows)
        return {r.id: {"id": r.id, "subject": r.subject, "sender": names.get(r.sender_id),
                       "domains": r.domains, "thread": r.thread_id, "reply_to": r.reply_to_id,
                       "created_at": iso(r.created_at), "command": f"fleetctl msg read {r.id}"} for r in rows}

    return hits.section("messages", render)


TASK_COMMANDS = {
    "assigned": "fleetctl task accept {id}",
    "changes_requested": "fleetctl task show {id}",
    "in_review": "fleetctl task approve {id}",
    "done": "fleetctl task show {id}",
    "cancelled": "fleetctl task show {id}",
}


def tasks(span: Span) -> Section:
    """3. Tasks waiting on the member: assigned, changes requested, reviews to do, its tasks that finished."""
    member = span.member
    # Rows are (seq, id, event, assignee, state); news that went stale (reassigned, reviewed) is dropped.
    waiting = {"assigned": lambda r: r[3] == member.id and r[4] in OPEN_TASK[:3],
               "changes_requested": lambda r: r[3] == member.id and r[4] == "in_progress",
               "done": None, "cancelled": None}
    parts = [(targeted(span, "task"), tuple(waiting), lambda r: waiting[r[2]] is None or waiting[r[2]](r))]
    if member.is_human:
        parts.append((broadcast("task", member.fleet_id), ("in_review",),
                      lambda r: r[4] == "in_review" and r[3] != member.id))
    hits = collect(span, by_id(Task, Task.assignee, Task.state), parts)

    def render(ids):
        rows = list(Task.select().where(Task.id.in_(ids)))
        names = addresses([r.creator_id for r in rows] + [r.assignee_id for r in rows])
        return {r.id: {"id": r.id, "title": r.title, "state": r.state, "priority": r.priority,
                       "event": hits.events[r.id], "creator": names.get(r.creator_id),
                       "assignee": names.get(r.assignee_id), "domains": r.domains,
                       "command": TASK_COMMANDS[hits.events[r.id]].format(id=r.id)} for r in rows}

    return hits.section("tasks", render)


def research(span: Span) -> Section:
    """4. Research waiting for the member's review, and reviews of its own research."""
    hits = collect(span, by_id(Research, Research.state),
                   [(targeted(span, "research"), ("review_requested", "reviewed"),
                     lambda r: r[2] == "reviewed" or r[3] == "in_review")])

    def render(ids):
        rows = list(Research.select().where(Research.id.in_(ids)))
        names = addresses(r.author_id for r in rows)
        verdicts = {}
        for review in ResearchReview.select().where(ResearchReview.research.in_(ids)).order_by(ResearchReview.id):
            verdicts[review.research_id] = review.verdict
        out = {}
        for r in rows:
            event = hits.events[r.id]
            command = (f"fleetctl research review {r.id} --approve|--request-changes|--reject"
                       if event == "review_requested" else f"fleetctl research show {r.id}")
            out[r.id] = {"id": r.id, "title": r.title, "state": r.state, "author": names.get(r.author_id),
                         "confidence": r.confidence, "event": event, "verdict": verdicts.get(r.id),
                         "command": command}
        return out

    return hits.section("research", render)


def documents(span: Span) -> Section:
    """6. Documents the member can see, in its domains, with versions written by others."""
    member = span.member
    lookup = by_id(Document, Document.updated_by, Document.fleet, Document.visibility, Document.domains)
    hits = collect(span, lookup, [(broadcast("document"), ("version",),
                                   lambda r: r[3] != member.id and sees(member, *r[4:7]))])

    def render(ids):
        rows = list(Document.select(Document, Fleet).join(Fleet).where(Document.id.in_(ids)))
        names = addresses(r.updated_by_id for r in rows)
        out = {}
        for r in rows:
            address = r.name if r.fleet_id == member.fleet_id else f"{r.fleet.name}/{r.name}"
            since = max(r.version - hits.counts[r.id], 0)
            command = (f"fleetctl doc diff {address} {since} {r.version}" if since
                       else f"fleetctl doc get {address}")
            out[r.id] = {"id": r.id, "name": r.name, "address": f"{r.fleet.name}/{r.name}", "title": r.title,
                         "version": r.version, "new_versions": hits.counts[r.id],
                         "author": names.get(r.updated_by_id), "updated_at": iso(r.updated_at),
                         "command": command}
        return out

    return hits.section("documents", render)


def pinned(span: Span) -> Section:
    """7. Pinned knowledge the member can see, in its domains (every wake, whatever the cursor)."""
    entries = knowledge_feed.pinned(span.member, PINNED_LIMIT + 1)
    keys = ("id", "kind", "title", "state", "author", "domains", "pinned", "supersedes", "superseded_by")
    shown = [{**{k: e[k] for k in keys}, "event": "pinned", "created_at": e["created_at"],
              "command": f"fleetctl knowledge show {e['id']}"} for e in entries[:PINNED_LIMIT]]
    return Section("pinned", shown, len(entries), len(entries) > PINNED_LIMIT)


SECTIONS = (breaking, messages, tasks, research, knowledge, documents, pinned)


def assemble(span: Span) -> list[Section]:
    """Every section, in DESIGN §3 order."""
    return [build(span) for build in SECTIONS]

