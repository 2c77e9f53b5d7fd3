"""Tasks: create, lists and actions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from fleetctl.models.tasks import PRIORITIES, REVIEWS, STATES
from fleetctl.schemas.common import (
    NON_BLANK,
    Address,
    Body,
    BodyChars,
    Bool,
    Domain,
    Domains,
    Id,
    Listing,
    Page,
    Preview,
    Request,
    Response,
    Visibility,
    integer,
    text,
)
from fleetctl.services.task_actions import ACTIONS, LINK, MAX_LINKS
from fleetctl.services.tasks import MAX_DEPENDENCIES, TITLE_MAX

State = Literal[STATES]


class CreateTask(Request):
    title: text(TITLE_MAX, pattern=NON_BLANK)
    body: Body = None
    domains: Domains = None
    priority: Literal[PRIORITIES] = Field(None, description="default normal")
    review: Literal[REVIEWS] = Field(None, description="default: required for high and urgent, else none")
    assign: Address | None = Field(None, description="assign at creation (cross-fleet policy applies)")
    route: Bool = Field(None, description="route at creation to the best-matching member of the fleet")
    depends_on: Annotated[list[Id], Strict(), Field(max_length=MAX_DEPENDENCIES)] = Field(
        None, description="ids of tasks that must be done before this one starts")
    visibility: Visibility = None


class TaskQuery(Page):
    mine: bool = Field(None, description="only tasks created by or assigned to the caller")
    state: Annotated[list[State], Field(max_length=len(STATES))] = Field(None, description="only these states")
    domain: Annotated[list[Domain], Field(max_length=32)] = Field(None, description="only these domains")
    active: bool = Field(None, description="only tasks that are not done or cancelled (ignored with state)")


class TaskAction(Request):
    action: Literal[ACTIONS]
    member: Address = Field(None, description="assign: the member")
    reason: text(10_000, "required by reject, request-changes, cancel") = None
    note: text(10_000, "submit and approve") = None
    links: Annotated[list[text(200, pattern=LINK.pattern)], Strict(), Field(max_length=MAX_LINKS)] = Field(
        None, description="submit: 'research:ID' or 'doc:NAME'")
    version: integer(1, 2**62, "refuse (409) unless the task is still at this version") = None


class HistoryEntry(Response):
    who: str
    action: str
    from_: str | None = Field(alias="from")
    to: str
    when: str
    note: str


class Task(Response):
    id: int
    title: str
    body: str | None = Field(None, description="the full body (one task)")
    preview: Preview = None
    body_chars: BodyChars = None
    domains: list[str]
    priority: Literal[PRIORITIES]
    state: State
    creator: str | None
    assignee: str | None
    review: Literal[REVIEWS]
    depends_on: list[int]
    visibility: Visibility
    version: int
    created_at: str
    updated_at: str
    history: list[HistoryEntry] | None = None
    history_count: int | None = None


class TaskDetail(Task):
    research: list[int]
    links: list[str]


class Tasks(Listing):
    items: list[Task]
