"""HTTP routes of the research primitive."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.schemas import research as schemas
from fleetctl.server.api import route
from fleetctl.services import research, research_reviews

bp = Blueprint("research", __name__, url_prefix="/v1")


@route(bp, "/research", "POST", summary="Publish research: in_review with reviewers, else draft.",
       action="research.publish", body=schemas.PublishResearch,
       response=schemas.Research, status=201, errors=(403, 404))
def publish(body):
    return research.publish(g.member, **body)


@route(bp, "/research", summary="List the research the caller may see, newest first.",
       query=schemas.ResearchQuery, response=schemas.ResearchList)
def list_research(query):
    return research.list_research(g.member, **query)


@route(bp, "/research/<int:id>", summary="Show one piece of research with its reviews.",
       response=schemas.Research)
def show(id):
    return research.show(g.member, id)


@route(bp, "/research/<int:id>/reviews", "POST", summary="Review research in review (approve needs a human).",
       action="research.review", body=schemas.ReviewResearch, response=schemas.Research,
       status=201, errors=(403, 409))
def review(id, body):
    return research_reviews.review(g.member, id, **body)


@route(bp, "/research/<int:id>/revisions", "POST",
       summary="The author's new revision: changes the fields given and goes back to in_review.",
       action="research.revise", body=schemas.ResearchContent, response=schemas.Research,
       errors=(403, 404, 409))
def revise(id, body):
    return research_reviews.revise(g.member, id, **body)
