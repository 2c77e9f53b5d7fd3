"""The knowledge feed's entries: publish (and supersede), show, the chain, pin, unpin, retire."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

from fleetctl import db
from fleetctl.errors import Conflict, Forbidden, Invalid, NotFound
from fleetctl.models.base import iso, utcnow
from fleetctl.models.core import Fleet, Member
from fleetctl.models.knowledge import KINDS, Knowledge
from fleetctl.services import changes, prepared, previews, quota, validate, wake_streams
from fleetctl.services import visibility as vis

KIND = "knowledge"
MAX_TITLE = 300
MAX_EXPIRY = dt.timedelta(days=36500)
MAX_CHAIN = 100
DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhdw])\s*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Prepared: every publish runs it (see services/prepared.py).
INSERT = ("INSERT INTO knowledge (fleet_id, author_id, kind, title, body, domains, tagged, visibility, state, "
          "pinned, created_at, expires_at, supersedes) VALUES {rows:13} RETURNING id")


def state_of(entry: Knowledge, now: dt.datetime | None = None) -> str:
    """The entry's state; expiry is evaluated now, whatever the stored state says."""
    if entry.state == "current" and entry.expires_at is not None and entry.expires_at <= (now or utcnow()):
        return "expired"
    return entry.state


def to_dict(entry: Knowledge, full: bool = True) -> dict:
    """The entry as JSON (DESIGN §2 field names); a list item (`full=False`) has `preview` and
    `body_chars` in place of `body`."""
    return {"id": entry.id, "kind": entry.kind, "title": entry.title, **previews.body(entry, full),
            "domains": entry.domains, "visibility": entry.visibility, "author": entry.author.address,
            "created_at": iso(entry.created_at), "expires_at": iso(entry.expires_at),
            "pinned": entry.pinned, "supersedes": entry.supersedes, "superseded_by": entry.superseded_by,
            "state": state_of(entry)}


def select(listed: bool = False):
    """Entries with their author and the author's fleet loaded (one query, no lazy loads); `listed`
    selects a preview of the body instead of the body."""
    entry = previews.listed(Knowledge, Knowledge.body) if listed else [Knowledge]
    return (Knowledge.select(*entry, Member, Fleet)
            .join(Member, on=(Knowledge.author == Member.id))
            .join(Fleet, on=(Member.fleet == Fleet.id)))


def get(caller: Member, entry_id: int) -> Knowledge:
    """One entry the caller may see, else 404 exactly as if it did not exist."""
    entry = select().where(Knowledge.id == entry_id).first() if 0 < entry_id < 2**62 else None
    if entry is None or not vis.can_see(caller, entry):
        raise NotFound(f"knowledge entry {entry_id} not found")
    return entry


def parse_duration(text: str) -> dt.timedelta:
    """'90s', '30m', '3h', '7d', '2w' as a timedelta; anything else is a 422."""
    match = DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise Invalid(f"invalid duration {text!r}: use a number and a unit, such as 90s, 30m, 3h, 7d or 2w")
    delta = dt.timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
    if not delta:
        raise Invalid(f"invalid duration {text!r}: it must be longer than zero")
    return delta


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time as naive UTC (a time without an offset is taken as UTC)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise Invalid(f"invalid time {text!r}: use ISO 8601, such as 2030-01-31T12:00:00Z") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def expiry(expires_at: str | None, expires_in: str | None, now: dt.datetime) -> dt.datetime | None:
    """When a new entry expires, from `expires_at` (ISO) or `expires_in` (duration); must be in the future."""
    if expires_at is not None and expires_in is not None:
        raise Invalid("give expires_at or expires_in, not both")
    if expires_in is not None:
        delta = parse_duration(expires_in)
        if delta > MAX_EXPIRY:
            raise Invalid(f"expiry {expires_in!r} is too far away; at most 100 years")
        return now + delta
    if expires_at is None:
        return None
    moment = parse_time(expires_at)
    if moment <= now:
        raise Invalid(f"expiry {expires_at} is in the past")
    if moment - now > MAX_EXPIRY:
        raise Invalid(f"expiry {expires_at} is too far away; at most 100 years from now")
    return moment


def _title(title: str) -> str:
    title = validate.text(title, "title", max_len=MAX_TITLE)
    if "\n" in title or "\r" in title:
        raise Invalid("title must be one line")
    return title


def _superseded(caller: Member, old_id: int) -> Knowledge:
    old = get(caller, old_id)
    if old.fleet_id != caller.fleet_id:
        raise Forbidden(f"knowledge entry {old_id} belongs to fleet {old.author.fleet.name!r}; "
                        "only its own fleet can supersede it")
    _require_replaceable(old)
    return old


def _require_replaceable(old: Knowledge) -> None:
    if old.state == "superseded":
        raise Conflict(f"knowledge entry {old.id} is already superseded by {old.superseded_by}")
    if old.state == "retired":
        raise Conflict(f"knowledge entry {old.id} is retired")


_last_sweep = [0.0]


def sweep_expired(now: dt.datetime) -> None:
    """Store `expired` on entries whose time has passed, so the feed's index walks skip them.

    At most once a second per process: reads check `expires_at` themselves, so this only keeps the
    stored state (and the feed's indexes) tidy, and need not cost every publish a statement.
    """
    if time.monotonic() - _last_sweep[0] < 1.0:
        return
    _last_sweep[0] = time.monotonic()
    (Knowledge.update(state="expired")
     .where(Knowledge.state == "current", Knowledge.expires_at <= now).execute())


