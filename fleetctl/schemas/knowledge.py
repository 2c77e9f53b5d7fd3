"""Knowledge entries: publish, the feed and search."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from fleetctl.models.knowledge import KINDS, STATES
from fleetctl.schemas.common import (
    ONE_LINE,
    After,
    Body,
    BodyChars,
    Bool,
    Domain,
    Domains,
    Id,
    Limit,
    Listing,
    Preview,
    Query,
    Request,
    Response,
    Visibility,
    text,
)

Kind = Literal[KINDS]


class PublishKnowledge(Request):
    kind: Kind = Field(description="tip, gotcha, breaking or fix")
    title: text(300, "one line", pattern=ONE_LINE)
    body: Body = None
    domains: Domains = Field(None, description="domain tags; default: the superseded entry's")
    supersedes: Id | None = Field(None, description="id of an entry of your fleet that this one replaces")
    expires_at: text(64, "ISO 8601 time in the future") | None = None
    expires_in: text(32, "duration such as 90s, 3h, 7d, 2w") | None = None
    pinned: Bool = None
    visibility: Visibility = None


Kinds = Annotated[list[Kind], Field(max_length=len(KINDS), description="only these kinds (repeatable)")]
DomainFilter = Annotated[list[Domain], Field(max_length=32, description="only these domains (repeatable)")]


class FeedQuery(Query):
    domain: DomainFilter = None
    kind: Kinds = None
    all: bool = Field(None, description="include superseded, expired and retired entries")
    limit: Limit = None
    after: After = None


class SearchQuery(Query):
    q: text(500, "words to find in titles and bodies (at least one letter or digit)", min_length=1)
    kind: Kinds = None
    domain: DomainFilter = None
    all: bool = Field(None, description="include superseded, expired and retired entries")
    limit: Limit = None
    after: Annotated[int, Field(ge=0, le=100_000, description="the `next` value of the previous page")] = None


class Entry(Response):
    id: int
    kind: Kind
    title: str
    body: str | None = Field(None, description="the full body (one entry)")
    preview: Preview = None
    body_chars: BodyChars = None
    domains: list[str]
    visibility: Visibility
    author: str
    created_at: str
    expires_at: str | None
    pinned: bool
    supersedes: int | None
    superseded_by: int | None
    state: Literal[STATES]


class Entries(Listing):
    items: list[Entry]
