"""The knowledge feed: publish, list, search, show, chain, pin, unpin, retire."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace, fields


class Knowledge(Namespace):
    """`/v1/knowledge`: tips, gotchas, breaking changes and fixes."""

    def publish(self, kind: str, title: str, *, body: str | None = None, domains: list[str] | None = None,
                supersedes: int | None = None, expires_in: str | None = None, expires_at: str | None = None,
                pinned: bool | None = None, visibility: str | None = None) -> JSON:
        """Publish an entry (superseding entry `supersedes` of the caller's fleet); returns it."""
        return self._http.post("/v1/knowledge", fields(
            kind=kind, title=title, body=body, domains=domains, supersedes=supersedes, expires_in=expires_in,
            expires_at=expires_at, pinned=pinned, visibility=visibility))

    def list(self, *, domain: str | list[str] | None = None, kind: str | list[str] | None = None,
             all: bool = False, limit: int | None = None, after: int | None = None) -> JSON:
        """The caller's feed, pinned first (`domain` in place of its own domains; `all` adds history)."""
        return self._http.get("/v1/knowledge", domain=domain, kind=kind, all=all, limit=limit, after=after)

    def search(self, q: str, *, domain: str | list[str] | None = None, kind: str | list[str] | None = None,
               all: bool = False, limit: int | None = None, after: int | None = None) -> JSON:
        """Full-text search over the titles and bodies of the entries the caller can see, best first."""
        return self._http.get("/v1/knowledge/search", q=q, domain=domain, kind=kind, all=all, limit=limit,
                              after=after)

    def show(self, id: int) -> JSON:
        """One entry, with its whole body."""
        return self._http.get(f"/v1/knowledge/{int(id)}")

    def chain(self, id: int) -> JSON:
        """The supersession chain through entry `id`, oldest first: `{"items": [...], "next": null}`."""
        return self._http.get(f"/v1/knowledge/{int(id)}/chain")

    def pin(self, id: int) -> JSON:
        """Pin an entry (any member of its fleet)."""
        return self._http.post(f"/v1/knowledge/{int(id)}/pin")

    def unpin(self, id: int) -> JSON:
        """Unpin an entry (its author or an owner)."""
        return self._http.post(f"/v1/knowledge/{int(id)}/unpin")

    def retire(self, id: int) -> JSON:
        """Retire an entry for good (its author or an owner)."""
        return self._http.post(f"/v1/knowledge/{int(id)}/retire")