def publish(caller: Member, kind: str, title: str, body: str | None = None, domains: list[str] | None = None,
            supersedes: int | None = None, expires_at: str | None = None, expires_in: str | None = None,
            pinned: bool = False, visibility: str | None = None) -> dict:
    """Publish an entry; with `supersedes`, it replaces that entry of the caller's own fleet."""
    now = utcnow()
    fields = {"kind": validate.choice(kind, KINDS, "kind"), "title": _title(title), "body": validate.body(body),
              "domains": validate.domains(domains), "visibility": validate.visibility(visibility),
              "expires_at": expiry(expires_at, expires_in, now), "pinned": bool(pinned)}
    if supersedes is not None:
        old = _superseded(caller, supersedes)
        if domains is None:  # a replacement reaches the same readers unless told otherwise
            fields["domains"] = old.domains
        if visibility is None:
            fields["visibility"] = old.visibility
        fields["pinned"] = fields["pinned"] or old.pinned  # the pin follows the replacement
    with db.write():
        sweep_expired(now)
        entry = Knowledge(fleet=caller.fleet_id, author=caller.id, created_at=now, tagged=bool(fields["domains"]),
                          supersedes=supersedes, state="current", **fields)
        entry.id = prepared.run(INSERT, (
            entry.fleet_id, entry.author_id, entry.kind, entry.title, entry.body, json.dumps(entry.domains),
            entry.tagged, entry.visibility, entry.state, entry.pinned, now, entry.expires_at, supersedes,
        )).fetchone()[0]
        vis.set_domains(KIND, entry.id, entry.domains, new=True)
        if supersedes is not None:
            # Conditional, so two racing replacements cannot both supersede the same entry.
            done = (Knowledge.update(state="superseded", superseded_by=entry.id, pinned=False)
                    .where(Knowledge.id == supersedes, Knowledge.state.in_(("current", "expired")))
                    .execute())
            if done != 1:
                _require_replaceable(Knowledge.get_by_id(supersedes))
                raise Conflict(f"knowledge entry {supersedes} changed while publishing; try again")
        quota.charge(caller.fleet_id, quota.size_of(fields["title"], fields["body"]))
        # Changes are recorded last: the change-order lock must never be held while waiting for a row.
        # A superseded entry is no longer news: only its replacement (which names it) is recorded.
        section = "breaking" if entry.kind == "breaking" else "knowledge"
        changes.record(KIND, entry.id, caller.fleet_id, "published",
                       wake_streams.broadcast(section, caller.fleet_id, entry.domains, entry.visibility),
                       actor_id=caller.id)
    entry.author = caller  # the entry as written; no read-back
    return to_dict(entry)


def show(caller: Member, entry_id: int) -> dict:
    """One entry the caller may see, as JSON."""
    return to_dict(get(caller, entry_id))


def chain(caller: Member, entry_id: int, full: bool = True) -> list[dict]:
    """The supersession chain through an entry, oldest first (entries the caller cannot see end it); as list
    items with `full=False`."""
    entry = get(caller, entry_id)
    older, newer = [], []
    for link, out in (("supersedes", older), ("superseded_by", newer)):
        cursor = entry
        while getattr(cursor, link) is not None and len(out) < MAX_CHAIN:
            try:
                cursor = get(caller, getattr(cursor, link))
            except NotFound:
                break
            out.append(cursor)
    return [to_dict(e, full) for e in [*reversed(older), entry, *newer]]


def _own(caller: Member, entry: Knowledge, what: str) -> None:
    if entry.fleet_id != caller.fleet_id:
        raise Forbidden(f"only members of fleet {entry.author.fleet.name!r} can {what} its entries")


def _author_or_owner(caller: Member, entry: Knowledge, what: str) -> None:
    _own(caller, entry, what)
    if entry.author_id != caller.id and caller.role != "owner":
        raise Forbidden(f"only the author ({entry.author.address}) or an owner can {what} this entry")


def pin(caller: Member, entry_id: int) -> dict:
    """Pin an entry of the caller's fleet (any member of that fleet)."""
    entry = get(caller, entry_id)
    _own(caller, entry, "pin")
    if state_of(entry) != "current":
        raise Conflict(f"knowledge entry {entry_id} is {state_of(entry)}; only current entries can be pinned")
    with db.write():
        # Pinned entries are in every wake already: a pin is not news of its own.
        Knowledge.update(pinned=True).where(Knowledge.id == entry_id).execute()
    return show(caller, entry_id)


def unpin(caller: Member, entry_id: int) -> dict:
    """Unpin an entry (its author or an owner of its fleet)."""
    entry = get(caller, entry_id)
    _author_or_owner(caller, entry, "unpin")
    if entry.pinned:
        with db.write():
            Knowledge.update(pinned=False).where(Knowledge.id == entry_id).execute()
    return show(caller, entry_id)


def retire(caller: Member, entry_id: int) -> dict:
    """Take an entry out of the feed for good (its author or an owner of its fleet)."""
    entry = get(caller, entry_id)
    _author_or_owner(caller, entry, "retire")
    _require_replaceable(entry)
    with db.write():
        (Knowledge.update(state="retired")
         .where(Knowledge.id == entry_id, Knowledge.state.in_(("current", "expired"))).execute())
    return show(caller, entry_id)
