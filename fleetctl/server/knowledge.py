"""HTTP routes of the knowledge feed: publish, list, search, show, chain, pin, unpin, retire."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.models.knowledge import KINDS
from fleetctl.server.api import route
from fleetctl.server.fields import PAGE, F
from fleetctl.services import knowledge, knowledge_feed

bp = Blueprint("knowledge", __name__, url_prefix="/v1")

PUBLISH = {
    "kind": F("string", required=True, enum=KINDS, description="tip, gotcha, breaking or fix"),
    "title": F("string", required=True, max_length=300, description="one line"),
    "body": F("string", description="markdown, at most 1 MiB"),
    "domains": F("array", max_items=32, description="domain tags; default: the superseded entry's"),
    "supersedes": F("integer", nullable=True, minimum=1, maximum=2**62,
                    description="id of an entry of your fleet that this one replaces"),
    "expires_at": F("string", nullable=True, max_length=64, description="ISO 8601 time in the future"),
    "expires_in": F("string", nullable=True, max_length=32, description="duration such as 90s, 3h, 7d, 2w"),
    "pinned": F("boolean"),
    "visibility": F("string", enum=("fleet", "cross-fleet")),
}
FEED = {
    "domain": F("array", max_items=32, description="list these domains in place of your own"),
    "kind": F("array", enum=KINDS, max_items=len(KINDS), description="only these kinds (repeatable)"),
    "all": F("boolean", description="include superseded, expired and retired entries"),
    "limit": PAGE["limit"],
    "after": F("integer", minimum=0, maximum=2**62, description="the `next` value of the previous page"),
}
SEARCH = {
    "q": F("string", required=True, max_length=500, description="words to find in titles and bodies"),
    "kind": FEED["kind"],
    "domain": F("array", max_items=32, description="only entries tagged with one of these domains"),
    "all": FEED["all"],
    "limit": PAGE["limit"],
    "after": F("integer", minimum=0, maximum=100_000, description="the `next` value of the previous page"),
}


@route(bp, "/knowledge", "POST", summary="Publish a knowledge entry (optionally superseding one).",
       action="knowledge.publish", body=PUBLISH, status=201)
def publish(body):
    return knowledge.publish(g.member, **body)


@route(bp, "/knowledge", summary="The caller's feed: visible, in its domains, pinned first, then newest.",
       query=FEED)
def feed(query):
    return knowledge_feed.feed(g.member, **query)


@route(bp, "/knowledge/search", summary="Full-text search over titles and bodies of visible entries.",
       query=SEARCH)
def search(query):
    return knowledge_feed.search(g.member, **query)


@route(bp, "/knowledge/<int:id>", summary="Show one entry.")
def show(id):
    return knowledge.show(g.member, id)


@route(bp, "/knowledge/<int:id>/chain", summary="The supersession chain through an entry, oldest first.")
def chain(id):
    return {"items": knowledge.chain(g.member, id, full=False), "next": None}


@route(bp, "/knowledge/<int:id>/pin", "POST", summary="Pin an entry (any member of its fleet).",
       action="knowledge.pin")
def pin(id):
    return knowledge.pin(g.member, id)


@route(bp, "/knowledge/<int:id>/unpin", "POST", summary="Unpin an entry (its author or an owner).",
       action="knowledge.unpin")
def unpin(id):
    return knowledge.unpin(g.member, id)


@route(bp, "/knowledge/<int:id>/retire", "POST", summary="Retire an entry for good (its author or an owner).",
       action="knowledge.retire")
def retire(id):
    return knowledge.retire(g.member, id)
