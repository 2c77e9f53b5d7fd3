"""Peewee models, one module per primitive plus `core` (fleets, members, tokens, audit, changes)."""
