"""Tasks: create, list, ready, show, and the actions that move a task through its states."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace, fields


class Tasks(Namespace):
    """`/v1/tasks`: work items with states, an assignee, a review gate and a history."""

    def create(self, title: str, *, body: str | None = None, domains: list[str] | None = None,
               priority: str | None = None, review: str | None = None, assign: str | None = None,
               route: bool | None = None, depends_on: list[int] | None = None,
               visibility: str | None = None) -> JSON:
        """Create a task (assigned to `assign`, or routed to the best match with `route`); returns it."""
        return self._http.post("/v1/tasks", fields(
            title=title, body=body, domains=domains, priority=priority, review=review, assign=assign, route=route,
            depends_on=depends_on, visibility=visibility))

    def list(self, *, mine: bool = False, state: str | list[str] | None = None,
             domain: str | list[str] | None = None, active: bool = False, limit: int | None = None,
             after: int | None = None) -> JSON:
        """The tasks the caller can see, newest first (`active`: not done or cancelled; ignored with `state`)."""
        return self._http.get("/v1/tasks", mine=mine, state=state, domain=domain, active=active, limit=limit,
                              after=after)

    def ready(self, *, limit: int | None = None, after: int | None = None) -> JSON:
        """Open tasks the caller could claim and tasks assigned to it, whose dependencies are done."""
        return self._http.get("/v1/tasks/ready", limit=limit, after=after)

    def show(self, id: int) -> JSON:
        """One task with its history, linked research and links."""
        return self._http.get(f"/v1/tasks/{int(id)}")

    def act(self, id: int, action: str, *, member: str | None = None, reason: str | None = None,
            note: str | None = None, links: list[str] | None = None, version: int | None = None) -> JSON:
        """Move a task: `action` is assign (with `member`), claim, route, accept, reject, start, submit,
        approve, request-changes or cancel; `version` refuses (Conflict) a task that moved past it."""
        return self._http.post(f"/v1/tasks/{int(id)}/actions", fields(
            action=action, member=member, reason=reason, note=note, links=links, version=version))
