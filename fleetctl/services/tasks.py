"""Tasks: create, read, list and the `ready` queue.

Transitions live in `task_actions`, the JSON of DESIGN §2 in `task_render`. A task belongs to its
creator's fleet; it is visible to that fleet, to cross-fleet members sharing a domain when it is
cross-fleet, and always to its assignee (a member of another fleet assigned a task can see and act on it).
"""

from __future__ import annotations

from peewee import Value

from fleetctl import db
from fleetctl.errors import Forbidden, Invalid
from fleetctl.models.core import Member
from fleetctl.models.research import Research
from fleetctl.models.tasks import PRIORITIES, REVIEWS, STATES, Task, TaskDependency
from fleetctl.services import paging, previews, quota, task_actions, validate
from fleetctl.services import visibility as access
from fleetctl.services.task_access import KIND, add_history, get_task, visible
from fleetctl.services.task_render import render, to_dict

TITLE_MAX = 300
MAX_DEPENDENCIES = 100
HIGH_STAKES = ("high", "urgent")
MAX_ID = 2**63 - 1  # larger ids cannot exist (and would overflow the PostgreSQL driver)


def research_ids(task_id: int) -> list[int]:
    """Ids of research linked to the task."""
    return [r.id for r in Research.select(Research.id).where(Research.task == task_id).order_by(Research.id)]


def show(member: Member, task_id: int) -> dict:
    """A task with its history, the research linked to it and the links attached on submit."""
    task = get_task(member, task_id)
    return {**to_dict(task), "research": research_ids(task.id), "links": task.links}


def _dependencies(member: Member, ids: list[int] | None) -> list[int]:
    out: list[int] = []
    for task_id in ids or []:  # positive ids, at most MAX_DEPENDENCIES: checked by schemas.tasks
        if task_id not in out:
            out.append(get_task(member, task_id).id)
    return out


def create(caller: Member, title: str, body: str | None = None, domains: list[str] | None = None,
           priority: str | None = None, review: str | None = None, assign: str | None = None,
           route: bool = False, depends_on: list[int] | None = None, visibility: str | None = None) -> dict:
    """Create a task in the caller's fleet; `assign` or `route` moves it on in the same transaction.

    All or nothing: if the assignment is refused or routing finds nobody, no task is created.
    """
    title = validate.text(title, "title", max_len=TITLE_MAX)
    body = validate.text(body, "body", required=False)
    domains = validate.domains(domains)
    priority = validate.choice(priority or "normal", PRIORITIES, "priority")
    review = validate.choice(review or ("required" if priority in HIGH_STAKES else "none"), REVIEWS, "review")
    if review == "none" and priority in HIGH_STAKES and not caller.is_human:
        raise Forbidden(f"only a reviewer or owner can waive review on a task of {priority} priority")
    vis = validate.visibility(visibility)
    if assign is not None and route:
        raise Invalid("give assign or route, not both")
    deps = _dependencies(caller, depends_on)
    with db.write():
        task = Task.create(fleet=caller.fleet_id, title=title, body=body, domains=domains, priority=priority,
                           creator=caller.id, review=review, depends_on=deps, visibility=vis)
        access.set_domains(KIND, task.id, domains, new=True)
        if deps:
            TaskDependency.insert_many([{"task": task.id, "depends_on": d} for d in deps]).execute()
        add_history(task, caller, "create", None)
        quota.charge(caller.fleet_id, quota.size_of(title, body))
        if assign is not None:
            task_actions.apply(caller, task, "assign", member=assign)
        elif route:
            task_actions.apply(caller, task, "route")
    return to_dict(task)


def _page(query, limit: int | None, after: int | None, newest_first: bool = True) -> dict:
    data = paging.page(query, Task.id, limit, after, lambda t: t, newest_first=newest_first)
    data["items"] = render(data["items"], full=False)
    return data


def _listed():
    return Task.select(*previews.listed(Task, Task.body))


def list_tasks(caller: Member, mine: bool = False, state: str | list[str] | None = None,
               domain: str | list[str] | None = None, active: bool = False, limit: int | None = None,
               after: int | None = None) -> dict:
    """Tasks the caller can see, newest first; `mine` = created by or assigned to the caller. `state` and
    `domain` match any of their values; `active` leaves out done and cancelled tasks (unless `state`)."""
    query = _listed().where(visible(caller))
    if mine:
        query = query.where((Task.creator == caller.id) | (Task.assignee == caller.id))
    states = validate.choices(state, STATES, "state")
    if states:
        query = query.where(Task.state.in_(states))
    elif active:
        query = query.where(Task.state.not_in(("done", "cancelled")))
    tags = validate.domains([domain] if isinstance(domain, str) else domain)
    if tags:
        query = query.where(Task.id.in_(access.tagged_with_any(KIND, tags)))
    return _page(query, limit, after)


def ready(caller: Member, limit: int | None = None, after: int | None = None) -> dict:
    """Open tasks the caller could claim and tasks assigned to it, whose dependencies are all done;
    oldest first."""
    dep = Task.alias("dep")
    unfinished = (TaskDependency.select(TaskDependency.task)
                  .join(dep, on=(TaskDependency.depends_on == dep.id)).where(dep.state != "done"))
    # The raw "[]" text: a bare [] would be taken for an empty IN list.
    claimable = Task.domains == Value("[]", converter=False)
    if caller.domains:
        claimable = claimable | Task.id.in_(access.tagged_with_any(KIND, caller.domains))
    mine = (Task.assignee == caller.id) & Task.state.in_(("assigned", "accepted"))
    query = _listed().where(visible(caller), ((Task.state == "open") & claimable) | mine,
                                Task.id.not_in(unfinished))
    return _page(query, limit, after, newest_first=False)
