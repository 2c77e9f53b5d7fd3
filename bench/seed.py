"""Bulk seeding through the models (insert_many in one transaction per table): knowledge entries with
their domain tags and change rows, messages with deliveries, assigned tasks with their history.
Rows look like the services' own (same fields, same change events on the same streams), only written in bulk."""

from __future__ import annotations

from contextlib import contextmanager

from peewee import fn

from fleetctl import db
from fleetctl.models.base import utcnow
from fleetctl.models.core import Change, ItemDomain, Member
from fleetctl.services import wake_streams

CHUNK = 400
DOMAINS = 20  # entries are tagged d0..d19; one in ten carries no domain (it reaches everyone)
PINNED = 5


def _insert(model, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        model.insert_many(rows[i:i + CHUNK]).execute()


def _new_ids(model, rows: list[dict]) -> list[int]:
    """Insert rows (no concurrent writers: ids are consecutive) and return their ids."""
    first = (model.select(fn.MAX(model.id)).scalar() or 0) + 1
    _insert(model, rows)
    return list(range(first, first + len(rows)))


@contextmanager
def _gin_built_after(table: str):
    """On PostgreSQL, drop the table's GIN (full-text) indexes and build them again after the
    bulk insert: one bulk build instead of 100,000 incremental updates, the same index after."""
    if db.engine() != "postgres":
        yield
        return
    rows = db.database.execute_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                                   "AND indexdef ILIKE '%%USING gin%%'", (table,)).fetchall()
    for name, _ in rows:
        db.database.execute_sql(f'DROP INDEX "{name}"')
    yield
    for _, definition in rows:
        db.database.execute_sql(definition)


def members(fleet: str) -> tuple[Member, list[Member], Member]:
    """The owner, the agents and the reader of the benchmark fleet, from the database."""
    rows = {m.name: m for m in Member.select().join(Member.fleet.rel_model).where(
        Member.fleet.rel_model.name == fleet)}
    agents = [m for name, m in sorted(rows.items()) if name.startswith("agent-")]
    return rows["owner"], agents, rows["reader"]


def knowledge(fleet: str, count: int) -> None:
    """`count` entries by the agents, kinds in turn, most tagged with one domain, a few pinned."""
    from fleetctl.models.knowledge import KINDS, Knowledge

    _, agents, _ = members(fleet)
    now = utcnow()
    base = Knowledge.select(fn.COUNT(Knowledge.id)).scalar()
    rows, tags = [], []
    for k in range(base, base + count):
        domains = [] if k % 10 == 9 else [f"d{k % DOMAINS}"]
        author = agents[k % len(agents)]
        rows.append({"fleet": author.fleet_id, "author": author.id, "kind": KINDS[k % len(KINDS)],
                     "title": f"seeded entry {k} about service {k % 97}", "tagged": bool(domains),
                     "body": f"Finding {k}: restart the worker after changing its config.",
                     "domains": domains, "visibility": "fleet", "state": "current", "pinned": k < PINNED,
                     "created_at": now})
        tags.append(domains)
    with db.write(), _gin_built_after("knowledge"):
        ids = _new_ids(Knowledge, rows)
        _insert(ItemDomain, [{"kind": "knowledge", "item_id": i, "domain": d}
                             for i, ds in zip(ids, tags, strict=True) for d in ds])
        _insert(Change, [{"fleet": agents[0].fleet_id, "kind": "knowledge", "ref_id": i, "event": "published",
                          "created_at": now, "stream": stream, "actor": r["author"]}
                         for i, r in zip(ids, rows, strict=True)
                         for stream in wake_streams.broadcast("breaking" if r["kind"] == "breaking" else "knowledge",
                                                              r["fleet"], r["domains"], r["visibility"])])


def messages(fleet: str, count: int) -> None:
    """`count` messages between members; every ninth one goes to the reader."""
    from fleetctl.models.messages import Delivery, Message

    _, agents, reader = members(fleet)
    recipients = [*agents, reader]
    now = utcnow()
    rows, targets = [], []
    for k in range(count):
        sender = agents[k % len(agents)]
        target = recipients[(k * 7 + 1) % len(recipients)]
        if target.id == sender.id:
            target = reader
        rows.append({"fleet": sender.fleet_id, "sender": sender.id, "subject": f"seeded message {k}",
                     "body": "Deploy finished; please check the dashboards.", "domains": ["bench"],
                     "created_at": now})
        targets.append(target)
    with db.write():
        ids = _new_ids(Message, rows)
        _insert(Delivery, [{"message": i, "recipient": t.id} for i, t in zip(ids, targets, strict=True)])
        _insert(Change, [{"fleet": agents[0].fleet_id, "kind": "message", "ref_id": i, "event": "received",
                          "created_at": now, "stream": wake_streams.to_member("messages", t.id)}
                         for i, t in zip(ids, targets, strict=True)])


def tasks(fleet: str, count: int) -> None:
    """`count` tasks created by the owner and assigned to the agents and the reader in turn."""
    from fleetctl.models.tasks import Task, TaskHistory

    owner, agents, reader = members(fleet)
    assignees = [*agents, reader]
    now = utcnow()
    rows, who = [], []
    for k in range(count):
        assignee = assignees[k % len(assignees)]
        rows.append({"fleet": owner.fleet_id, "title": f"seeded task {k}", "body": "Rotate the keys.",
                     "domains": ["d1"] if k % 2 else ["bench"], "priority": "normal", "state": "assigned",
                     "creator": owner.id, "assignee": assignee.id, "review": "none", "created_at": now,
                     "updated_at": now})
        who.append(assignee)
    with db.write():
        ids = _new_ids(Task, rows)
        _insert(TaskHistory, [{"task": i, "member": owner.id, "who": f"{fleet}/owner", "action": "assign",
                               "from_state": "open", "to_state": "assigned", "at": now} for i in ids])
        _insert(ItemDomain, [{"kind": "task", "item_id": i, "domain": r["domains"][0]}
                             for i, r in zip(ids, rows, strict=True)])
        _insert(Change, [{"fleet": owner.fleet_id, "kind": "task", "ref_id": i, "event": "assigned",
                          "created_at": now, "stream": wake_streams.to_member("tasks", a.id), "actor": owner.id}
                         for i, a in zip(ids, who, strict=True)])


def analyze() -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (autovacuum would, a little later;
    SQLite is left as the server leaves it)."""
    if db.engine() == "postgres":
        db.database.execute_sql("ANALYZE")
