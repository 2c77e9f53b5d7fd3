"""Messages: send, inbox, show, read, thread."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace, fields


class Messages(Namespace):
    """`/v1/messages`: store-and-forward messages between members."""

    def send(self, recipients: list[str], subject: str, *, body: str | None = None,
             domains: list[str] | None = None, reply_to: int | None = None) -> JSON:
        """Send to every recipient or to none (`name` or `fleet/name`); returns the message."""
        return self._http.post("/v1/messages", fields(recipients=recipients, subject=subject, body=body,
                                                      domains=domains, reply_to=reply_to))

    def inbox(self, *, unread: bool = False, limit: int | None = None, after: int | None = None) -> JSON:
        """Messages to the caller, unread first, then newest; listing marks them delivered."""
        return self._http.get("/v1/messages", unread=unread, limit=limit, after=after)

    def show(self, id: int) -> JSON:
        """One message the caller sent or received, without marking it read."""
        return self._http.get(f"/v1/messages/{int(id)}")

    def read(self, id: int) -> JSON:
        """One message, marked read for the caller."""
        return self._http.post(f"/v1/messages/{int(id)}/read")

    def thread(self, id: int, *, limit: int | None = None, after: int | None = None) -> JSON:
        """The messages of the thread of message `id` that the caller can read, oldest first."""
        return self._http.get(f"/v1/messages/{int(id)}/thread", limit=limit, after=after)
