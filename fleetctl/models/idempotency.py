"""Kept answers of writes sent with an `Idempotency-Key`: one row per member and key, for 24 hours."""

from __future__ import annotations

from peewee import BigAutoField, BooleanField, CharField, DateTimeField, IntegerField, TextField

from fleetctl.models.base import BaseModel, utcnow


class IdempotentAnswer(BaseModel):
    """The answer a member's write got; `body` is the JSON text, or sealed (encrypted) when it holds a token."""

    id = BigAutoField()
    member_id = IntegerField()
    key = CharField(max_length=255)
    fingerprint = CharField(max_length=64)  # SHA-256 of method, path, query and body
    token_id = IntegerField()  # the token that sent it: a revoked token may still replay its own answers
    status = IntegerField()
    body = TextField()
    sealed = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "idempotent_answer"
        indexes = ((("member_id", "key"), True),)


MODELS = [IdempotentAnswer]
