"""Task transitions: DESIGN's table as data, who may act, routing, and compare-and-set on `version`.

Order of checks: bad input (422), can the caller see the task (404), does the state allow the
action (409, listing the allowed actions), is the caller the right member (403), then the
action's own rules. Every move is an UPDATE ... WHERE id=? AND version=?: a stale writer gets 409.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from peewee import fn

from fleetctl import db
from fleetctl.errors import Conflict, Forbidden, Invalid
from fleetctl.models.base import utcnow
from fleetctl.models.core import Fleet, Member
from fleetctl.models.tasks import ACTIVE_STATES, STATES, Task, TaskDependency
from fleetctl.services import changes, documents, members, policy, quota, research, validate, wake_streams
from fleetctl.services.task_access import add_history, get_task
from fleetctl.services.task_render import to_dict

LINK = re.compile(r"^(research:[1-9][0-9]{0,17}|doc:([a-z0-9][a-z0-9-]{0,39}/)?[a-z0-9][a-z0-9._-]{0,99})$")
MAX_LINKS = 50


def _creator_or_owner(caller: Member, task: Task) -> str | None:
    if caller.id == task.creator_id or (caller.role == "owner" and caller.fleet_id == task.fleet_id):
        return None
    return "only the task's creator or an owner of its fleet can {action} it"


def _domain_match(caller: Member, task: Task) -> str | None:
    if not task.domains or set(task.domains) & set(caller.domains):
        return None
    return f"only a member with one of the task's domains ({', '.join(task.domains)}) can claim it"


def _assignee(caller: Member, task: Task) -> str | None:
    return None if caller.id == task.assignee_id else "only the task's assignee can {action} it"


def _reviewer(caller: Member, task: Task) -> str | None:
    if not caller.is_human:
        return "agents never pass a review gate: {action} needs a reviewer or owner"
    if caller.fleet_id != task.fleet_id:
        return "only reviewers and owners of the task's own fleet can {action} it"
    if caller.id == task.assignee_id:
        return "the assignee cannot {action} their own work; another reviewer or owner must"
    return None


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str
    who: Callable[[Member, Task], str | None]


RULES: dict[str, Rule] = {
    "assign": Rule(("open",), "assigned", _creator_or_owner),
    "claim": Rule(("open",), "accepted", _domain_match),
    "route": Rule(("open",), "assigned", _creator_or_owner),
    "accept": Rule(("assigned",), "accepted", _assignee),
    "reject": Rule(("assigned",), "open", _assignee),
    "start": Rule(("accepted",), "in_progress", _assignee),
    "submit": Rule(("in_progress",), "in_review", _assignee),  # or done when no review is required
    "approve": Rule(("in_review",), "done", _reviewer),
    "request-changes": Rule(("in_review",), "in_progress", _reviewer),
    "cancel": Rule(tuple(s for s in STATES if s not in ("done", "cancelled")), "cancelled", _creator_or_owner),
}
ACTIONS = tuple(RULES)
NEEDS_REASON = ("reject", "request-changes", "cancel")


def allowed_from(state: str) -> list[str]:
    """The actions DESIGN's table allows from `state`."""
    return [name for name, rule in RULES.items() if state in rule.sources]


