"""Bodies of health, readiness and whoami."""

from __future__ import annotations

from typing import Literal

from fleetctl.schemas.agents import Member
from fleetctl.schemas.common import Response


class Health(Response):
    ok: bool
    version: str


class Ready(Health):
    database: Literal["sqlite", "postgres"]


class Fleet(Response):
    id: int
    name: str
    rate_limit: int
    created_at: str
    quota: int | None = None
    usage: int | None = None


class Whoami(Response):
    member: Member
    fleet: Fleet


class OpenAPIDocument(Response):
    openapi: str
    info: dict
    paths: dict
