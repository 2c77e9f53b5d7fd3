"""HTTP routes of the knowledge feed: publish, list, search, show, chain, pin, unpin, retire."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.schemas import knowledge as schemas
from fleetctl.server.api import route
from fleetctl.services import knowledge, knowledge_feed

bp = Blueprint("knowledge", __name__, url_prefix="/v1")



@route(bp, "/knowledge", "POST", summary="Publish a knowledge entry (optionally superseding one).",
       action="knowledge.publish", body=schemas.PublishKnowledge, response=schemas.Entry,
       status=201, errors=(403, 404, 409))
def publish(body):
    return knowledge.publish(g.member, **body)


@route(bp, "/knowledge", summary="The caller's feed: visible, in its domains, pinned first, then newest.",
       query=schemas.FeedQuery, response=schemas.Entries)
def feed(query):
    return knowledge_feed.feed(g.member, **query)


@route(bp, "/knowledge/search", summary="Full-text search over titles and bodies of visible entries.",
       query=schemas.SearchQuery, response=schemas.Entries)
def search(query):
    return knowledge_feed.search(g.member, **query)


@route(bp, "/knowledge/<int:id>", summary="Show one entry.", response=schemas.Entry)
def show(id):
    return knowledge.show(g.member, id)


@route(bp, "/knowledge/<int:id>/chain", summary="The supersession chain through an entry, oldest first.",
       response=schemas.Entries)
def chain(id):
    return {"items": knowledge.chain(g.member, id, full=False), "next": None}


@route(bp, "/knowledge/<int:id>/pin", "POST", summary="Pin an entry (any member of its fleet).",
       action="knowledge.pin", response=schemas.Entry, errors=(403, 409))
def pin(id):
    return knowledge.pin(g.member, id)


@route(bp, "/knowledge/<int:id>/unpin", "POST", summary="Unpin an entry (its author or an owner).",
       action="knowledge.unpin", response=schemas.Entry, errors=(403, 409))
def unpin(id):
    return knowledge.unpin(g.member, id)


@route(bp, "/knowledge/<int:id>/retire", "POST", summary="Retire an entry for good (its author or an owner).",
       action="knowledge.retire", response=schemas.Entry, errors=(403, 409))
def retire(id):
    return knowledge.retire(g.member, id)
