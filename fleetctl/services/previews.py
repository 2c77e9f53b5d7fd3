"""Bounded answers: list items carry a `preview` of their long text and its length, never the text.

Lists select `substr(body, 1, 280)` and `length(body)` in SQL (the same functions on SQLite and
PostgreSQL, both counting characters), so listing entries of 1 MiB never loads them into the server.
One item's GET has the whole body.
"""

from __future__ import annotations

from peewee import fn

PREVIEW_CHARS = 280


def columns(field) -> list:
    """The SQL columns a list selects instead of `field`: its first characters and its length."""
    return [fn.SUBSTR(field, 1, PREVIEW_CHARS).alias(f"{field.name}_preview"),
            fn.LENGTH(field).coerce(False).alias(f"{field.name}_chars")]


def listed(model, *long_fields) -> list:
    """Every column of `model` except `long_fields`, which come as previews (see `columns`)."""
    names = {f.name for f in long_fields}
    out = [f for f in model._meta.sorted_fields if f.name not in names]
    for field in long_fields:
        out += columns(field)
    return out


def of_text(text: str | None) -> dict:
    """`preview` and `body_chars` of a text already in memory."""
    text = text or ""
    return {"preview": text[:PREVIEW_CHARS], "body_chars": len(text)}


def body(row, full: bool, name: str = "body") -> dict:
    """`{name: text}` for one item's GET (`full`), else `preview` and `body_chars` for a list item,
    from the columns `listed` selected when present, else from the text."""
    if full:
        return {name: getattr(row, name)}
    chars = getattr(row, f"{name}_chars", None)
    if chars is None:
        return of_text(getattr(row, name))
    return {"preview": getattr(row, f"{name}_preview", None) or "", "body_chars": chars}
