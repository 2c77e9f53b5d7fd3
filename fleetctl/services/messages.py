"""Messages: store-and-forward mail between members, all-or-nothing under the cross-fleet policy."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable

from fleetctl import db
from fleetctl.errors import Invalid, NotFound
from fleetctl.models.base import iso, utcnow
from fleetctl.models.core import Fleet, Member
from fleetctl.models.messages import Delivery, Message
from fleetctl.services import changes, paging, policy, prepared, previews, quota, validate, wake_streams

MAX_RECIPIENTS = 100
MAX_SUBJECT = 300
# Inbox cursors say which part of "unread first, then newest" they stopped in: unread ones carry this bit.
UNREAD_BIT = 2**40
# Prepared: every send runs them (see services/prepared.py).
_MEMBER = (Member.id, Member.name, Member.role, Member.domains, Member.cross_fleet, Member.allow_fleets,
           Member.rate_limit, Member.created_at, Member.revoked_at)
_FLEET = (Fleet.id, Fleet.name, Fleet.rate_limit, Fleet.created_at, Fleet.quota_bytes, Fleet.usage_bytes)
RECIPIENT = ("SELECT " + ", ".join(f"m.{f.column_name}" for f in _MEMBER) + ", "
             + ", ".join(f"f.{f.column_name}" for f in _FLEET)
             + " FROM member m JOIN fleet f ON f.id = m.fleet_id WHERE f.name = {p} AND m.name = {p}")
INSERT = ("INSERT INTO messages (fleet_id, sender_id, subject, body, domains, thread, reply_to_id, created_at) "
          "VALUES {rows:8} RETURNING id")
DELIVER = "INSERT INTO message_deliveries (message_id, recipient_id) VALUES {rows:2}"


def _recipient(caller: Member, fleet_name: str, name: str) -> Member:
    """One member by fleet and name, its fleet loaded (the caller's own when it is the same); 404 if unknown."""
    row = prepared.run(RECIPIENT, (fleet_name, name)).fetchone()
    if row is None:
        raise NotFound(f"no member {fleet_name}/{name}")
    member = Member(**{f.name: f.python_value(v) for f, v in zip(_MEMBER, row[:len(_MEMBER)], strict=True)})
    if member.fleet_id == caller.fleet_id:
        member.fleet = caller.fleet
    else:
        member.fleet = Fleet(**{f.name: f.python_value(v) for f, v in zip(_FLEET, row[len(_MEMBER):], strict=True)})
    return member


def _recipients(caller: Member, addresses: Iterable[str]) -> list[Member]:
    """Resolve `name` / `fleet/name` addresses to members, duplicates collapsed, order kept; 404 if unknown."""
    targets: dict[int, Member] = {}
    for address in addresses:
        if not isinstance(address, str):
            raise Invalid("recipients are 'name' or 'fleet/name' strings")
        fleet_name, _, name = address.strip().rpartition("/")
        if fleet_name:
            validate.fleet_name(fleet_name)
        validate.member_name(name)
        target = _recipient(caller, fleet_name or caller.fleet.name, name)
        targets.setdefault(target.id, target)
    if not targets:
        raise Invalid("a message needs at least one recipient")
    if len(targets) > MAX_RECIPIENTS:
        raise Invalid(f"too many recipients ({len(targets)}); at most {MAX_RECIPIENTS}")
    return list(targets.values())



def _readable_clause(caller: Member):
    """SQL condition: messages the caller sent or received (nobody else may read them)."""
    received = Delivery.select(Delivery.message).where(Delivery.recipient == caller.id)
    return (Message.sender == caller.id) | Message.id.in_(received)


def _select(listed: bool = False):
    """Messages with their sender loaded; `listed` selects a preview of the body instead of the body."""
    message = previews.listed(Message, Message.body) if listed else [Message]
    return (Message.select(*message, Member, Fleet)
            .join(Member, on=(Message.sender == Member.id))
            .join(Fleet, on=(Member.fleet == Fleet.id)))


def _readable(caller: Member, message_id: int) -> Message:
    """A message the caller may read, else 404 exactly as if it did not exist."""
    msg = _select().where(Message.id == message_id, _readable_clause(caller)).first()
    if msg is None:
        raise NotFound(f"message {message_id} not found")
    return msg


def _deliveries(message_ids: list[int]) -> dict[int, list[Delivery]]:
    rows = (Delivery.select(Delivery, Member, Fleet)
            .join(Member, on=(Delivery.recipient == Member.id))
            .join(Fleet, on=(Member.fleet == Fleet.id))
            .where(Delivery.message.in_(message_ids)).order_by(Delivery.id))
    out: dict[int, list[Delivery]] = defaultdict(list)
    for row in rows:
        out[row.message_id].append(row)
    return out


def _render(msg: Message, deliveries: list[Delivery], viewer: Member, with_body: bool) -> dict:
    data = {"id": msg.id, "sender": msg.sender.address,
            "recipients": [d.recipient.address for d in deliveries], "subject": msg.subject,
            **previews.body(msg, with_body)}
    mine = next((d for d in deliveries if d.recipient_id == viewer.id), None)
    data.update({"domains": msg.domains, "thread": msg.thread_id, "reply_to": msg.reply_to_id,
                 "created_at": iso(msg.created_at),
                 "delivered_at": iso(mine.delivered_at) if mine else None,
                 "read_at": iso(mine.read_at) if mine else None})
    if msg.sender_id == viewer.id:
        data["deliveries"] = [{"recipient": d.recipient.address, "delivered_at": iso(d.delivered_at),
                               "read_at": iso(d.read_at)} for d in deliveries]
    return data


def to_dicts(messages: list[Message], viewer: Member, with_body: bool = True) -> list[dict]:
    """Messages as JSON for `viewer`: its own delivered_at/read_at, and `deliveries` if it sent them."""
    deliveries = _deliveries([m.id for m in messages]) if messages else {}
    return [_render(m, deliveries.get(m.id, []), viewer, with_body) for m in messages]


def send(caller: Member, recipients: list[str], subject: str, body: str | None = None,
         domains: list[str] | None = None, reply_to: int | None = None) -> dict:
    """Send one message to every recipient or to none: one unknown or refused recipient stops it all.

    A reply with no domains of its own carries the domains of the message it answers.
    """
    subject = validate.text(subject, "subject", max_len=MAX_SUBJECT)
    body = validate.body(body)
    domains = validate.domains(domains)
    with db.write():
        # Targets are loaded and checked inside the transaction: a policy change applies at once.
        targets = _recipients(caller, recipients or [])
        parent = _readable(caller, reply_to) if reply_to is not None else None
        if parent is not None and not domains:
            domains = parent.domains
        for target in targets:
            policy.check_delivery(caller, target, domains, "message")
        msg = Message(fleet=caller.fleet_id, sender=caller.id, subject=subject, body=body, domains=domains,
                      reply_to=parent.id if parent else None, thread=parent.thread_id if parent else None)
        msg.id = prepared.run(INSERT, (msg.fleet_id, msg.sender_id, subject, body, json.dumps(domains), msg.thread,
                                       msg.reply_to_id, msg.created_at)).fetchone()[0]
        prepared.run(DELIVER, [v for t in targets for v in (msg.id, t.id)], rows=len(targets))
        quota.charge(caller.fleet_id, quota.size_of(subject, body))
        changes.record("message", msg.id, caller.fleet_id, "received",
                       [wake_streams.to_member("messages", t.id) for t in targets], actor_id=caller.id)
    # Rendered from what was just written: reading it back cost a third of a send's server time.
    msg.sender = caller
    return _render(msg, [Delivery(message=msg.id, recipient=t) for t in targets], caller, True)


def show(caller: Member, message_id: int) -> dict:
    """One message the caller sent or received, with no side effect."""
    return to_dicts([_readable(caller, message_id)], caller)[0]


def read(caller: Member, message_id: int) -> dict:
    """Show a message and, if the caller is a recipient, mark it delivered and read."""
    msg = _readable(caller, message_id)
    now = utcnow()
    with db.write():
        mark_delivered(caller, [msg.id])
        (Delivery.update(read_at=now)
         .where(Delivery.message == msg.id, Delivery.recipient == caller.id, Delivery.read_at.is_null())
         .execute())
    return to_dicts([msg], caller)[0]


def mark_delivered(member: Member, message_ids: Iterable[int]) -> int:
    """Record that `member`'s client fetched these messages (first fetch only); returns rows changed."""
    ids = list(message_ids)
    if not ids:
        return 0
    with db.write():
        return (Delivery.update(delivered_at=utcnow())
                .where(Delivery.recipient == member.id, Delivery.message.in_(ids),
                       Delivery.delivered_at.is_null())
                .execute())


def inbox(caller: Member, unread: bool = False, limit: int | None = None, after: int | None = None) -> dict:
    """Messages to the caller, unread first, then newest; listing marks them delivered."""
    limit = paging.clamp_limit(limit)
    mine = Delivery.select().where(Delivery.recipient == caller.id)
    in_unread_part = after is None or after >= UNREAD_BIT
    rows: list[Delivery] = []
    if in_unread_part:
        q = mine.where(Delivery.read_at.is_null())
        if after is not None:
            q = q.where(Delivery.message < after - UNREAD_BIT)
        rows = list(q.order_by(Delivery.message.desc()).limit(limit + 1))
    if not unread and len(rows) <= limit:
        q = mine.where(Delivery.read_at.is_null(False))
        if not in_unread_part:
            q = q.where(Delivery.message < after)
        rows += list(q.order_by(Delivery.message.desc()).limit(limit + 1 - len(rows)))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = None
    if more:
        nxt = rows[-1].message_id + (UNREAD_BIT if rows[-1].read_at is None else 0)
    ids = [r.message_id for r in rows]
    mark_delivered(caller, ids)
    by_id = {m.id: m for m in _select(listed=True).where(Message.id.in_(ids))} if ids else {}
    return {"items": to_dicts([by_id[i] for i in ids], caller, with_body=False), "next": nxt}


def thread(caller: Member, message_id: int, limit: int | None = None, after: int | None = None) -> dict:
    """The messages of a thread the caller may read, oldest first."""
    msg = _readable(caller, message_id)
    root = msg.thread_id
    q = _select(listed=True).where((Message.thread == root) | (Message.id == root), _readable_clause(caller))
    page = paging.page(q, Message.id, limit, after, lambda m: m, newest_first=False)
    return {"thread": root, "items": to_dicts(page["items"], caller, with_body=False), "next": page["next"]}
