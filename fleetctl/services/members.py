"""Fleets and their members: bootstrap, registration, updates, revocation, token rotation."""

from __future__ import annotations

from peewee import IntegrityError

from fleetctl import db
from fleetctl.errors import Conflict, Forbidden, Invalid, NotFound
from fleetctl.models.base import iso, utcnow
from fleetctl.models.core import ROLE_RANK, ROLES, Fleet, Member
from fleetctl.services import paging, quota, tokens, validate, wake_marks


def fleet_to_dict(fleet: Fleet, storage: bool = False) -> dict:
    """The fleet as JSON; `storage` adds its quota and usage in bytes (for owners)."""
    data = {"id": fleet.id, "name": fleet.name, "rate_limit": fleet.rate_limit,
            "created_at": iso(fleet.created_at)}
    if storage:
        data.update(quota=fleet.quota_bytes, usage=fleet.usage_bytes)
    return data


def whoami(member: Member) -> dict:
    """The member and its fleet; owners also see the fleet's storage quota and usage, read now (not
    from the copy cached with the token)."""
    owner = member.role == "owner"
    fleet = Fleet.get_by_id(member.fleet_id) if owner else member.fleet
    return {"member": to_dict(member), "fleet": fleet_to_dict(fleet, storage=owner)}


def to_dict(member: Member) -> dict:
    """The member as JSON."""
    return {"name": member.name, "fleet": member.fleet.name, "address": member.address,
            "role": member.role, "domains": member.domains, "cross_fleet": member.cross_fleet,
            "allow_fleets": member.allow_fleets, "rate_limit": member.rate_limit,
            "created_at": iso(member.created_at), "revoked_at": iso(member.revoked_at)}


def _rate_limit(value: int | None, default: int) -> int:
    """Requests per minute (from 1 to 1,000,000: checked by schemas.agents and `fleet create`)."""
    return default if value is None else value


def _role(value: str | None) -> str:
    return validate.choice(value or "agent", ROLES, "role")


def create_fleet(name: str, rate_limit: int | None = None, owner: str = "owner",
                 quota_bytes: int | None = None) -> tuple[Fleet, Member, str]:
    """Bootstrap (local, no network): a fleet, its first owner, and the owner's token."""
    validate.fleet_name(name)
    validate.member_name(owner)
    with db.write():
        if Fleet.get_or_none(Fleet.name == name):
            raise Conflict(f"fleet {name!r} already exists")
        fleet = Fleet.create(name=name, rate_limit=_rate_limit(rate_limit, 1000),
                             quota_bytes=quota.quota_of(quota_bytes))
        member = Member.create(fleet=fleet, name=owner, role="owner")
        wake_marks.start(member)
    return fleet, member, tokens.mint(member)


def set_quota(name: str, quota_bytes: int) -> Fleet:
    """Change a fleet's storage quota (local, on the server machine: the operator's decision, not an
    owner's); a quota below the current usage refuses every further write until it is raised again."""
    validate.fleet_name(name)
    with db.write():
        if not Fleet.update(quota_bytes=quota.quota_of(quota_bytes)).where(Fleet.name == name).execute():
            raise NotFound(f"no fleet {name!r}")
    return Fleet.get(Fleet.name == name)


def require_owner(caller: Member, what: str = "this") -> None:
    if caller.role != "owner":
        raise Forbidden(f"only an owner of fleet {caller.fleet.name!r} can do {what}")


def get_in_fleet(caller: Member, name: str) -> Member:
    """A member of the caller's own fleet by bare name or own-fleet address, else 404."""
    fleet_name, _, bare = name.rpartition("/")
    if fleet_name and fleet_name != caller.fleet.name:
        raise NotFound(f"no member {name!r} in fleet {caller.fleet.name!r}")
    member = (Member.select(Member, Fleet).join(Fleet)
              .where(Member.fleet == caller.fleet_id, Member.name == bare).first())
    if member is None:
        raise NotFound(f"no member {bare!r} in fleet {caller.fleet.name!r}")
    return member


def resolve(caller: Member, address: str) -> Member:
    """Any member by `name` (caller's fleet) or `fleet/name` (any fleet); 404 when unknown."""
    if not isinstance(address, str) or not address:
        raise Invalid("a member is addressed as 'name' or 'fleet/name'")
    fleet_name, _, bare = address.rpartition("/")
    fleet_name = fleet_name or caller.fleet.name
    member = (Member.select(Member, Fleet).join(Fleet)
              .where(Fleet.name == fleet_name, Member.name == bare).first())
    if member is None:
        raise NotFound(f"no member {fleet_name}/{bare}")
    return member


