"""Checks on names and values shared by every primitive; each failure is an `Invalid` (422)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fleetctl.errors import Invalid
from fleetctl.schemas.limits import MAX_BODY_BYTES

FLEET_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MEMBER_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DOMAIN_TAG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
VISIBILITIES = ("fleet", "cross-fleet")
MAX_DOMAINS = 32


def fleet_name(name: str) -> str:
    if not isinstance(name, str) or not FLEET_SLUG.match(name):
        raise Invalid(f"invalid fleet name {name!r}: use a lowercase slug [a-z0-9][a-z0-9-]{{0,39}}")
    return name


def member_name(name: str) -> str:
    if not isinstance(name, str) or not MEMBER_SLUG.match(name):
        raise Invalid(f"invalid member name {name!r}: use a lowercase slug [a-z0-9][a-z0-9-]{{0,62}}")
    return name


def domains(values: Iterable[str] | None) -> list[str]:
    """Normalise a list of domain tags: lowercase slugs, deduplicated, order kept."""
    out: list[str] = []
    for value in values or []:
        tag = value.strip().lower() if isinstance(value, str) else value
        if not isinstance(tag, str) or not DOMAIN_TAG.match(tag):
            raise Invalid(f"invalid domain tag {value!r}: use a lowercase slug such as 'infra'")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_DOMAINS:
        raise Invalid(f"too many domain tags ({len(out)}); at most {MAX_DOMAINS}")
    return out


def fleet_names(values: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        fleet_name(value)
        if value not in out:
            out.append(value)
    return out


def choice(value, allowed: Iterable[str], field: str):
    """`value` if it is one of `allowed`, else a 422 that lists them."""
    if value not in allowed:
        raise Invalid(f"invalid {field} {value!r}: use one of {', '.join(allowed)}")
    return value


def choices(values: str | Iterable[str] | None, allowed: Iterable[str], field: str) -> list[str]:
    """A filter's values (one or several; a repeated query parameter), each one of `allowed`."""
    allowed = tuple(allowed)
    return [choice(v, allowed, field) for v in ([values] if isinstance(values, str) else values or [])]


def visibility(value: str | None) -> str:
    value = value or "fleet"
    if value not in VISIBILITIES:
        raise Invalid(f"invalid visibility {value!r}: use 'fleet' or 'cross-fleet'")
    return value


def text(value: str | None, field: str, required: bool = True, max_len: int = 1_000_000) -> str:
    """A string field: stripped of surrounding blanks, non-empty when required, without NUL bytes."""
    value = (value or "").strip() if required else (value or "")
    if required and not value:
        raise Invalid(f"{field} must not be empty")
    if "\x00" in value:
        raise Invalid(f"{field} must not contain NUL bytes")
    if len(value) > max_len:
        raise Invalid(f"{field} is too long ({len(value)} characters; at most {max_len})")
    return value


def body(value: str | None) -> str:
    """An optional markdown body of at most 1 MiB of UTF-8."""
    value = text(value, "body", required=False, max_len=MAX_BODY_BYTES)
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise Invalid(f"body is {size} bytes; at most 1 MiB ({MAX_BODY_BYTES} bytes)")
    return value
