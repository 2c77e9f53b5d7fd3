"""Tasks as the JSON of DESIGN §2: whole (with their history) or as list items."""

from __future__ import annotations

from peewee import fn

from fleetctl.models.base import iso
from fleetctl.models.tasks import Task, TaskHistory
from fleetctl.services import members, previews


def _histories(ids: list[int]) -> dict[int, list[dict]]:
    history: dict[int, list[dict]] = {i: [] for i in ids}
    for h in TaskHistory.select().where(TaskHistory.task.in_(ids)).order_by(TaskHistory.id):
        history[h.task_id].append({"who": h.who, "action": h.action, "from": h.from_state,
                                   "to": h.to_state, "when": iso(h.at), "note": h.note})
    return history


def render(tasks: list[Task], full: bool = True) -> list[dict]:
    """Tasks as JSON objects, in three queries whatever the count: with their body and history, or as
    list items (`full=False`) with `preview`, `body_chars` and `history_count` in their place."""
    if not tasks:
        return []
    ids = [t.id for t in tasks]
    if full:
        extra = {i: {"history": h} for i, h in _histories(ids).items()}
    else:
        counts = dict(TaskHistory.select(TaskHistory.task, fn.COUNT(TaskHistory.id))
                      .where(TaskHistory.task.in_(ids)).group_by(TaskHistory.task).tuples())
        extra = {i: {"history_count": counts.get(i, 0)} for i in ids}
    names = members.addresses([t.creator_id for t in tasks] + [t.assignee_id for t in tasks])
    return [{
        "id": t.id, "title": t.title, **previews.body(t, full), "domains": t.domains, "priority": t.priority,
        "state": t.state, "creator": names.get(t.creator_id),
        "assignee": names.get(t.assignee_id) if t.assignee_id else None, "review": t.review,
        "depends_on": t.depends_on, "visibility": t.visibility, "version": t.version,
        "created_at": iso(t.created_at), "updated_at": iso(t.updated_at), **extra[t.id],
    } for t in tasks]


def to_dict(task: Task) -> dict:
    """One task as JSON."""
    return render([task])[0]