def register(caller: Member, name: str, role: str | None = None, domains: list[str] | None = None,
             cross_fleet: bool = False, allow_fleets: list[str] | None = None,
             rate_limit: int | None = None) -> dict:
    """An owner registers a member of its own fleet; returns it with its first token."""
    require_owner(caller, "agent register")
    validate.member_name(name)
    role = _role(role)
    if ROLE_RANK[role] > ROLE_RANK[caller.role]:
        raise Forbidden(f"a {caller.role} cannot register a {role}")
    taken = Conflict(f"member {caller.fleet.name}/{name} already exists")
    try:
        with db.write():
            if Member.get_or_none(Member.fleet == caller.fleet_id, Member.name == name):
                raise taken
            member = Member.create(fleet=caller.fleet_id, name=name, role=role,
                                   domains=validate.domains(domains), cross_fleet=bool(cross_fleet),
                                   allow_fleets=validate.fleet_names(allow_fleets),
                                   rate_limit=_rate_limit(rate_limit, 300))
            wake_marks.start(member)
    except IntegrityError:  # a concurrent registration of the same name won (PostgreSQL's unique index)
        raise taken from None
    member = get_in_fleet(caller, name)
    return minted(member, tokens.mint(member))


def minted(member: Member, token: str) -> dict:
    """A member with a token just minted for it (shown once)."""
    return {"token": token, "member": to_dict(member)}


def show(caller: Member, name: str) -> dict:
    """A member of the caller's own fleet, as JSON."""
    return to_dict(get_in_fleet(caller, name))


def addresses(member_ids) -> dict[int, str]:
    """`fleet/name` of each member id (None ignored), in one query."""
    ids = [i for i in set(member_ids) if i is not None]
    if not ids:
        return {}
    rows = (Member.select(Member.id, Member.name, Fleet.name.alias("fleet_name")).join(Fleet)
            .where(Member.id.in_(ids)).tuples())
    return {mid: f"{fleet}/{name}" for mid, name, fleet in rows}


def list_members(caller: Member, limit: int | None = None, after: int | None = None,
                 include_revoked: bool = True) -> dict:
    q = Member.select(Member, Fleet).join(Fleet).where(Member.fleet == caller.fleet_id)
    if not include_revoked:
        q = q.where(Member.revoked_at.is_null())
    return paging.page(q, Member.id, limit, after, to_dict, newest_first=False)


def _other_owner(member: Member) -> bool:
    """Whether the member's fleet has a live owner besides it (a fleet must keep one)."""
    return Member.select().where(Member.fleet == member.fleet_id, Member.role == "owner", Member.id != member.id,
                                 Member.revoked_at.is_null()).exists()


def update(caller: Member, name: str, changes: dict) -> dict:
    """Change only the fields given: role, domains, cross_fleet, allow_fleets, rate_limit."""
    require_owner(caller, "agent update")
    member = get_in_fleet(caller, name)
    was_owner = member.role == "owner"
    if "role" in changes:
        member.role = _role(changes["role"])
    if "domains" in changes:
        member.domains = validate.domains(changes["domains"])
    if "cross_fleet" in changes:
        member.cross_fleet = bool(changes["cross_fleet"])
    if "allow_fleets" in changes:
        member.allow_fleets = validate.fleet_names(changes["allow_fleets"])
    if "rate_limit" in changes:
        member.rate_limit = _rate_limit(changes["rate_limit"], member.rate_limit)
    with db.write():
        if was_owner and member.role != "owner" and not _other_owner(member):
            raise Conflict(f"{member.address} is the last owner of fleet {member.fleet.name!r}; "
                           f"make another member owner first")
        member.save()
    tokens.cache.drop_member(member.id)
    return to_dict(member)


def revoke(caller: Member, name: str) -> dict:
    """Revoke a member and all its tokens at once."""
    require_owner(caller, "agent revoke")
    member = get_in_fleet(caller, name)
    if member.id == caller.id:
        raise Conflict("you cannot revoke yourself; ask another owner")
    if member.revoked_at is None:
        with db.write():
            member.revoked_at = utcnow()
            member.save()
    tokens.revoke_member_tokens(member)
    return to_dict(member)


def rotate(caller: Member, name: str | None = None) -> dict:
    """A new token for the caller (any member) or, for owners, for a named member; old ones die."""
    if name is None:
        member = caller
    else:
        member = get_in_fleet(caller, name)
        if member.id != caller.id:
            require_owner(caller, "token rotate for another member")
    secret = tokens.new_secret()
    with db.write():
        # Two rotations at once must leave one live token: the member row lock (PostgreSQL; SQLite's
        # IMMEDIATE transaction already serialises writers) orders revoke-then-mint pairs.
        db.lock_row(Member, member.id)
        if Member.get_by_id(member.id).revoked_at is not None:
            raise Conflict(f"member {member.address} is revoked")
        tokens.revoke_member_tokens(member)
        token = tokens.mint(member, secret)
    tokens.cache.drop_member(member.id)  # again after commit: a request may have re-cached meanwhile
    return minted(member, token)
