"""Bounded reads of the change sequence for one wake: which items changed in (cursor, top].

Every read walks an index on `change` newest first and examines at most `SCAN_CAP` change rows per
stream, so a member whose cursor is far behind (a new member at cursor 0) costs the same as one
that woke a minute ago; what lies beyond the cap is reported as "more", never scanned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from fleetctl.models.core import Change, Member
from fleetctl.services.visibility import can_see

SCAN_CAP = 150
ITEM_LIMIT = 25


@dataclass
class Span:
    """The member being woken and the half-open range (cursor, top] of change sequence numbers."""

    member: Member
    cursor: int
    top: int
    memo: dict = field(default_factory=dict)
    _floors: dict = field(default_factory=dict)

    def floor(self, key: str, *where) -> tuple[int, bool]:
        """Lowest seq to examine for one stream, and whether older changes were left unscanned."""
        if self.top - self.cursor <= SCAN_CAP:  # a short range: no stream can overflow the window
            return self.cursor + 1, False
        if key not in self._floors:
            beyond = (Change.select(Change.seq)
                      .where(*where, Change.seq > self.cursor, Change.seq <= self.top)
                      .order_by(Change.seq.desc()).offset(SCAN_CAP).limit(1).scalar())
            self._floors[key] = (beyond + 1, True) if beyond is not None else (self.cursor + 1, False)
        return self._floors[key]


@dataclass
class Section:
    """One section of a wake: the items shown, how many matched, and whether more may exist."""

    key: str
    items: list[dict] = field(default_factory=list)
    total: int = 0
    more: bool = False


@dataclass
class Hits:
    """Changed items of one section, newest first, one entry per item (its newest event)."""

    order: list[int] = field(default_factory=list)
    events: dict[int, str] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    truncated: bool = False

    def add(self, ref_id: int, event: str) -> None:
        if ref_id not in self.events:
            self.order.append(ref_id)
            self.events[ref_id] = event
        self.counts[ref_id] = self.counts.get(ref_id, 0) + 1

    @property
    def shown(self) -> list[int]:
        return self.order[:ITEM_LIMIT]

    def section(self, key: str, render) -> Section:
        """The section with the first `ITEM_LIMIT` items rendered by `render(ids) -> {id: item}`."""
        rendered = render(self.shown) if self.order else {}
        items = [rendered[i] for i in self.shown if i in rendered]
        return Section(key, items, len(self.order) - (len(self.shown) - len(items)), self.truncated)


def targeted(span: Span, kind: str) -> tuple:
    """Stream of changes of `kind` addressed to the member (index member, kind, seq)."""
    return (f"member:{kind}", Change.member == span.member.id, Change.kind == kind)


def broadcast(kind: str, fleet_id: int | None = None) -> tuple:
    """Stream of changes of `kind` for everyone who may see the item (index kind, seq or fleet, kind, seq).

    Broadcast events (published, superseded, version, in_review) are the only events of their
    names and carry no member, so the stream needs no `member IS NULL` test (which would lead
    SQLite to the member index).
    """
    if fleet_id is not None:
        return (f"fleet:{fleet_id}:{kind}", Change.fleet == fleet_id, Change.kind == kind)
    return (f"all:{kind}", Change.kind == kind)


def by_id(model, *columns, on=None) -> tuple:
    """Where `scan` finds a change's item: `model` joined on its primary key (or `on`), and the
    columns it reads. The join has no other condition, so whatever the table statistics (a fresh
    bulk load on PostgreSQL has none) the plan walks the change index and probes the item's key;
    every other test runs in Python on the bounded window."""
    return model, (model.id == Change.ref_id) if on is None else on, columns


def scan(span: Span, source: tuple, parts: list[tuple]) -> tuple[list[tuple], bool]:
    """Rows `(seq, ref_id, event, *columns)`, newest first, from parts `(stream, events[, keep])`: the
    changes in the span's window of that stream with one of `events` whose item `source` finds
    and `keep(row)` accepts; and whether a window was cut at `SCAN_CAP`."""
    model, on, columns = source
    rows: list[tuple] = []
    truncated = False
    if span.cursor >= span.top:  # caught up: nothing changed, nothing to read
        return rows, truncated
    for (key, *where), events, *keep in parts:
        low, cut = span.floor(key, *where)
        truncated |= cut
        query = (Change.select(Change.seq, Change.ref_id, Change.event, *columns).join(model, on=on)
                 .where(*where, Change.event.in_(events), Change.seq >= low, Change.seq <= span.top))
        rows.extend(row for row in query.tuples() if not keep or keep[0](row))
    return sorted(rows, reverse=True), truncated


def hits(rows: list[tuple], truncated: bool) -> Hits:
    """Rows of `scan` as one entry per item."""
    found = Hits(truncated=truncated)
    for row in rows:
        found.add(row[1], row[2])
    return found


def collect(span: Span, lookup, parts: list[tuple]) -> Hits:
    """`scan` as `Hits`."""
    return hits(*scan(span, lookup, parts))


def sees(member: Member, fleet_id: int, visibility: str, domains: list[str]) -> bool:
    """The member may see the item (`visibility.can_see`, the one rule) and it matches its domains."""
    item = SimpleNamespace(fleet_id=fleet_id, visibility=visibility, domains=domains)
    return can_see(member, item) and (not member.domains or not domains or bool(set(domains) & set(member.domains)))

