"""Models of the research primitive: findings with a confidence, their reviewers and their reviews."""

from __future__ import annotations

from peewee import CharField, DateTimeField, FloatField, ForeignKeyField, IntegerField, TextField

from fleetctl.models.base import BaseModel, JSONListField, utcnow
from fleetctl.models.core import Fleet, Member
from fleetctl.models.tasks import Task

STATES = ("draft", "in_review", "approved", "changes_requested", "rejected")
VERDICTS = {"approve": "approved", "request-changes": "changes_requested", "reject": "rejected"}


class Research(BaseModel):
    """One piece of research; `fleet` is its author's fleet, `task` the task it answers (any fleet's)."""

    fleet = ForeignKeyField(Fleet, on_delete="CASCADE")
    author = ForeignKeyField(Member, on_delete="CASCADE")
    title = TextField()
    question = TextField(default="")
    body = TextField(default="")
    confidence = FloatField()
    sources = JSONListField(default=list)
    task = ForeignKeyField(Task, null=True, backref="research_items", on_delete="SET NULL")
    domains = JSONListField(default=list)
    visibility = CharField(max_length=12, default="fleet")
    state = CharField(max_length=20, default="draft")
    revision = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("fleet", "state"), False),)


class ResearchReviewer(BaseModel):
    """A member asked to review a piece of research."""

    research = ForeignKeyField(Research, backref="reviewer_rows", on_delete="CASCADE")
    member = ForeignKeyField(Member, on_delete="CASCADE")

    class Meta:
        indexes = ((("research", "member"), True), (("member", "research"), False))


class ResearchReview(BaseModel):
    """One verdict, given on one revision; rows are only ever inserted."""

    research = ForeignKeyField(Research, backref="reviews", on_delete="CASCADE")
    reviewer = ForeignKeyField(Member, on_delete="CASCADE")
    verdict = CharField(max_length=20)
    comment = TextField(default="")
    revision = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)


MODELS = [Research, ResearchReviewer, ResearchReview]
