"""Field types shared by every request and response model: each rule (type, bounds, pattern) is written here once."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

from fleetctl.schemas.limits import DEFAULT_MAX_CHARS, MAX_BODY_BYTES, MAX_MAX_CHARS, MIN_MAX_CHARS

INT64_MAX = 2**63 - 1
ID_MAX = 2**62
NO_NUL = r"^[^\x00]*$"
# Python's str.strip() also drops \x1c-\x1f, which regex \s does not know: a title must hold something else.
_SOLID = r"[^\s\x00\x1c-\x1f]"
NON_BLANK = rf"^[^\x00]*{_SOLID}[^\x00]*$"
ONE_LINE = rf"^[^\x00\r\n]*{_SOLID}[^\x00\r\n]*$"
FLEET_SLUG = r"^[a-z0-9][a-z0-9-]{0,39}$"
MEMBER_SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_ADDRESS = r"([a-z0-9][a-z0-9-]{0,39}/)?[a-z0-9][a-z0-9-]{0,62}"
ADDRESS = rf"^{_ADDRESS}$"
RECIPIENT = rf"^ *{_ADDRESS} *$"  # a recipient's surrounding spaces are dropped
DOMAIN_TAG = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"  # lowercased by the service
MAX_DOMAINS = 32
MAX_BODY_CHARS = MAX_BODY_BYTES  # characters here; the service checks the UTF-8 size too
PAGE_LIMIT_MAX = 1_000_000


def _whole(value: object) -> object:
    """JSON Schema counts 817.0 as an integer: accept integral floats, never strings or booleans."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


Bool = Annotated[bool, Strict()]


def _no_nul(value: str) -> str:
    """NO_NUL without a regex: a search for one byte stays fast on a 1 MiB body."""
    if "\x00" in value:
        raise PydanticCustomError("string_pattern_mismatch", "String should match pattern '{pattern}'",
                                  {"pattern": NO_NUL})
    return value


def text(max_length: int, description: str = "", pattern: str = NO_NUL, min_length: int | None = None):
    """A string field without NUL bytes (lone surrogates never validate as strings)."""
    if pattern == NO_NUL:
        return Annotated[str, Strict(), Field(max_length=max_length, min_length=min_length,
                                              description=description or None, json_schema_extra={"pattern": NO_NUL}),
                         AfterValidator(_no_nul)]
    return Annotated[str, Strict(), Field(max_length=max_length, min_length=min_length, pattern=pattern,
                                          description=description or None)]


def integer(minimum: int, maximum: int, description: str = ""):
    """A whole number within [minimum, maximum] in a JSON body."""
    return Annotated[int, Strict(), Field(ge=minimum, le=maximum, description=description or None),
                     BeforeValidator(_whole)]


def query_integer(minimum: int, maximum: int, description: str = ""):
    """A whole number within [minimum, maximum] in a query string (where it arrives as text)."""
    return Annotated[int, Field(ge=minimum, le=maximum, description=description or None)]


Id = integer(1, ID_MAX)
Title = text(300, pattern=NON_BLANK)
Body = text(MAX_BODY_CHARS, "markdown, at most 1 MiB")
Domain = text(63, pattern=DOMAIN_TAG)
Domains = Annotated[list[Domain], Strict(), Field(max_length=MAX_DOMAINS, description="domain tags")]
Address = text(104, "'name' (your fleet) or 'fleet/name'", pattern=ADDRESS)
Recipient = text(110, "'name' (your fleet) or 'fleet/name'", pattern=RECIPIENT)
FleetName = text(40, pattern=FLEET_SLUG)
# Kept to 6 decimals: PostgreSQL stores a confidence as REAL, where 2.2e-308 underflows (a 500).
Confidence = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False, description="0.0 to 1.0"),
                       AfterValidator(lambda value: round(value, 6))]
Visibility = Literal["fleet", "cross-fleet"]
_BUDGET = f"prompt budget in characters (default {DEFAULT_MAX_CHARS})"
MaxChars = integer(MIN_MAX_CHARS, MAX_MAX_CHARS, _BUDGET)
QueryId = query_integer(1, ID_MAX)
QueryMaxChars = query_integer(MIN_MAX_CHARS, MAX_MAX_CHARS, _BUDGET)
Limit = query_integer(1, PAGE_LIMIT_MAX, "page size (capped at 200)")
After = query_integer(0, ID_MAX, "the `next` value of the previous page")


class Request(BaseModel):
    """A JSON request body: unknown fields and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Query(BaseModel):
    """A query string: values arrive as text (a repeated parameter is a list); unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Page(Query):
    limit: Limit | None = None
    after: After | None = None


class Response(BaseModel):
    """A JSON response body (describes what a view returns; never used to validate it)."""

    model_config = ConfigDict(extra="allow")


# What list items carry in place of a long body (one item carries its whole body instead).
Preview = Annotated[str | None, Field(description="the body's start (list items)")]
BodyChars = Annotated[int | None, Field(description="the body's length (list items)")]


class Listing(Response):
    next: int | None = Field(description="pass as `after` for the next page; null on the last")
