"""The members of a fleet and their tokens: register, list, show, update, revoke, rotate."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace, fields, item_path


def _path(name: str, suffix: str = "") -> str:
    return item_path("agents", "member", name, suffix)


class Members(Namespace):
    """`/v1/agents` and `/v1/tokens`: members are named `name` (the caller's fleet) or `fleet/name`."""

    def register(self, name: str, *, role: str | None = None, domains: list[str] | None = None,
                 cross_fleet: bool | None = None, allow_fleets: list[str] | None = None,
                 rate_limit: int | None = None) -> JSON:
        """Register a member (owner only): `{"token": ..., "member": {...}}`, the token shown this once."""
        return self._http.post("/v1/agents", {"name": name, **fields(
            role=role, domains=domains, cross_fleet=cross_fleet, allow_fleets=allow_fleets, rate_limit=rate_limit)})

    def list(self, *, limit: int | None = None, after: int | None = None) -> JSON:
        """The members of the caller's fleet: `{"items": [...], "next": ...}`."""
        return self._http.get("/v1/agents", limit=limit, after=after)

    def show(self, name: str) -> JSON:
        """One member of the caller's fleet."""
        return self._http.get(_path(name))

    def update(self, name: str, *, role: str | None = None, domains: list[str] | None = None,
               cross_fleet: bool | None = None, allow_fleets: list[str] | None = None,
               rate_limit: int | None = None) -> JSON:
        """Change only the fields given (owner only); a list replaces the member's list."""
        return self._http.patch(_path(name), fields(role=role, domains=domains, cross_fleet=cross_fleet,
                                                    allow_fleets=allow_fleets, rate_limit=rate_limit))

    def revoke(self, name: str) -> JSON:
        """Revoke a member and all its tokens (owner only)."""
        return self._http.post(_path(name, "/revoke"))

    def rotate(self, name: str | None = None) -> JSON:
        """A new token for the caller (no name) or for member `name` (owner, or the member itself); the old
        one dies at once. `{"token": ..., "member": {...}}`."""
        return self._http.post("/v1/tokens/rotate" if name is None else _path(name, "/token"))
