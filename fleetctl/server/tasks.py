"""HTTP routes of the tasks primitive: create, list, ready, show, and one route for every action."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.schemas import tasks as schemas
from fleetctl.schemas.common import Page
from fleetctl.server.api import route
from fleetctl.services import task_actions, tasks

bp = Blueprint("tasks", __name__, url_prefix="/v1")



@route(bp, "/tasks", "POST", summary="Create a task (optionally assigned or routed at once).",
       action="task.create", body=schemas.CreateTask, response=schemas.Task,
       status=201, errors=(403, 404, 409))
def create(body):
    return tasks.create(g.member, **body)


@route(bp, "/tasks", summary="List tasks the caller can see, newest first.", query=schemas.TaskQuery,
       response=schemas.Tasks)
def list_tasks(query):
    return tasks.list_tasks(g.member, **query)


@route(bp, "/tasks/ready", summary="Open tasks the caller could claim and tasks assigned to it, "
       "whose dependencies are done.", query=Page, response=schemas.Tasks)
def ready(query):
    return tasks.ready(g.member, **query)


@route(bp, "/tasks/<int:id>", summary="Show a task with its history, linked research and links.",
       response=schemas.TaskDetail)
def show(id):
    return tasks.show(g.member, id)


@route(bp, "/tasks/<int:id>/actions", "POST", summary="Move a task: assign, claim, route, accept, reject, "
       "start, submit, approve, request-changes or cancel.", action="task.action", body=schemas.TaskAction,
       response=schemas.Task, errors=(403, 409))
def act(id, body):
    g.action = f"task.{body['action']}"
    g.resource = f"task:{id}"
    return task_actions.act(g.member, id, **body)
