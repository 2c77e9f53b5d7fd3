"""Models of the documents primitive: a named document per fleet and every version of it."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from fleetctl.models.base import BaseModel, JSONListField, utcnow
from fleetctl.models.core import Fleet, Member


class Document(BaseModel):
    """The head of a document: its name, metadata and current version number."""

    fleet = ForeignKeyField(Fleet, on_delete="CASCADE")
    name = CharField(max_length=63)
    title = TextField(default="")
    visibility = CharField(max_length=12, default="fleet")
    domains = JSONListField(default=list)
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(Member, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("fleet", "name"), True),)


class DocumentVersion(BaseModel):
    """One kept version; (document, version) is unique so two writers can never both add version N."""

    document = ForeignKeyField(Document, backref="versions", on_delete="CASCADE")
    version = IntegerField()
    body = TextField(default="")
    author = ForeignKeyField(Member, null=True, on_delete="SET NULL")
    message = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("document", "version"), True),)


MODELS = [Document, DocumentVersion]
