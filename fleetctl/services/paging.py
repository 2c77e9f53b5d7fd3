"""Keyset pagination shared by every list: `?limit=&after=` with a capped limit."""

from __future__ import annotations

from collections.abc import Callable

from fleetctl.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1:
        raise Invalid("limit must be at least 1")
    return min(limit, MAX_LIMIT)


def page(query, key, limit: int | None, after: int | None, render: Callable, newest_first: bool = True) -> dict:
    """One page of `query` ordered by `key`; `next` is the key to pass as `after` for the next page."""
    limit = clamp_limit(limit)
    if after is not None:
        query = query.where(key < after if newest_first else key > after)
    rows = list(query.order_by(key.desc() if newest_first else key.asc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [render(r) for r in rows], "next": getattr(rows[-1], key.name) if more else None}
