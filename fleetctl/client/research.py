"""Research: publish, revise, review, list, show."""

from __future__ import annotations

from fleetctl.client.transport import JSON, Namespace, fields


class Research(Namespace):
    """`/v1/research`: findings with a confidence, reviewed by humans."""

    def publish(self, title: str, confidence: float, *, question: str | None = None, body: str | None = None,
                sources: list[str] | None = None, reviewers: list[str] | None = None,
                domains: list[str] | None = None, visibility: str | None = None, task: int | None = None) -> JSON:
        """Publish research: in_review when it has reviewers, else draft; returns it."""
        return self._http.post("/v1/research", fields(
            title=title, confidence=confidence, question=question, body=body, sources=sources, reviewers=reviewers,
            domains=domains, visibility=visibility, task=task))

    def revise(self, id: int, *, title: str | None = None, confidence: float | None = None,
               question: str | None = None, body: str | None = None, sources: list[str] | None = None,
               reviewers: list[str] | None = None, domains: list[str] | None = None,
               visibility: str | None = None) -> JSON:
        """The author's new revision: changes the fields given and goes back to in_review."""
        return self._http.post(f"/v1/research/{int(id)}/revisions", fields(
            title=title, confidence=confidence, question=question, body=body, sources=sources, reviewers=reviewers,
            domains=domains, visibility=visibility))

    def review(self, id: int, verdict: str, *, comment: str | None = None) -> JSON:
        """Review research in review: `verdict` is approve (humans only), request-changes or reject."""
        return self._http.post(f"/v1/research/{int(id)}/reviews", fields(verdict=verdict, comment=comment))

    def list(self, *, state: str | list[str] | None = None, task: int | None = None, limit: int | None = None,
             after: int | None = None) -> JSON:
        """The research the caller may see, newest first."""
        return self._http.get("/v1/research", state=state, task=task, limit=limit, after=after)

    def show(self, id: int) -> JSON:
        """One piece of research with its reviews."""
        return self._http.get(f"/v1/research/{int(id)}")
