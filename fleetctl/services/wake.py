"""The wake prompt: what changed for a member since its cursor, and the cursor itself.

The cursor is a change sequence number (`Change.seq`). A wake reads the newest sequence number
first and only reports changes up to it, then returns it as the new cursor: a change committed
while the wake is assembled has a higher number and appears in the next wake, never in none.
"""

from __future__ import annotations

from peewee import fn

from fleetctl import db
from fleetctl.errors import Invalid
from fleetctl.models.base import utcnow
from fleetctl.models.core import Change, Member
from fleetctl.models.wake import WakeCursor
from fleetctl.services import messages, wake_render, wake_sections
from fleetctl.services.wake_stream import Span

DEFAULT_MAX_CHARS = 8000
MIN_MAX_CHARS = 200
MAX_MAX_CHARS = 1_000_000
DELIVER_CHUNK = 500


def top_seq() -> int:
    """The newest change sequence number (0 on an empty database)."""
    return Change.select(fn.MAX(Change.seq)).scalar() or 0


def cursor_of(member: Member) -> int:
    """The member's cursor; a member that never acknowledged a wake is at 0."""
    row = WakeCursor.get_or_none(WakeCursor.member == member.id)
    return row.cursor if row else 0


def _max_chars(value: int | None) -> int:
    if value is None:
        return DEFAULT_MAX_CHARS
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_MAX_CHARS <= value <= MAX_MAX_CHARS:
        raise Invalid(f"max_chars must be a whole number from {MIN_MAX_CHARS} to {MAX_MAX_CHARS}")
    return value


def peek(member: Member, max_chars: int | None = None) -> dict:
    """The wake for `member` without any side effect: `{cursor, empty, prompt, sections, counts}`.

    `sections` hold the items shown (at most a page each); `counts` says how many changed in each
    section (`more`: at least that many, older ones were not counted)."""
    budget = _max_chars(max_chars)
    top = top_seq()  # first: everything reported is <= top, everything later waits for the next wake
    span = Span(member, min(cursor_of(member), top), top)
    sections = wake_sections.assemble(span)
    news = [s for s in sections if s.key != "pinned"]
    return {
        "cursor": top,
        "empty": not any(s.total or s.more for s in news),
        "prompt": wake_render.render(member.address, sections, budget),
        "sections": {s.key: s.items for s in sections},
        "counts": {s.key: {"total": max(s.total, len(s.items)), "more": s.more} for s in sections},
    }


def wake(member: Member, max_chars: int | None = None) -> dict:
    """Assemble the wake and advance the cursor past it (messages in it count as delivered)."""
    result = peek(member, max_chars)
    advance(member, result["cursor"])
    return result


def ack(member: Member, cursor: int) -> dict:
    """Advance the cursor to `cursor` (a cursor from a peek); never backwards, never past the newest change."""
    if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
        raise Invalid("cursor must be a whole number of at least 0, as returned by a wake")
    top = top_seq()
    if cursor > top:
        raise Invalid(f"cursor {cursor} is beyond the newest change ({top}); use a cursor a wake returned")
    previous = advance(member, cursor)
    return {"cursor": max(previous, cursor), "previous": previous}


def advance(member: Member, cursor: int) -> int:
    """Move the cursor forward to `cursor` (no-op if it is already there); returns the previous cursor."""
    with db.write():
        WakeCursor.insert(member=member.id, cursor=0).on_conflict_ignore().execute()
        previous = cursor_of(member)
        moved = (WakeCursor.update(cursor=cursor, updated_at=utcnow())
                 .where(WakeCursor.member == member.id, WakeCursor.cursor < cursor).execute())
        if moved:
            _deliver(member, previous, cursor)
    return previous


def _deliver(member: Member, after: int, upto: int) -> None:
    """Mark the messages the member received in (after, upto] as delivered."""
    received = (Change.select(Change.ref_id)
                .where(Change.member == member.id, Change.kind == "message", Change.seq > after,
                       Change.seq <= upto)
                .order_by(Change.seq))
    ids = [ref for (ref,) in received.tuples()]
    for start in range(0, len(ids), DELIVER_CHUNK):
        messages.mark_delivered(member, ids[start:start + DELIVER_CHUNK])