def _check_input(action: str, member: str | None, reason: str | None, note: str | None,
                 links: list[str] | None) -> str:
    """Validate the fields of an action request; returns the history note."""
    if action not in RULES:
        raise Invalid(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
    if (member is not None) != (action == "assign"):
        raise Invalid("assign needs a member" if action == "assign" else f"{action} takes no member")
    if links and action != "submit":
        raise Invalid("links are attached on submit")
    for link in links or []:
        if not isinstance(link, str) or not LINK.match(link):
            raise Invalid(f"invalid link {link!r}: use research:ID or doc:NAME")
    if action in NEEDS_REASON:
        if note is not None:
            raise Invalid(f"{action} takes a reason, not a note")
        return validate.text(reason, f"a reason for {action}", max_len=10_000)
    if reason is not None:
        raise Invalid(f"{action} takes no reason" + (" (use note)" if action in ("submit", "approve") else ""))
    return validate.text(note, "note", required=False, max_len=10_000)


def _check_links_exist(caller: Member, links: list[str] | None) -> None:
    """Each linked research or document exists and the caller can see it, else 404."""
    for link in links or []:
        kind, _, ref = link.partition(":")
        if kind == "research":
            research.get_visible(caller, int(ref))
        else:
            documents.get_visible(caller, ref)


def act(caller: Member, task_id: int, action: str, member: str | None = None, reason: str | None = None,
        note: str | None = None, links: list[str] | None = None, version: int | None = None) -> dict:
    """Move a task with one action of DESIGN's table; returns the task after the move."""
    text = _check_input(action, member, reason, note, links)
    _check_links_exist(caller, links)
    with db.write():
        task = get_task(caller, task_id)
        if version is not None and version != task.version:
            raise Conflict(f"task {task.id} is at version {task.version}, not {version}; reload it and retry",
                           version=task.version)
        quota.charge(caller.fleet_id, quota.size_of(text, links))
        apply(caller, task, action, member=member, note=text, links=links)
    return to_dict(task)


def apply(caller: Member, task: Task, action: str, member: str | None = None, note: str = "",
          links: list[str] | None = None) -> None:
    """Check and perform one transition on a loaded task, inside the caller's write transaction."""
    rule = RULES[action]
    if task.state not in rule.sources:
        allowed = allowed_from(task.state)
        raise Conflict(f"cannot {action} task {task.id}: it is {task.state}; allowed from {task.state}: "
                       f"{', '.join(allowed) or 'nothing (final state)'}", allowed=allowed)
    refusal = rule.who(caller, task)
    if refusal:
        raise Forbidden(refusal.format(action=action))
    assignee_id, target = task.assignee_id, rule.target
    if action in ("assign", "route"):
        chosen = members.resolve(caller, member) if action == "assign" else pick_assignee(task)
        policy.check_delivery(caller, chosen, task.domains, "task")
        assignee_id = chosen.id
    elif action == "claim":
        assignee_id = caller.id
    elif action == "reject":
        assignee_id = None
    elif action == "start":
        _require_dependencies_done(task)
    elif action == "submit" and task.review == "none":
        target = "done"
    new_links = task.links + [link for link in dict.fromkeys(links or []) if link not in task.links]
    if len(new_links) > MAX_LINKS:
        raise Invalid(f"a task holds at most {MAX_LINKS} links")
    from_state, previous_assignee = task.state, task.assignee_id
    _compare_and_set(task, target, assignee_id, new_links)
    add_history(task, caller, action, from_state, note)
    for event, member_ids in _news(caller, task, action, previous_assignee):
        streams = [wake_streams.to_member("tasks", m) for m in dict.fromkeys(member_ids) if m and m != caller.id]
        if event == "in_review":
            streams = [wake_streams.reviews(task.fleet_id)]
        changes.record("task", task.id, task.fleet_id, event, streams, note=note or None, actor_id=caller.id)


def _news(caller: Member, task: Task, action: str, assignee_id: int | None) -> list[tuple[str, list]]:
    """Who a move concerns (DESIGN §3), after the move: `(event, member ids)`; the actor is never told
    of its own move, and `in_review` goes to the fleet's review stream."""
    creator = [task.creator_id]
    return {
        "assign": [("assigned", [task.assignee_id])],
        "route": [("assigned", [task.assignee_id])],
        "claim": [("claimed", creator)],
        "accept": [("accepted", creator)],
        "reject": [("rejected", creator)],
        "start": [],
        "submit": [("in_review", [])] if task.state == "in_review" else [("done", creator)],
        "approve": [("approved", [task.assignee_id]), ("done", [c for c in creator if c != task.assignee_id])],
        "request-changes": [("changes_requested", [task.assignee_id])],
        "cancel": [("cancelled", [assignee_id, *creator])],
    }[action]


def _compare_and_set(task: Task, state: str, assignee_id: int | None, links: list[str]) -> None:
    now = utcnow()
    count = (Task.update(state=state, assignee=assignee_id, links=links, version=Task.version + 1, updated_at=now)
             .where(Task.id == task.id, Task.version == task.version).execute())
    if count == 0:
        raise Conflict(f"task {task.id} changed while you acted (someone else moved it first); reload and retry")
    task.state, task.assignee_id, task.links, task.updated_at = state, assignee_id, links, now
    task.version += 1


def _require_dependencies_done(task: Task) -> None:
    dep = Task.alias("dep")
    unfinished = [row.id for row in dep.select(dep.id)
                  .join(TaskDependency, on=(TaskDependency.depends_on == dep.id))
                  .where(TaskDependency.task == task.id, dep.state != "done").order_by(dep.id)]
    if unfinished:
        raise Conflict(f"task {task.id} cannot start: it depends on unfinished task(s) "
                       f"{', '.join(map(str, unfinished))}", unfinished=unfinished)


def pick_assignee(task: Task) -> Member:
    """The fleet member (not revoked, not the creator) sharing the most domains with the task,
    fewest active tasks as tie-break, then the earliest registered; 409 when nobody matches."""
    if not task.domains:
        raise Conflict(f"task {task.id} has no domains to route by; it stays open: use assign or claim")
    candidates = (Member.select(Member, Fleet).join(Fleet)
                  .where(Member.fleet == task.fleet_id, Member.revoked_at.is_null(), Member.id != task.creator_id))
    scored = {m.id: (len(set(m.domains) & set(task.domains)), m) for m in candidates}
    scored = {k: v for k, v in scored.items() if v[0]}
    if not scored:
        fleet = Fleet.get_by_id(task.fleet_id)
        raise Conflict(f"no member of fleet {fleet.name!r} other than the creator shares a domain with task "
                       f"{task.id} ({', '.join(task.domains)}); it stays open: assign it by hand or register "
                       f"a member with one of these domains")
    active = dict(Task.select(Task.assignee, fn.COUNT(Task.id))
                  .where(Task.assignee.in_(list(scored)), Task.state.in_(ACTIVE_STATES))
                  .group_by(Task.assignee).tuples())
    best = min(scored, key=lambda mid: (-scored[mid][0], active.get(mid, 0), mid))
    return scored[best][1]
