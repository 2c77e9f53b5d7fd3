"""The web console at /ui for the humans of a fleet: server-rendered pages over the same services as the API.

`bp` is registered by the app factory; its hooks run only for /ui requests, so the API pays nothing for it.
"""

from fleetctl.console import admin, library, work  # noqa: F401  (each module adds its routes to bp)
from fleetctl.console.web import bp

__all__ = ["bp"]
