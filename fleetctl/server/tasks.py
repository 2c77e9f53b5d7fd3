"""HTTP routes of the tasks primitive: create, list, ready, show, and one route for every action."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.models.tasks import PRIORITIES, REVIEWS, STATES
from fleetctl.server.api import route
from fleetctl.server.fields import PAGE, F
from fleetctl.services import task_actions, tasks

bp = Blueprint("tasks", __name__, url_prefix="/v1")

CREATE = {
    "title": F("string", required=True, max_length=tasks.TITLE_MAX),
    "body": F("string", description="markdown"),
    "domains": F("array", max_items=32),
    "priority": F("string", enum=PRIORITIES, description="default normal"),
    "review": F("string", enum=REVIEWS, description="default: required for high and urgent, else none"),
    "assign": F("string", nullable=True, max_length=110,
                description="assign at creation to 'name' or 'fleet/name' (cross-fleet policy applies)"),
    "route": F("boolean", description="route at creation to the best-matching member of the fleet"),
    "depends_on": F("array", items="integer", max_items=tasks.MAX_DEPENDENCIES,
                    description="ids of tasks that must be done before this one starts"),
    "visibility": F("string", enum=("fleet", "cross-fleet")),
}
LIST = {
    "mine": F("boolean", description="only tasks created by or assigned to the caller"),
    "state": F("array", enum=STATES, max_items=len(STATES), description="only these states (repeatable)"),
    "domain": F("array", max_items=32, description="only tasks tagged with one of these domains (repeatable)"),
    "active": F("boolean", description="only tasks that are not done or cancelled (ignored with state)"),
    **PAGE,
}
ACTION = {
    "action": F("string", required=True, enum=task_actions.ACTIONS),
    "member": F("string", max_length=110, description="assign: the member, 'name' or 'fleet/name'"),
    "reason": F("string", max_length=10_000, description="required by reject, request-changes, cancel"),
    "note": F("string", max_length=10_000, description="submit and approve"),
    "links": F("array", max_items=task_actions.MAX_LINKS, description="submit: 'research:ID' or 'doc:NAME'"),
    "version": F("integer", minimum=1, description="refuse (409) unless the task is still at this version"),
}


@route(bp, "/tasks", "POST", summary="Create a task (optionally assigned or routed at once).",
       action="task.create", body=CREATE, status=201)
def create(body):
    return tasks.create(g.member, **body)


@route(bp, "/tasks", summary="List tasks the caller can see, newest first.", query=LIST)
def list_tasks(query):
    return tasks.list_tasks(g.member, **query)


@route(bp, "/tasks/ready", summary="Open tasks the caller could claim and tasks assigned to it, "
       "whose dependencies are done.", query=PAGE)
def ready(query):
    return tasks.ready(g.member, **query)


@route(bp, "/tasks/<int:id>", summary="Show a task with its history, linked research and links.")
def show(id):
    return tasks.show(g.member, id)


@route(bp, "/tasks/<int:id>/actions", "POST", summary="Move a task: assign, claim, route, accept, reject, "
       "start, submit, approve, request-changes or cancel.", action="task.action", body=ACTION)
def act(id, body):
    g.action = f"task.{body['action']}"
    g.resource = f"task:{id}"
    return task_actions.act(g.member, id, **body)
