"""The wake: peek (optionally waiting for news), advance, ack."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace, fields

WAIT_MARGIN = 15.0  # the client's timeout beyond the wait it asks the server to hold


class Wake(Namespace):
    """`/v1/wake`: the caller's news since its cursor, as a prompt and as sections."""

    def peek(self, *, max_chars: int | None = None, commands: str | None = None, wait: int | None = None) -> JSON:
        """The next part of the news without handing anything over; `wait` (1-60 s) holds the request until
        there is news (the client's timeout grows to outlast it). `commands="mcp"` writes suggested actions as
        MCP tool calls."""
        if wait:
            self._http.timeout = max(self._http.timeout, wait + WAIT_MARGIN)
        return self._http.get("/v1/wake", max_chars=max_chars, commands=commands, wait=wait)

    def advance(self, *, max_chars: int | None = None, commands: str | None = None) -> JSON:
        """The next part of the news, handed over: exactly what its prompt shows counts as delivered."""
        return self._http.post("/v1/wake", fields(max_chars=max_chars, commands=commands))

    def ack(self, cursor: str | int) -> JSON:
        """Hand over exactly what the peek that returned `cursor` showed: `{"moved": bool, ...}`."""
        return self._http.post("/v1/wake/ack", {"cursor": cursor})
