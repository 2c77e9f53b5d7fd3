"""The model base class, UTC time helpers and the JSON list field every primitive uses."""

from __future__ import annotations

import datetime as dt
import json

from peewee import Model, TextField

from fleetctl.db import database


def utcnow() -> dt.datetime:
    """Naive UTC now (stored as such on both engines)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with a Z, the form every JSON output uses."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(microsecond=(value.microsecond // 1000) * 1000).isoformat(
        timespec="milliseconds") + "Z"


class JSONListField(TextField):
    """A list of strings stored as JSON text."""

    def db_value(self, value):
        return json.dumps(list(value or []))

    def python_value(self, value):
        return json.loads(value) if value else []


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
