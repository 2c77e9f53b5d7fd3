"""The wake: a member's pending news, handed over part by part, each item exactly once.

News lives in per-member and per-fleet streams of the change sequence (wake_streams), and each
member has one mark per news section (wake_marks). A wake reads each section after its mark
(oldest first), renders what fits the budget, and hands over exactly that: the new marks stop
before the first item not shown, so what was cut stays pending and comes first next time.

The cursor a wake returns is opaque: `MEMBER:BEFORE:AFTER`, the marks the prompt was built on
and the marks once it is handed over. `ack` moves the marks from BEFORE to AFTER, so it
acknowledges exactly the items that prompt held; any other state of the marks is a stale cursor.
"""

from __future__ import annotations

import re
import threading
import weakref

from fleetctl.errors import Conflict, Invalid
from fleetctl.models.core import Change, Member
from fleetctl.schemas.limits import DEFAULT_MAX_CHARS
from fleetctl.services import changes, knowledge_feed, messages, wake_actions, wake_marks, wake_read, wake_render
from fleetctl.services.wake_read import Item
from fleetctl.services.wake_sections import READERS
from fleetctl.services.wake_streams import to_member
from fleetctl.wake_layout import BY_KEY, MARKED

PINNED_LIMIT = 20
MOVE_TRIES = 5
_MARKS = rf"\d{{1,18}}(?:\.\d{{1,18}}){{{len(MARKED) - 1}}}"
CURSOR = re.compile(rf"^(\d{{1,18}}):({_MARKS}):({_MARKS})$")




def encode(member: Member, before: tuple[int, ...], after: tuple[int, ...]) -> str:
    """The opaque cursor of a prompt."""
    return f"{member.id}:{'.'.join(map(str, before))}:{'.'.join(map(str, after))}"


def decode(member: Member, cursor) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The marks a cursor holds; 422 for a malformed cursor, another member's, or one from the future."""
    match = CURSOR.match(cursor) if isinstance(cursor, str) else None
    if match is None:
        raise Invalid("malformed wake cursor: pass the `cursor` string a wake returned, exactly as returned")
    before, after = (tuple(int(n) for n in match.group(i).split(".")) for i in (2, 3))
    if int(match.group(1)) != member.id:
        raise Invalid(f"this wake cursor belongs to another member, not to {member.address}")
    if any(b > a for b, a in zip(before, after, strict=True)) or max(after) > wake_marks.top_seq():
        raise Invalid("this wake cursor is not one the server returned (it is beyond the newest change)")
    return before, after


def _pinned(member: Member) -> list[Item]:
    return [Item(0, {k: e[k] for k in ("id", "kind", "title", "author", "domains", "supersedes", "created_at")},
                 [wake_actions.read("knowledge", e["id"])]) for e in knowledge_feed.pinned(member, PINNED_LIMIT)]


def _item_json(item: Item, style: str) -> dict:
    actions = [a.as_dict(style) for a in item.actions]
    return {**item.data, "command": actions[0]["command"], "actions": actions}


def peek(member: Member, max_chars: int | None = None, commands: str | None = None) -> dict:
    """The next part of the member's news, with no side effect at all: `{cursor, empty, prompt,
    sections, counts, waiting}`. `sections` hold exactly the items the prompt shows."""
    budget, style = max_chars or DEFAULT_MAX_CHARS, commands or "cli"  # checked by schemas.wake
    before = wake_marks.current(member)
    horizon = changes.horizon()  # PostgreSQL: never past a change that may still commit
    sections = [wake_read.read(member, key, mark, READERS[BY_KEY[key].kind].classify, horizon)
                for key, mark in zip(MARKED, before, strict=True)]
    pinned = _pinned(member)
    prompt = wake_render.Prompt(member.address, sections, pinned, style, wake_read.PAGE)
    text = prompt.fit(budget)
    after = tuple(s.mark_after(n) for s, n in zip(sections, prompt.shown, strict=True))
    out_sections = {s.key: [_item_json(i, style) for i in s.items[:n]]
                    for s, n in zip(sections, prompt.shown, strict=True)}
    out_sections["pinned"] = [_item_json(i, style) for i in pinned]
    counts = {s.key: {"total": n + s.waiting(n), "shown": n, "waiting": s.waiting(n), "more": s.waiting(n) > 0,
                      "at_least": s.capped} for s, n in zip(sections, prompt.shown, strict=True)}
    counts["pinned"] = {"total": len(pinned), "shown": prompt.pins, "waiting": 0, "more": False, "at_least": False}
    waiting = prompt.waiting()
    return {"cursor": encode(member, before, after), "empty": not sum(prompt.shown) and not waiting,
            "prompt": text, "sections": out_sections, "counts": counts, "waiting": waiting}


_locks: weakref.WeakValueDictionary[int, threading.Lock] = weakref.WeakValueDictionary()
_locks_guard = threading.Lock()


def _member_lock(member_id: int) -> threading.Lock:
    """One lock per member woken in this process: its wakes take turns instead of racing."""
    with _locks_guard:
        lock = _locks.get(member_id)
        if lock is None:
            lock = _locks[member_id] = threading.Lock()
        return lock


def wake(member: Member, max_chars: int | None = None, commands: str | None = None) -> dict:
    """Hand over the next part of the news: peek, then move the marks past exactly what it shows.

    Wakes of one member take turns in this process; against another server's wake the marks'
    compare-and-set decides, and the loser builds its prompt again from the new marks."""
    with _member_lock(member.id):
        for _ in range(MOVE_TRIES):
            result = peek(member, max_chars, commands)
            before, after = decode(member, result["cursor"])
            if before == after or _move(member, before, after):
                return result
    raise Conflict("the wake cursor kept moving under concurrent wakes of the same member; try again")


def ack(member: Member, cursor) -> dict:
    """Acknowledge a peeked prompt: exactly its items count as handed over. Acknowledging it twice
    is harmless; a cursor whose marks are no longer the member's (another wake handed news over
    since the peek) is stale: 422, nothing moves."""
    before, after = decode(member, cursor)
    now = wake_marks.current(member)
    if now == after:
        return {"cursor": cursor, "moved": False}
    if now != before or not _move(member, before, after):
        raise Invalid("stale wake cursor: news was handed over since this peek; peek again and acknowledge "
                      "the new cursor")
    return {"cursor": cursor, "moved": True}


def _move(member: Member, before: tuple[int, ...], after: tuple[int, ...]) -> bool:
    """Move the marks; messages handed over count as delivered."""
    if not wake_marks.move(member, before, after):
        return False
    index = MARKED.index("messages")
    if after[index] > before[index]:
        ids = [ref for (ref,) in Change.select(Change.ref_id).where(
            Change.stream == to_member("messages", member.id), Change.seq > before[index],
            Change.seq <= after[index]).tuples()]
        messages.mark_delivered(member, ids)
    return True
