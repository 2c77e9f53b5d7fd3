"""How far each member's news has been handed over: one mark per news section.

A mark is a change `seq`: every row of the member's streams of that section up to it was shown
in a prompt that was handed over (or was no longer news when read). Marks only move by
compare-and-set from the values a prompt was built on, so two wakes can never both hand over the
same items, and a stale acknowledgement moves nothing.
"""

from __future__ import annotations

from peewee import fn

from fleetctl import db
from fleetctl.models.base import utcnow
from fleetctl.models.core import Change, Member
from fleetctl.models.wake import WakeCursor, WakeMarks
from fleetctl.services import changes
from fleetctl.wake_layout import MARKED


def top_seq() -> int:
    """The newest change sequence number (0 on an empty database)."""
    return Change.select(fn.MAX(Change.seq)).scalar() or 0


def start(member: Member) -> None:
    """A new member's marks (inside its registration transaction): news starts now (at the horizon: a
    change that may still commit is news), history stays in the feeds."""
    top = changes.horizon()
    top = top_seq() if top is None else top
    WakeMarks.insert(member=member.id, **dict.fromkeys(MARKED, top)).on_conflict_ignore().execute()


def current(member: Member) -> tuple[int, ...]:
    """The member's marks in section order; a member without a row (registered before migration 9)
    starts at its old single cursor."""
    row = WakeMarks.get_or_none(WakeMarks.member == member.id)
    if row is not None:
        return tuple(getattr(row, s) for s in MARKED)
    old = WakeCursor.get_or_none(WakeCursor.member == member.id)
    return (old.cursor if old else 0,) * len(MARKED)


def move(member: Member, before: tuple[int, ...], after: tuple[int, ...]) -> bool:
    """Set the marks to `after` if they are still `before`; False if someone moved them meanwhile."""
    with db.write():
        # An upgraded member's first move writes its row (a no-op when the row exists).
        WakeMarks.insert(member=member.id, **dict(zip(MARKED, before, strict=True))).on_conflict_ignore().execute()
        same = [getattr(WakeMarks, s) == v for s, v in zip(MARKED, before, strict=True)]
        return bool(WakeMarks.update(updated_at=utcnow(), **dict(zip(MARKED, after, strict=True)))
                    .where(WakeMarks.member == member.id, *same).execute())
