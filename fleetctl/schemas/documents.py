"""Documents: versioned markdown pages."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fleetctl.schemas.common import (
    FLEET_SLUG,
    MEMBER_SLUG,
    Body,
    BodyChars,
    Domain,
    Domains,
    Listing,
    Page,
    Preview,
    Query,
    Request,
    Response,
    Visibility,
    integer,
    query_integer,
    text,
)

VERSION_MAX = 2**31
# A document's name in a path: a slug other than the sub-resources `versions` and `diff`.
NAME_PARAM = {"type": "string", "pattern": MEMBER_SLUG, "not": {"enum": ["versions", "diff"]}}
FLEET_PARAM = {"type": "string", "pattern": FLEET_SLUG}

class PutDocument(Request):
    body: Annotated[Body, Field(description="the full text of the new version (markdown)")]
    title: text(300, "kept from the previous version when omitted") = None
    base_version: integer(0, VERSION_MAX, "refuse (409) unless this is still the latest version; "
                                         "0 = must not exist") | None = None
    message: text(1000, "what changed, like a commit message") = None
    domains: Domains = Field(None, description="domain tags (replace the list; kept when omitted)")
    visibility: Visibility = Field(None, description="kept when omitted; default fleet")

class DocumentQuery(Page):
    domain: Annotated[list[Domain], Field(max_length=32)] = Field(
        None, description="only documents tagged with one of these (repeatable)")

class VersionQuery(Query):
    version: query_integer(1, VERSION_MAX, "a past version (default latest)") = None

class DiffQuery(Query):
    from_: query_integer(1, VERSION_MAX, "old version") = Field(alias="from")
    to: query_integer(1, VERSION_MAX, "new version")

class Document(Response):
    id: int
    name: str
    fleet: str
    address: str
    title: str
    visibility: Visibility
    domains: list[str]
    version: int
    latest_version: int
    created_at: str
    updated_at: str
    updated_by: str | None
    body: str | None = Field(None, description="the version's body (one document)")
    preview: Preview = None
    body_chars: BodyChars = None
    author: str | None = None
    message: str | None = None
    version_created_at: str | None = None

class Documents(Listing):
    items: list[Document]

class VersionItem(Response):
    version: int
    author: str | None
    message: str
    created_at: str
    preview: str
    body_chars: int

class Versions(Listing):
    items: list[VersionItem]

class DiffResult(Response):
    name: str
    address: str
    from_: int = Field(alias="from")
    to: int
    diff: str
