"""The DDL of migrations 1-13 per engine, exactly as peewee generated it from the models when the steps
were frozen (plus the indexes and full-text search the models' install hooks created). Never edit it:
a later schema change is a new migration step.
"""

from fleetctl.frozen_ddl.postgres import POSTGRES
from fleetctl.frozen_ddl.sqlite import SQLITE

__all__ = ["POSTGRES", "SQLITE"]
