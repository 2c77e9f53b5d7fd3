"""The news sections of a wake (DESIGN §3): which runs of a member's streams are still news, and
what each item says and suggests. Every item is checked against the current truth: superseded,
expired or retired entries, reassigned tasks and finished reviews are dropped, and the actions
suggested are the ones the item's current state allows for this member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import JOIN

from fleetctl.models.base import iso
from fleetctl.models.core import Fleet, Member
from fleetctl.models.documents import Document
from fleetctl.models.knowledge import Knowledge
from fleetctl.models.messages import Delivery, Message
from fleetctl.models.research import Research, ResearchReview
from fleetctl.models.tasks import Task, TaskDependency
from fleetctl.services import knowledge as knowledge_service
from fleetctl.services import wake_actions as act
from fleetctl.services import wake_lines as lines
from fleetctl.services.members import addresses
from fleetctl.services.visibility import can_see
from fleetctl.services.wake_read import Classify, Item, Run

STILL_ASSIGNED = ("assigned", "accepted", "in_progress", "in_review")


def in_domains(member: Member, domains: list[str]) -> bool:
    """The item is in the member's domains (a member without domains, or an untagged item: yes)."""
    return not member.domains or not domains or bool(set(domains) & set(member.domains))


def _by_id(query, model, run_list: list[Run]) -> dict:
    return {r.id: r for r in query.where(model.id.in_({run.ref_id for run in run_list}))}


def knowledge(member: Member, run_list: list[Run]) -> list[Item]:
    """Sections 1 and 5: entries published by others, still current, that the member may see."""
    entries = _by_id(knowledge_service.select(), Knowledge, run_list)
    out = []
    for run in run_list:
        e = entries.get(run.ref_id)
        if e is None or e.author_id == member.id or knowledge_service.state_of(e) != "current" \
                or not can_see(member, e) or not in_domains(member, e.domains):
            continue
        data = {"id": e.id, "kind": e.kind, "title": e.title, "state": "current", "author": e.author.address,
                "domains": e.domains, "visibility": e.visibility, "pinned": e.pinned, "supersedes": e.supersedes,
                "event": "published", "created_at": iso(e.created_at)}
        out.append(Item(run.first, data, [act.read("knowledge", e.id)]))
    return out


def messages(member: Member, run_list: list[Run]) -> list[Item]:
    """Section 2: messages to the member that no client of it has fetched yet."""
    found = _by_id(Message.select(), Message, run_list)
    fresh = {d.message_id for d in Delivery.select(Delivery.message).where(
        Delivery.recipient == member.id, Delivery.message.in_(list(found)), Delivery.delivered_at.is_null())}
    names = addresses(m.sender_id for m in found.values())
    out = []
    for run in run_list:
        m = found.get(run.ref_id)
        if m is None or m.id not in fresh:
            continue
        data = {"id": m.id, "subject": m.subject, "sender": names.get(m.sender_id), "domains": m.domains,
                "thread": m.thread_id, "reply_to": m.reply_to_id, "created_at": iso(m.created_at),
                "event": "received"}
        actions = [act.read("message", m.id)]
        if m.thread is not None:
            actions.append(act.read("thread", m.thread_id, "thread"))
        out.append(Item(run.first, data, actions))
    return out


def _task_is_news(member: Member, task: Task, event: str) -> bool:
    if event == "assigned":
        return task.assignee_id == member.id and task.state in STILL_ASSIGNED
    if event == "in_review":
        return task.state == "in_review" and task.assignee_id != member.id and member.fleet_id == task.fleet_id
    return True  # accepted, claimed, rejected, done, approved, changes requested, cancelled: facts


def _unfinished(task_ids: list[int]) -> set[int]:
    """Tasks among `task_ids` with a dependency not done yet."""
    dep = Task.alias("dep")
    rows = (TaskDependency.select(TaskDependency.task).join(dep, on=(TaskDependency.depends_on == dep.id))
            .where(TaskDependency.task.in_(task_ids), dep.state != "done"))
    return {row.task_id for row in rows}


def task_actions(member: Member, task: Task, blocked: bool) -> list:
    """What the member may do with the task now (DESIGN's table), then `task show`."""
    out = []
    if task.assignee_id == member.id:
        out = {"assigned": ["accept", "reject"], "accepted": [] if blocked else ["start"],
               "in_progress": ["submit"]}.get(task.state, [])
    elif task.state == "in_review" and member.is_human and member.fleet_id == task.fleet_id:
        out = ["approve", "request-changes"]
    return [act.task(task.id, a) for a in out] + [act.read("task", task.id, "show")]


