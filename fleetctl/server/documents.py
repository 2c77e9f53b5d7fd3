"""HTTP routes of the documents primitive.

A document is addressed as `/v1/documents/{name}` in the caller's fleet or `/v1/documents/{fleet}/{name}`
from anywhere; each route is registered in both forms. `versions` and `diff` are never document names,
so `/v1/documents/{name}/versions` has one reading.
"""

from __future__ import annotations

from flask import Blueprint, g
from werkzeug.routing import BaseConverter

from fleetctl.schemas import documents as schemas
from fleetctl.schemas.common import Page
from fleetctl.server.api import route
from fleetctl.services import documents

bp = Blueprint("documents", __name__, url_prefix="/v1")


class DocumentName(BaseConverter):
    """A document name after a fleet: never `versions` or `diff`, so `PUT /documents/{name}/diff` is a 405."""

    regex = r"(?!(?:versions|diff)$)[^/]+"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("document", DocumentName))

PATH = {"name": schemas.NAME_PARAM, "fleet": schemas.FLEET_PARAM}


def document_route(suffix: str, method: str = "GET", errors: tuple[int, ...] = (), **options):
    """Register a view under `/documents/<name>{suffix}` and `/documents/<fleet>/<name>{suffix}`."""

    def decorate(view):
        def cross_fleet(fleet: str, name: str, **kwargs):
            return view(name=f"{fleet}/{name}", **kwargs)

        cross_fleet.__name__ = f"{view.__name__}_by_address"
        cross_fleet.__doc__ = view.__doc__
        # `PUT /documents/{name}/diff` (or /versions) is not a document named diff: a 405, the sub-resource's.
        by_address = (*errors, 405) if method == "PUT" else errors
        route(bp, f"/documents/<fleet>/<document:name>{suffix}", method, path=PATH, errors=by_address,
              **options)(cross_fleet)
        return route(bp, f"/documents/<name>{suffix}", method, path=PATH, errors=errors, **options)(view)

    return decorate


@route(bp, "/documents", summary="List the documents the caller may see, newest first.",
       query=schemas.DocumentQuery, response=schemas.Documents)
def list_documents(query):
    return documents.list_documents(g.member, **query)


@document_route("", "PUT", summary="Write a new version (creates the document on first put).",
                action="document.put", body=schemas.PutDocument, response=schemas.Document, statuses=(200, 201),
                errors=(403, 409))
def put_document(name, body):
    doc, created = documents.put(g.member, name, **body)
    g.resource = f"document:{doc['address']}"
    return doc, 201 if created else 200


@document_route("", summary="A document with the body of one version (latest by default).",
                query=schemas.VersionQuery, response=schemas.Document)
def get_document(name, query):
    return documents.show(g.member, name, query.get("version"))


@document_route("/versions", summary="The versions of a document, newest first (no bodies).", query=Page,
                response=schemas.Versions)
def document_versions(name, query):
    return documents.history(g.member, name, **query)


@document_route("/diff", summary="A unified diff of a document between two versions.",
                query=schemas.DiffQuery, response=schemas.DiffResult)
def document_diff(name, query):
    return documents.diff(g.member, name, query["from"], query["to"])
