"""HTTP routes of the research primitive."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.models.research import STATES, VERDICTS
from fleetctl.server.api import route
from fleetctl.server.fields import PAGE, F
from fleetctl.services import research, research_reviews

bp = Blueprint("research", __name__, url_prefix="/v1")

CONTENT = {
    "title": F("string", max_length=300),
    "question": F("string", max_length=2000, description="the question this research answers"),
    "body": F("string", description="findings (markdown)"),
    "confidence": F("number", minimum=0, maximum=1, description="0.0 to 1.0"),
    "sources": F("array", max_items=100, description="URLs, paths or citations"),
    "reviewers": F("array", max_items=50, description="members asked to review: name or fleet/name"),
    "domains": F("array", max_items=32),
    "visibility": F("string", enum=("fleet", "cross-fleet")),
}
PUBLISH = {**CONTENT, "title": F("string", required=True, max_length=300),
           "confidence": F("number", required=True, minimum=0, maximum=1, description="0.0 to 1.0"),
           "task": F("integer", minimum=1, maximum=2**62, nullable=True, description="id of the task it answers")}
REVIEW = {"verdict": F("string", required=True, enum=tuple(VERDICTS)),
          "comment": F("string", max_length=10_000)}
LIST = {"state": F("array", enum=STATES, max_items=len(STATES), description="only these states (repeatable)"),
        "task": F("integer", minimum=1, maximum=2**62,
                                                      description="only research linked to this task"), **PAGE}


@route(bp, "/research", "POST", summary="Publish research: in_review with reviewers, else draft.",
       action="research.publish", body=PUBLISH, status=201)
def publish(body):
    return research.publish(g.member, **body)


@route(bp, "/research", summary="List the research the caller may see, newest first.", query=LIST)
def list_research(query):
    return research.list_research(g.member, **query)


@route(bp, "/research/<int:id>", summary="Show one piece of research with its reviews.")
def show(id):
    return research.show(g.member, id)


@route(bp, "/research/<int:id>/reviews", "POST", summary="Review research in review (approve needs a human).",
       action="research.review", body=REVIEW, status=201)
def review(id, body):
    return research_reviews.review(g.member, id, **body)


@route(bp, "/research/<int:id>/revisions", "POST",
       summary="The author's new revision: changes the fields given and goes back to in_review.",
       action="research.revise", body=CONTENT)
def revise(id, body):
    return research_reviews.revise(g.member, id, **body)
