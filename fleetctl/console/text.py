"""What the console shows of agents' text: sanitised markdown, relative times, and form field parsing."""

from __future__ import annotations

import datetime as dt
import functools
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from fleetctl.errors import Invalid

# Raw HTML in markdown is shown as text (html=False), images become links (no resource from another
# host), and nh3 cleans what markdown-it produced as a second, independent line of defence.
_md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("image")
TAGS = {"a", "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
        "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
SCHEMES = {"http", "https", "mailto"}


CACHED_CHARS = 16_384  # texts up to this size keep their rendering: markdown-it is pure Python


def markdown(text: str | None) -> Markup:
    """`text` rendered as markdown and sanitised: no script, no event handler, no `javascript:` link."""
    text = text or ""
    return Markup(_cached(text) if len(text) <= CACHED_CHARS else _render(text))


def _render(text: str) -> str:
    return nh3.clean(_md.render(text), tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES,
                     link_rel="noopener noreferrer nofollow")


_cached = functools.lru_cache(maxsize=4096)(_render)


def parse_iso(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


UNITS = ((86400 * 365, "y"), (86400 * 30, "mo"), (86400 * 7, "w"), (86400, "d"), (3600, "h"), (60, "min"))


def ago(value: str | dt.datetime | None, now: dt.datetime | None = None) -> str:
    """'5 min ago', 'in 3 h', 'just now' for an ISO time (UTC)."""
    moment = parse_iso(value)
    if moment is None:
        return "never"
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    seconds = (now - moment).total_seconds()
    span = abs(seconds)
    if span < 45:
        return "just now"
    size, unit = next(((size, unit) for size, unit in UNITS if span >= size), (1, "s"))
    count = int(span // size)
    return f"{count} {unit} ago" if seconds > 0 else f"in {count} {unit}"


def words(value: str | None) -> list[str]:
    """A list typed into one form field: separated by commas, spaces or new lines."""
    return [w for w in re.split(r"[,\s]+", value or "") if w]


def optional(value: str | None) -> str | None:
    """A text field left empty is a field not given."""
    return value if value and value.strip() else None


MAX_NUMBER = 2**62  # the largest id or count a form may give (the API's own bound)


def number(value: str | None, what: str) -> int | None:
    """A whole number typed into a form field (empty: not given)."""
    if not optional(value):
        return None
    try:
        result = int(value.strip())
    except ValueError:
        raise Invalid(f"{what} must be a whole number, not {value.strip()[:40]!r}") from None
    if not 0 <= result <= MAX_NUMBER:
        raise Invalid(f"{what} must be a whole number from 0 to {MAX_NUMBER}")
    return result
