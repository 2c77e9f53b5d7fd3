"""Reading the knowledge feed: the member's list (pinned first, then newest) and full-text search.

The list never scans the table. It runs a few small queries ("legs"), each an index walk in id
order that stops after one page, and merges them: the caller's own fleet (untagged entries, or
everything for a member without domains), one leg per domain driven by the `ItemDomain` index
(own entries plus cross-fleet ones), and the pinned entries. The page cursor is a rank:
`id` for unpinned entries and `PIN_BASE + id` for pinned ones, so ranks sort like the feed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from peewee import SQL, Expression, NodeList, fn

from fleetctl import db
from fleetctl.errors import Invalid
from fleetctl.models.base import utcnow
from fleetctl.models.core import ItemDomain, Member
from fleetctl.models.knowledge import KINDS, STATES, Knowledge, KnowledgeText
from fleetctl.services import paging, validate
from fleetctl.services.knowledge import KIND, select, to_dict
from fleetctl.services.visibility import tagged_exists

PIN_BASE = 2**40
MAX_QUERY = 500
# Search ranks the matches in windows of this many, newest window first, so a query that matches
# everything costs one window, not a sort of the whole corpus.
SEARCH_WINDOW = 1000


def tagged_with(domains: list[str]):
    """SQL condition: the entry carries one of `domains` (an index probe per entry, never a scan)."""
    return tagged_exists(Knowledge, KIND, domains)


def _filters(kinds: list[str], pinned: bool, now, state: str | None) -> list:
    """Conditions a leg adds: pinned, one of `kinds` (none: any), one state (None: any) and, given `now`,
    not expired by then."""
    conds = [Knowledge.pinned == pinned]
    if kinds:
        conds.append(Knowledge.kind.in_(kinds))
    if state:
        conds.append(Knowledge.state == state)
    if now is not None:
        conds.append(Knowledge.expires_at.is_null() | (Knowledge.expires_at > now))
    return conds


def _ids(query, key, below: int | None, want: int) -> list[int]:
    if below is not None:
        query = query.where(key < below)
    return [row[0] for row in query.order_by(key.desc()).limit(want).tuples()]


def _pinned_legs(caller: Member, override: list[str] | None, conds: list, below, want) -> list[int]:
    own = Knowledge.select(Knowledge.id).where(Knowledge.fleet == caller.fleet_id, *conds)
    if override:
        own = own.where(tagged_with(override))
    elif caller.domains:
        own = own.where((Knowledge.tagged == False) | tagged_with(caller.domains))  # noqa: E712
    ids = _ids(own, Knowledge.id, below, want)
    if caller.cross_fleet and caller.domains:
        cross = Knowledge.select(Knowledge.id).where(
            Knowledge.visibility == "cross-fleet", *conds, Knowledge.fleet != caller.fleet_id,
            tagged_with(caller.domains))
        if override:
            cross = cross.where(tagged_with(override))
        ids += _ids(cross, Knowledge.id, below, want)
    return ids


def _unpinned_legs(caller: Member, override: list[str] | None, states: tuple[str, ...], conds: Callable,
                   below, want) -> list[int]:
    # Legs on the knowledge indexes take one state each so they walk in id order; legs driven by
    # a domain's tags walk that domain whatever the state, so history needs no per-state walk.
    scope = override or caller.domains
    own = Knowledge.select(Knowledge.id).where(Knowledge.fleet == caller.fleet_id)
    if scope:
        own = own.where(Knowledge.tagged == False)  # noqa: E712
    ids = []
    if not override:
        for state in states:
            ids += _ids(own.where(*conds(state)), Knowledge.id, below, want)
    domain_conds = conds("current" if states == ("current",) else None)
    for domain in scope:
        reach = Knowledge.fleet == caller.fleet_id
        if caller.cross_fleet and caller.domains:
            cross = Knowledge.visibility == "cross-fleet"
            reach = reach | (cross if domain in caller.domains else cross & tagged_with(caller.domains))
        leg = (Knowledge.select(ItemDomain.item_id)
               .join(ItemDomain, on=(ItemDomain.item_id == Knowledge.id))
               .where(ItemDomain.kind == KIND, ItemDomain.domain == domain, reach, *domain_conds))
        ids += _ids(leg, ItemDomain.item_id, below, want)
    return ids


def feed(caller: Member, domain: list[str] | None = None, kind: str | list[str] | None = None, all: bool = False,
         limit: int | None = None, after: int | None = None) -> dict:
    """The entries the caller should read: visible, in its domains (or `domain`), of any of `kind`,
    current unless `all`."""
    kind = validate.choices(kind, KINDS, "kind")
    want = paging.clamp_limit(limit) + 1
    override = validate.domains(domain) or None
    states = STATES if all else ("current",)
    now = None if all else utcnow()
    ranks: set[int] = set()
    if after is None or after >= PIN_BASE:
        below = after - PIN_BASE if after is not None else None
        for state in states:
            legs = _pinned_legs(caller, override, _filters(kind, True, now, state), below, want)
            ranks.update(PIN_BASE + i for i in legs)
    if len(ranks) < want:
        below = after if after is not None and after < PIN_BASE else None
        ranks.update(_unpinned_legs(caller, override, states, partial(_filters, kind, False, now), below, want))
    return _page(sorted(ranks, reverse=True), want - 1)


def pinned(caller: Member, limit: int = paging.MAX_LIMIT) -> list[dict]:
    """The current pinned entries the caller sees (its domains apply), newest first: for the wake prompt."""
    ids = _pinned_legs(caller, None, _filters([], True, utcnow(), "current"), None, limit)
    return _page(sorted(ids, reverse=True), limit)["items"]


def _page(ranks: list[int], limit: int) -> dict:
    more = len(ranks) > limit
    ranks = ranks[:limit]
    rows = {e.id: e for e in select(listed=True).where(Knowledge.id.in_([r % PIN_BASE for r in ranks]))} \
        if ranks else {}
    items = [to_dict(rows[r % PIN_BASE], full=False) for r in ranks if r % PIN_BASE in rows]
    return {"items": items, "next": ranks[-1] if more else None}


def visible(caller: Member):
    """SQL condition: entries the caller may see (the rule of services/visibility.py)."""
    own = Knowledge.fleet == caller.fleet_id
    if not caller.cross_fleet or not caller.domains:
        return own
    return own | ((Knowledge.visibility == "cross-fleet") & tagged_with(caller.domains))


def fts5_query(text: str) -> str:
    """User text as an FTS5 query: every term quoted, so no input is FTS5 syntax (all terms must match)."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in text.split())


