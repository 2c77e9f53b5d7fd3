"""Fleets, members, tokens, the audit log, the change sequence and domain tags."""

from __future__ import annotations

from peewee import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from fleetctl.models.base import BaseModel, JSONListField, utcnow

ROLES = ("owner", "reviewer", "agent")
ROLE_RANK = {"agent": 0, "reviewer": 1, "owner": 2}
DEFAULT_QUOTA = 1024 ** 3  # bytes of content a fleet may store (fleet create --quota)


class Fleet(BaseModel):
    name = CharField(max_length=40, unique=True)
    rate_limit = IntegerField(default=1000)
    created_at = DateTimeField(default=utcnow)
    # Storage quota and the bytes of content written so far (migration 11; see services/quota.py).
    quota_bytes = BigIntegerField(default=DEFAULT_QUOTA)
    usage_bytes = BigIntegerField(default=0)


class Member(BaseModel):
    fleet = ForeignKeyField(Fleet, backref="members", on_delete="CASCADE")
    name = CharField(max_length=63)
    role = CharField(max_length=10, default="agent")
    domains = JSONListField(default=list)
    cross_fleet = BooleanField(default=False)
    allow_fleets = JSONListField(default=list)
    rate_limit = IntegerField(default=300)
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("fleet", "name"), True),)

    @property
    def address(self) -> str:
        return f"{self.fleet.name}/{self.name}"

    @property
    def is_human(self) -> bool:
        return self.role in ("owner", "reviewer")


class Token(BaseModel):
    fleet = ForeignKeyField(Fleet, on_delete="CASCADE")
    member = ForeignKeyField(Member, backref="tokens", on_delete="CASCADE")
    secret_hash = TextField()
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)


class AuditEntry(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    fleet = CharField(null=True)
    member = CharField(null=True)
    action = CharField()
    resource = CharField(null=True)
    status = IntegerField()
    ip = CharField(null=True)
    count = IntegerField(default=1)  # refusals of one address aggregated into this record (migration 11)

    class Meta:
        table_name = "audit_log"
        indexes = ((("fleet", "at"), False),)


class Change(BaseModel):
    """One row per event and stream the wake prompt reads, in commit order (`seq`).

    `stream` names who reads the row (services/wake_streams.py): one member's section, or one
    fleet's (or the cross-fleet) broadcast stream of a domain. `note` is the reason or comment the
    news carries (for a document version: its number), `actor` the member who caused it.
    Rows before migration 9 have no stream and are read by nobody."""

    seq = BigAutoField()
    fleet = ForeignKeyField(Fleet, on_delete="CASCADE")
    kind = CharField(max_length=20)
    ref_id = IntegerField()
    member = ForeignKeyField(Member, null=True, on_delete="CASCADE")
    event = CharField(max_length=30, default="")
    created_at = DateTimeField(default=utcnow)
    stream = CharField(max_length=120, null=True)
    note = TextField(null=True)
    actor = BigIntegerField(null=True)

    class Meta:
        indexes = ((("member", "seq"), False), (("kind", "seq"), False))


class ItemDomain(BaseModel):
    """Domain tags of an item, one row each, so domain filters use an index."""

    kind = CharField(max_length=20)
    item_id = IntegerField()
    domain = CharField(max_length=63)

    class Meta:
        primary_key = False
        indexes = ((("kind", "domain", "item_id"), True), (("kind", "item_id"), False))


MODELS = [Fleet, Member, Token, AuditEntry, Change, ItemDomain]
