"""Models of the messages primitive: a message and one delivery row per recipient."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from fleetctl.models.base import BaseModel, JSONListField, utcnow
from fleetctl.models.core import Fleet, Member


class Message(BaseModel):
    """A message; `fleet` is the sender's fleet. `thread` is stored for replies only (the id of the first
    message of the thread); a thread's first message stores NULL and is its own thread (`thread_id`)."""

    fleet = ForeignKeyField(Fleet, on_delete="CASCADE")
    sender = ForeignKeyField(Member, on_delete="CASCADE", index=True)
    subject = CharField(max_length=300)
    body = TextField(default="")
    domains = JSONListField(default=list)
    thread = IntegerField(null=True, index=True)
    reply_to = ForeignKeyField("self", null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    @property
    def thread_id(self) -> int:
        return self.thread or self.id

    class Meta:
        table_name = "messages"


class Delivery(BaseModel):
    """One recipient of a message: when its client first fetched it, and when it read it."""

    message = ForeignKeyField(Message, backref="deliveries", on_delete="CASCADE", index=True)
    recipient = ForeignKeyField(Member, on_delete="CASCADE")
    delivered_at = DateTimeField(null=True)
    read_at = DateTimeField(null=True)

    class Meta:
        table_name = "message_deliveries"
        # The inbox walks (recipient, message) newest first; the unique index also keeps one row each.
        indexes = ((("recipient", "message"), True),)


MODELS = [Message, Delivery]
