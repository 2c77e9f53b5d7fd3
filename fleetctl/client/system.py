"""Who am I, and is the server up: whoami, healthz, readyz, the OpenAPI document."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace


class System(Namespace):
    """The server itself and the calling member."""

    def whoami(self) -> JSON:
        """The calling member and its fleet: `{"member": {...}, "fleet": {...}}`."""
        return self._http.get("/v1/whoami")

    def healthz(self) -> JSON:
        """Liveness (`{"ok": true}`); needs no token."""
        return self._http.request("GET", "/healthz", auth=False)

    def readyz(self) -> JSON:
        """Readiness: answers while the database does (ServiceUnavailable while it does not); needs no token."""
        return self._http.request("GET", "/readyz", auth=False)

    def openapi(self) -> JSON:
        """The API description; needs no token."""
        return self._http.request("GET", "/v1/openapi.json", auth=False)
