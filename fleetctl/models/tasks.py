"""Models of the tasks primitive: tasks, their dependencies and their append-only history."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from fleetctl.models.base import BaseModel, JSONListField, utcnow
from fleetctl.models.core import Fleet, Member

PRIORITIES = ("low", "normal", "high", "urgent")
STATES = ("open", "assigned", "accepted", "in_progress", "in_review", "done", "cancelled")
ACTIVE_STATES = ("assigned", "accepted", "in_progress", "in_review")
REVIEWS = ("required", "none")


class Task(BaseModel):
    fleet = ForeignKeyField(Fleet, on_delete="CASCADE")
    title = TextField()
    body = TextField(default="")
    domains = JSONListField(default=list)
    priority = CharField(max_length=10, default="normal")
    state = CharField(max_length=20, default="open")
    creator = ForeignKeyField(Member, backref="created_tasks", on_delete="CASCADE")
    assignee = ForeignKeyField(Member, null=True, backref="assigned_tasks", on_delete="CASCADE")
    review = CharField(max_length=10, default="none")
    # A copy of the ids in TaskDependency, kept for cheap rendering; the table is what queries use.
    depends_on = JSONListField(default=list)
    visibility = CharField(max_length=20, default="fleet")
    links = JSONListField(default=list)
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("fleet", "state"), False), (("assignee", "state"), False))


class TaskDependency(BaseModel):
    """`task` cannot start until `depends_on` is done."""

    task = ForeignKeyField(Task, backref="dependencies", on_delete="CASCADE")
    depends_on = ForeignKeyField(Task, backref="dependents", on_delete="CASCADE")

    class Meta:
        primary_key = False
        indexes = ((("task", "depends_on"), True),)


class TaskHistory(BaseModel):
    """One row per creation or transition; rows are only ever inserted."""

    task = ForeignKeyField(Task, backref="history", on_delete="CASCADE")
    member = ForeignKeyField(Member, on_delete="CASCADE")
    who = CharField(max_length=110)  # the actor's `fleet/name` at the time
    action = CharField(max_length=20)
    from_state = CharField(max_length=20, null=True)
    to_state = CharField(max_length=20)
    note = TextField(default="")
    at = DateTimeField(default=utcnow)


MODELS = [Task, TaskDependency, TaskHistory]
