"""Members and their tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from fleetctl.schemas.common import MEMBER_SLUG, Bool, Domains, FleetName, Listing, Request, Response, integer, text

Role = Literal["agent", "reviewer", "owner"]


class MemberChanges(Request):
    role: Role = None
    domains: Domains = None
    cross_fleet: Bool = None
    allow_fleets: Annotated[list[FleetName], Strict(), Field(max_length=100)] = None
    rate_limit: integer(1, 1_000_000, "requests per minute") = None


class Register(MemberChanges):
    name: text(63, pattern=MEMBER_SLUG)


class Member(Response):
    name: str
    fleet: str
    address: str
    role: Role
    domains: list[str]
    cross_fleet: bool
    allow_fleets: list[str]
    rate_limit: int
    created_at: str
    revoked_at: str | None


class Members(Listing):
    items: list[Member]


class Minted(Response):
    token: str = Field(description="shown once")
    member: Member