def tasks(member: Member, run_list: list[Run]) -> list[Item]:
    """Section 3: tasks assigned to the member, moved by others, to review, or its own finished."""
    found = _by_id(Task.select(), Task, run_list)
    blocked = _unfinished([t.id for t in found.values() if t.state == "accepted"])
    names = addresses([t.creator_id for t in found.values()] + [t.assignee_id for t in found.values()]
                      + [run.actor for run in run_list])
    out = []
    for run in run_list:
        t = found.get(run.ref_id)
        if t is None or not _task_is_news(member, t, run.event):
            continue
        data = {"id": t.id, "title": t.title, "state": t.state, "priority": t.priority, "event": run.event,
                "note": run.note or "", "by": names.get(run.actor), "creator": names.get(t.creator_id),
                "assignee": names.get(t.assignee_id), "domains": t.domains}
        out.append(Item(run.first, data, task_actions(member, t, t.id in blocked)))
    last = {item.data["id"]: item for item in out}
    for item in out:  # one task, several events: its actions once, on its latest line
        if last[item.data["id"]] is not item:
            item.actions = item.actions[-1:]
    return out


def research(member: Member, run_list: list[Run]) -> list[Item]:
    """Section 4: research waiting for the member's review, and verdicts on its own research."""
    found = _by_id(Research.select(), Research, run_list)
    done = {(r.research_id, r.revision) for r in ResearchReview.select(ResearchReview.research, ResearchReview.revision)
            .where(ResearchReview.research.in_(list(found)), ResearchReview.reviewer == member.id)}
    names = addresses([r.author_id for r in found.values()] + [run.actor for run in run_list])
    out = []
    for run in run_list:
        r = found.get(run.ref_id)
        asked = run.event == "review_requested"
        if r is None or (asked and (r.state != "in_review" or (r.id, r.revision) in done)):
            continue
        data = {"id": r.id, "title": r.title, "state": r.state, "author": names.get(r.author_id),
                "confidence": r.confidence, "revision": r.revision,
                "event": "review_requested" if asked else "reviewed",
                "verdict": None if asked else run.event, "comment": "" if asked else run.note or "",
                "reviewer": None if asked else names.get(run.actor)}
        if asked:
            verdicts = ("approve", "request-changes", "reject") if member.is_human else ("request-changes",)
            actions = [act.review(r.id, v) for v in verdicts]
        else:
            actions = [act.revise(r.id, r.title, r.confidence)] if r.state == "changes_requested" \
                and r.author_id == member.id else []
        out.append(Item(run.first, data, actions + [act.read("research", r.id, "show")]))
    return out


def documents(member: Member, run_list: list[Run]) -> list[Item]:
    """Section 6: new versions, written by others, of documents the member may see in its domains."""
    query = Document.select(Document, Fleet).join(Fleet, JOIN.INNER)
    found = _by_id(query, Document, run_list)
    out = []
    for run in run_list:
        d = found.get(run.ref_id)
        versions = [int(row[4]) for row in run.rows if row[5] != member.id and (row[4] or "").isdigit()]
        if d is None or not versions or not can_see(member, d) or not in_domains(member, d.domains):
            continue
        address = f"{d.fleet.name}/{d.name}"
        short = d.name if d.fleet_id == member.fleet_id else address
        writers = addresses(row[5] for row in run.rows if row[5] != member.id)
        data = {"id": d.id, "name": d.name, "address": address, "title": d.title, "version": max(versions),
                "latest_version": d.version, "new_versions": len(versions),
                "author": ", ".join(sorted(set(writers.values()))), "updated_at": iso(d.updated_at),
                "event": "version"}
        out.append(Item(run.first, data, [act.document(short, address, min(versions) - 1, max(versions))]))
    return out


@dataclass(frozen=True)
class Reader:
    """How a section reads the items of its change kind: which runs are still news and what they hold
    (`classify`), and the line each item gets in the prompt."""

    classify: Classify
    line: Callable[[dict], str]


READERS = {
    "knowledge": Reader(knowledge, lines.knowledge),
    "message": Reader(messages, lines.message),
    "task": Reader(tasks, lines.task),
    "research": Reader(research, lines.research),
    "document": Reader(documents, lines.document),
}
