"""Shared rate-limit counters: one row per (key, fixed window, server process), so servers on one
PostgreSQL database see each other's request counts."""

from __future__ import annotations

from peewee import BigIntegerField, CharField, CompositeKey, IntegerField

from fleetctl.models.base import BaseModel


class RateCounter(BaseModel):
    """How many requests `node` (one server process) counted against `key` in fixed window number `period`."""

    key = CharField(max_length=80)
    period = BigIntegerField()
    node = CharField(max_length=80)
    hits = IntegerField(default=0)

    class Meta:
        table_name = "rate_counter"
        primary_key = CompositeKey("key", "period", "node")
        indexes = ((("period",), False),)


MODELS = [RateCounter]
