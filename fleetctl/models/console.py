"""The web console's sessions: one server-side row per signed-in browser."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from fleetctl.models.base import BaseModel, utcnow
from fleetctl.models.core import Member


class ConsoleSession(BaseModel):
    """A browser session. The cookie holds a random id; only its SHA-256 is stored (`key`), so a copy of
    the database opens no session. `token_key` is the SHA-256 of the token signed in with (the auth
    cache's key); `token_id` lets each request check that the token is still live."""

    key = CharField(max_length=64, primary_key=True)
    member = ForeignKeyField(Member, on_delete="CASCADE")
    token_id = IntegerField()
    token_key = CharField(max_length=64)
    csrf = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)

    class Meta:
        table_name = "console_session"


MODELS = [ConsoleSession]
