"""Who can see what: fleet-only items stay in their fleet; cross-fleet items reach
cross-fleet members of other fleets that share a domain. Domain tags live in `ItemDomain`."""

from __future__ import annotations

from peewee import SQL, fn

from fleetctl.errors import NotFound
from fleetctl.models.core import ItemDomain, Member
from fleetctl.services import prepared

# Prepared: every publish runs it (see services/prepared.py).
INSERT_TAGS = "INSERT INTO item_domain (kind, item_id, domain) VALUES {rows:3}"


def set_domains(kind: str, item_id: int, domains: list[str], new: bool = False) -> None:
    """Replace the indexed domain tags of one item (call inside the write transaction); `new=True`
    for an item created in this transaction, which has no tags to delete yet."""
    if not new:
        ItemDomain.delete().where(ItemDomain.kind == kind, ItemDomain.item_id == item_id).execute()
    if domains:
        prepared.run(INSERT_TAGS, [v for d in domains for v in (kind, item_id, d)], rows=len(domains))


def tagged_with_any(kind: str, domains: list[str]):
    """Subquery of item ids of `kind` tagged with at least one of `domains`."""
    return ItemDomain.select(ItemDomain.item_id).where(ItemDomain.kind == kind, ItemDomain.domain.in_(domains))


def tagged_exists(model, kind: str, domains: list[str]):
    """SQL condition: the row of `model` is tagged with one of `domains` (a correlated EXISTS, so the
    database probes the (kind, domain, item_id) index per row instead of materialising every tag)."""
    return fn.EXISTS(ItemDomain.select(SQL("1")).where(
        ItemDomain.kind == kind, ItemDomain.item_id == model.id, ItemDomain.domain.in_(domains)))


def visible_clause(model, kind: str, member: Member):
    """SQL condition: rows of `model` that `member` may see."""
    own = model.fleet == member.fleet_id
    if not member.cross_fleet or not member.domains:
        return own
    return own | ((model.visibility == "cross-fleet") & tagged_exists(model, kind, member.domains))


def can_see(member: Member, item) -> bool:
    """The same rule as `visible_clause`, for one loaded item with `fleet_id`, `visibility`, `domains`."""
    if item.fleet_id == member.fleet_id:
        return True
    return (item.visibility == "cross-fleet" and member.cross_fleet
            and bool(set(item.domains) & set(member.domains)))


def get_visible(model, item_id: int, member: Member, label: str, rule=can_see):
    """Load one item the member may see by `rule(member, item)`, else 404 exactly as if it did not exist."""
    item = model.get_or_none(model.id == item_id)
    if item is None or not rule(member, item):
        raise NotFound(f"{label} {item_id} not found")
    return item
