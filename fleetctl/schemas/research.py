"""Research: findings with a confidence, passed through review."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from fleetctl.models.research import STATES, VERDICTS
from fleetctl.schemas.common import (
    NON_BLANK,
    Address,
    Body,
    BodyChars,
    Confidence,
    Domains,
    Id,
    Listing,
    Page,
    Preview,
    QueryId,
    Request,
    Response,
    Visibility,
    text,
)
from fleetctl.services.research import MAX_SOURCES

State = Literal[STATES]


class ResearchContent(Request):
    """The fields a revision may change."""

    title: text(300, pattern=NON_BLANK) = None
    question: text(2000, "the question this research answers") = None
    body: Annotated[Body, Field(description="findings (markdown)")] = None
    confidence: Confidence = None
    sources: Annotated[list[text(1000, pattern=NON_BLANK)], Strict(), Field(max_length=MAX_SOURCES)] = Field(
        None, description="URLs, paths or citations")
    reviewers: Annotated[list[Address], Strict(), Field(max_length=50)] = Field(
        None, description="members asked to review: name or fleet/name")
    domains: Domains = None
    visibility: Visibility = None


class PublishResearch(ResearchContent):
    title: text(300, pattern=NON_BLANK)
    confidence: Confidence
    task: Id | None = Field(None, description="id of the task it answers")


class ReviewResearch(Request):
    verdict: Literal[tuple(VERDICTS)]
    comment: text(10_000) = None


class ResearchQuery(Page):
    state: Annotated[list[State], Field(max_length=len(STATES))] = Field(
        None, description="only these states (repeatable)")
    task: QueryId = Field(None, description="only research linked to this task")


class ReviewEntry(Response):
    reviewer: str
    verdict: str
    comment: str
    time: str
    revision: int


class Research(Response):
    id: int
    title: str
    question: str | None
    body: str | None = Field(None, description="the findings (one item)")
    preview: Preview = None
    body_chars: BodyChars = None
    confidence: float
    sources: list[str]
    task: int | None
    domains: list[str]
    visibility: Visibility
    fleet: str
    author: str
    reviewers: list[str]
    state: State
    revision: int
    reviews: list[ReviewEntry] | None = None
    review_count: int | None = None
    created_at: str
    updated_at: str


class ResearchList(Listing):
    items: list[Research]
