"""HTTP routes of the documents primitive.

A document is addressed as `/v1/documents/{name}` in the caller's fleet or `/v1/documents/{fleet}/{name}`
from anywhere; each route is registered in both forms. `versions` and `diff` are never document names,
so `/v1/documents/{name}/versions` has one reading.
"""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.server.api import route
from fleetctl.server.fields import PAGE, F
from fleetctl.services import documents

bp = Blueprint("documents", __name__, url_prefix="/v1")

PUT = {
    "body": F("string", required=True, description="the full text of the new version (markdown)"),
    "title": F("string", max_length=300, description="kept from the previous version when omitted"),
    "base_version": F("integer", minimum=0, maximum=2**31, nullable=True,
                      description="refuse (409) unless this is still the latest version; 0 = must not exist"),
    "message": F("string", max_length=1000, description="what changed, like a commit message"),
    "domains": F("array", max_items=32, description="domain tags (replace the list; kept when omitted)"),
    "visibility": F("string", enum=("fleet", "cross-fleet"), description="kept when omitted; default fleet"),
}
VERSION = {"version": F("integer", minimum=1, maximum=2**31, description="a past version (default latest)")}
DIFF = {"from": F("integer", required=True, minimum=1, maximum=2**31, description="old version"),
        "to": F("integer", required=True, minimum=1, maximum=2**31, description="new version")}


def document_route(suffix: str, method: str = "GET", **options):
    """Register a view under `/documents/<name>{suffix}` and `/documents/<fleet>/<name>{suffix}`."""

    def decorate(view):
        def cross_fleet(fleet: str, name: str, **kwargs):
            return view(name=f"{fleet}/{name}", **kwargs)

        cross_fleet.__name__ = f"{view.__name__}_by_address"
        cross_fleet.__doc__ = view.__doc__
        route(bp, f"/documents/<fleet>/<name>{suffix}", method, **options)(cross_fleet)
        return route(bp, f"/documents/<name>{suffix}", method, **options)(view)

    return decorate


@route(bp, "/documents", summary="List the documents the caller may see, newest first.",
       query={"domain": F("array", max_items=32, description="only documents tagged with one of these (repeatable)"),
              **PAGE})
def list_documents(query):
    return documents.list_documents(g.member, **query)


@document_route("", "PUT", summary="Write a new version (creates the document on first put).",
                action="document.put", body=PUT)
def put_document(name, body):
    doc, created = documents.put(g.member, name, **body)
    g.resource = f"document:{doc['address']}"
    return doc, 201 if created else 200


@document_route("", summary="A document with the body of one version (latest by default).", query=VERSION)
def get_document(name, query):
    return documents.show(g.member, name, query.get("version"))


@document_route("/versions", summary="The versions of a document, newest first (no bodies).", query=PAGE)
def document_versions(name, query):
    return documents.history(g.member, name, **query)


@document_route("/diff", summary="A unified diff of a document between two versions.", query=DIFF)
def document_diff(name, query):
    return documents.diff(g.member, name, query["from"], query["to"])
