"""Reading one section of a member's news: its streams after its mark, oldest first, as items.

Rows are read in windows (an index walk on `(stream, seq)` per stream the member reads), so the
cost of a wake grows with the member's own pending news only. Consecutive rows about the same
item and event (one write fans out to several streams; several versions of one document) form one
run; a section's `classify` turns runs into items, dropping runs that are no longer news.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import fn

from fleetctl.models.core import Change, Member
from fleetctl.services import wake_streams

PAGE = 25  # items per section per wake; the rest waits for the next wake
WINDOW = PAGE + 2  # rows per read: a page and one more once a full window's last write is set aside
# (and at least one more row than the member's streams, the widest fan-out of one write)
COUNT_CAP = 1000  # pending items beyond what was read are counted up to this many ("1000+")


@dataclass
class Run:
    """Consecutive rows of one section about one item and event."""

    rows: list[tuple] = field(default_factory=list)  # (seq, kind, ref_id, event, note, actor)

    @property
    def first(self) -> int:
        return self.rows[0][0]

    @property
    def ref_id(self) -> int:
        return self.rows[-1][2]

    @property
    def event(self) -> str:
        return self.rows[-1][3]

    @property
    def note(self) -> str | None:
        return self.rows[-1][4]

    @property
    def actor(self) -> int | None:
        return self.rows[-1][5]


@dataclass
class Item:
    """One piece of news: the JSON item, the actions it suggests, and the first row it came from."""

    first: int
    data: dict
    actions: list = field(default_factory=list)


@dataclass
class Section:
    """A section's live items (oldest first, up to one more than a page), the last row read, and
    how many pending items lie beyond what was read."""

    key: str
    items: list[Item] = field(default_factory=list)
    end: int = 0
    beyond: int = 0
    capped: bool = False  # more than `beyond` lie beyond

    def mark_after(self, shown: int) -> int:
        """The section's mark once its first `shown` items are handed over."""
        return self.items[shown].first - 1 if shown < len(self.items) else self.end

    def waiting(self, shown: int) -> int:
        """Items still pending once the first `shown` are handed over."""
        return len(self.items) - shown + self.beyond


Classify = Callable[[Member, list[Run]], list[Item]]


def _window(streams: list[str], after: int, horizon: int | None) -> tuple[list[tuple], bool]:
    size = max(WINDOW, len(streams) + 1)
    query = (Change.select(Change.seq, Change.kind, Change.ref_id, Change.event, Change.note, Change.actor)
             .where(Change.stream.in_(streams), Change.seq > after).order_by(Change.seq).limit(size))
    rows = list(query.tuples())
    full = len(rows) == size
    if horizon is not None and rows and rows[-1][0] > horizon:
        # Never past the horizon (`changes.horizon`): a change below it may still commit. Cut here, not
        # in SQL: a `seq <=` bound made PostgreSQL walk the whole sequence range behind an old mark.
        # One write's rows all lie on one side of the horizon, so no write is split.
        rows, full = [r for r in rows if r[0] <= horizon], False
    if full:  # the last write's rows may go on beyond the window: leave them whole for the next read
        tail = rows[-1][1:4]
        while rows and rows[-1][1:4] == tail:
            rows.pop()
    return rows, full


def runs(rows: list[tuple]) -> list[Run]:
    """Rows grouped into runs of consecutive rows with the same kind, item and event."""
    out: list[Run] = []
    for row in rows:
        if out and out[-1].rows[-1][1:4] == row[1:4]:
            out[-1].rows.append(row)
        else:
            out.append(Run([row]))
    return out


def _beyond(streams: list[str], after: int) -> int:
    pending = (Change.select(Change.ref_id, Change.event).distinct()
               .where(Change.stream.in_(streams), Change.seq > after).limit(COUNT_CAP))
    return Change.select(fn.COUNT(1)).from_(pending.alias("pending")).scalar() or 0


def read(member: Member, key: str, mark: int, classify: Classify, horizon: int | None = None) -> Section:
    """The section `key` of `member` after `mark` and up to `horizon` (`changes.horizon()`; None: no
    bound): at least a page of items when that many are pending."""
    streams = wake_streams.of_member(key, member)
    section = Section(key, end=mark)
    while len(section.items) <= PAGE:
        rows, full = _window(streams, section.end, horizon)
        if rows:
            section.items += classify(member, runs(rows))
            section.end = rows[-1][0]
        if not full:
            return section
        if not rows:  # cannot happen while a window exceeds the widest fan-out; never loop on it
            break
    section.beyond = _beyond(streams, section.end)  # a count only: what committed past the horizon counts
    section.capped = section.beyond >= COUNT_CAP
    return section
