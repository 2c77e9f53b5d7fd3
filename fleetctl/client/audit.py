"""The audit log (owners)."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace


class Audit(Namespace):
    """`/v1/audit`: the fleet's mutations and refusals, newest first."""

    def list(self, *, member: str | None = None, action: str | None = None, since: str | None = None,
             limit: int | None = None, after: int | None = None) -> JSON:
        """Audit records of the caller's fleet (owner only); `action` also matches as a prefix (`task`)."""
        return self._http.get("/v1/audit", member=member, action=action, since=since, limit=limit, after=after)
