"""Documents: put, get, history, diff, list; named `name` in the caller's fleet or `fleet/name`."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace, fields, item_path


def _path(name: str, suffix: str = "") -> str:
    return item_path("documents", "document", name, suffix)


class Documents(Namespace):
    """`/v1/documents`: versioned texts; every version is kept."""

    def put(self, name: str, body: str, *, title: str | None = None, base_version: int | None = None,
            message: str | None = None, domains: list[str] | None = None, visibility: str | None = None) -> JSON:
        """Write a new version (the document is created on first put); `base_version` refuses (Conflict)
        unless it is still the latest version (0: the document must not exist yet)."""
        return self._http.put(_path(name), fields(body=body, title=title, base_version=base_version,
                                                  message=message, domains=domains, visibility=visibility))

    def get(self, name: str, *, version: int | None = None) -> JSON:
        """A document with the body of one version (the latest by default)."""
        return self._http.get(_path(name), version=version)

    def history(self, name: str, *, limit: int | None = None, after: int | None = None) -> JSON:
        """The versions of a document, newest first (no bodies)."""
        return self._http.get(_path(name, "/versions"), limit=limit, after=after)

    def diff(self, name: str, from_: int, to: int) -> JSON:
        """A unified diff of a document from version `from_` to version `to`: `{"diff": ...}`."""
        return self._http.get(_path(name, "/diff"), **{"from": from_, "to": to})

    def list(self, *, domain: str | list[str] | None = None, limit: int | None = None,
             after: int | None = None) -> JSON:
        """The documents the caller may see, newest first."""
        return self._http.get("/v1/documents", domain=domain, limit=limit, after=after)