def _ranked_window(query, text: str, start: int, skip: int, count: int) -> list[Knowledge]:
    """`count` entries (listed) from the `skip`-th best match of `text` in `query` within the window of
    SEARCH_WINDOW matches that starts at the `start`-th newest: one statement that ranks that window
    only, and reads the columns of the page only."""
    if db.engine() == "postgres":
        terms = fn.websearch_to_tsquery(SQL("'english'"), text)
        window = (query.select(Knowledge.id.alias("window_id"), SQL("search_doc"))
                  .where(NodeList((SQL("search_doc"), SQL("@@"), terms)))
                  .order_by(Knowledge.id.desc()).offset(start).limit(SEARCH_WINDOW).alias("search_window"))
        score = fn.ts_rank(window.c.search_doc, terms)
        best_first = (score.desc(), window.c.window_id.desc())
        best = Knowledge.select(window.c.window_id, score.alias("score")).from_(window)
    else:
        window = (query.select(Knowledge.id.alias("window_id"), KnowledgeText.rank.alias("score"))
                  .join_from(Knowledge, KnowledgeText, on=(KnowledgeText.rowid == Knowledge.id))
                  .where(Expression(KnowledgeText.document, "MATCH", fts5_query(text)))
                  .order_by(KnowledgeText.rowid.desc()).offset(start).limit(SEARCH_WINDOW).alias("search_window"))
        best_first = (window.c.score, window.c.window_id.desc())
        best = Knowledge.select(window.c.window_id, window.c.score).from_(window)
    best = best.order_by(*best_first).offset(skip).limit(count).alias("best")
    score = best.c.score.desc() if db.engine() == "postgres" else best.c.score  # ts_rank: higher is better
    return list(select(listed=True).join_from(Knowledge, best, on=(best.c.window_id == Knowledge.id))
                .order_by(score, Knowledge.id.desc()))


def search(caller: Member, q: str, all: bool = False, limit: int | None = None, after: int | None = None,
           kind: str | list[str] | None = None, domain: list[str] | None = None) -> dict:
    """Entries whose title or body match `q` (of `kind`, tagged with one of `domain`), best first within
    each window of SEARCH_WINDOW matches, newest window first; `after` is the offset `next` gave.
    Filters apply before paging."""
    text = validate.text(q, "query", max_len=MAX_QUERY)
    if not any(ch.isalnum() for ch in text):
        raise Invalid("query must contain a word to search for")
    limit = paging.clamp_limit(limit)
    states = STATES if all else ("current",)
    query = Knowledge.select().where(visible(caller), Knowledge.state.in_(states))
    if not all:
        query = query.where(Knowledge.expires_at.is_null() | (Knowledge.expires_at > utcnow()))
    if kind:
        query = query.where(Knowledge.kind.in_(validate.choices(kind, KINDS, "kind")))
    if domain:
        query = query.where(tagged_with(validate.domains(domain)))
    offset = after or 0
    start = offset - offset % SEARCH_WINDOW
    rows = _ranked_window(query, text, start, offset - start, limit + 1)
    if offset - start + limit + 1 > SEARCH_WINDOW:  # the page (and the row after it) go on in the next window
        rows += _ranked_window(query, text, start + SEARCH_WINDOW, 0, limit + 1 - len(rows))
    more = len(rows) > limit
    return {"items": [to_dict(e, full=False) for e in rows[:limit]], "next": offset + limit if more else None}
