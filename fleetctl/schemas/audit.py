"""The audit log's query and records."""

from __future__ import annotations

from pydantic import Field

from fleetctl.schemas.common import Listing, Page, Response, text


class AuditQuery(Page):
    member: text(200) = Field(None, description="'name' or 'fleet/name'")
    action: text(100) = Field(None, description="an action or a prefix ending in '.'")
    since: text(64) = Field(None, description="ISO 8601 time")


class Record(Response):
    id: int
    at: str
    fleet: str
    member: str | None
    action: str | None
    resource: str | None
    status: int
    ip: str | None
    count: int


class Records(Listing):
    items: list[Record]
