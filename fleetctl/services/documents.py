"""Documents: named, versioned texts of a fleet. A write with a base version is compare-and-set."""

from __future__ import annotations

import difflib

from peewee import JOIN, IntegrityError

from fleetctl import db
from fleetctl.errors import Conflict, Forbidden, Invalid, NotFound
from fleetctl.models.base import iso, utcnow
from fleetctl.models.core import Fleet, Member
from fleetctl.models.documents import Document, DocumentVersion
from fleetctl.services import changes, paging, previews, quota, validate, visibility, wake_streams

KIND = "document"
# Sub-resources of /v1/documents/{name}: never document names, so every URL has one reading.
RESERVED = ("versions", "diff")
Author = Member.alias("author")
AuthorFleet = Fleet.alias("author_fleet")


def _slug(name: str) -> str:
    if not isinstance(name, str) or not validate.MEMBER_SLUG.match(name) or name in RESERVED:
        raise Invalid(f"invalid document name {name!r}: use a lowercase slug [a-z0-9][a-z0-9-]{{0,62}} "
                      f"other than {' or '.join(RESERVED)}")
    return name


def parse_name(caller: Member, address: str) -> tuple[str, str]:
    """(fleet name, document name) from `name` (the caller's fleet) or `fleet/name`."""
    fleet_name, _, bare = (address or "").rpartition("/")
    if fleet_name:
        validate.fleet_name(fleet_name)
    return fleet_name or caller.fleet.name, _slug(bare)


def _with_people(query, model, member_field):
    """Join the member behind `member_field` and its fleet, so addresses cost no extra queries."""
    return (query.switch(model).join(Author, JOIN.LEFT_OUTER, on=(member_field == Author.id), attr=member_field.name)
            .join(AuthorFleet, JOIN.LEFT_OUTER, on=(Author.fleet == AuthorFleet.id), attr="fleet"))


def _documents():
    query = Document.select(Document, Fleet, Author, AuthorFleet).join(Fleet, on=(Document.fleet == Fleet.id))
    return _with_people(query, Document, Document.updated_by)


def _find_visible(caller: Member, fleet_name: str, name: str) -> Document:
    doc = _documents().where(Fleet.name == fleet_name, Document.name == name).first()
    if doc is None or not visibility.can_see(caller, doc):
        raise NotFound(f"no document {fleet_name}/{name}")
    return doc


def get_visible(caller: Member, address: str) -> Document:
    """The document at `address` if the caller may see it, else 404 as if it did not exist."""
    return _find_visible(caller, *parse_name(caller, address))


def _address(member: Member | None) -> str | None:
    return member.address if member is not None and member.id is not None else None


def to_dict(doc: Document) -> dict:
    """The document's metadata (no body): `version` is the current version number."""
    return {"id": doc.id, "name": doc.name, "fleet": doc.fleet.name, "address": f"{doc.fleet.name}/{doc.name}",
            "title": doc.title, "visibility": doc.visibility, "domains": doc.domains, "version": doc.version,
            "latest_version": doc.version, "created_at": iso(doc.created_at), "updated_at": iso(doc.updated_at),
            "updated_by": _address(doc.updated_by)}


def version_to_dict(row: DocumentVersion) -> dict:
    """One kept version, with a preview of its body (history)."""
    return {"version": row.version, "author": _address(row.author), "message": row.message,
            "created_at": iso(row.created_at), **previews.body(row, full=False)}


def _listed_document(doc: Document) -> dict:
    """A document as a list item: its metadata and a preview of its latest version's body."""
    return {**to_dict(doc), **previews.body(doc, full=False)}


def _version(doc: Document, number: int | None) -> DocumentVersion:
    number = doc.version if number is None else number
    query = DocumentVersion.select(DocumentVersion, Author, AuthorFleet)
    row = (_with_people(query, DocumentVersion, DocumentVersion.author)
           .where(DocumentVersion.document == doc.id, DocumentVersion.version == number).first())
    if row is None:
        raise NotFound(f"document {doc.fleet.name}/{doc.name} has no version {number} "
                       f"(versions 1 to {doc.version})")
    return row


def show(caller: Member, address: str, version: int | None = None) -> dict:
    """The document with the body of `version` (latest by default); `version` is that version's number."""
    doc = get_visible(caller, address)
    row = _version(doc, version)
    return {**to_dict(doc), "version": row.version, "body": row.body, "author": _address(row.author),
            "message": row.message, "version_created_at": iso(row.created_at)}


def _check_writable(caller: Member, fleet_name: str, name: str) -> None:
    """Only the document's own fleet writes it: 403 if the caller can see it, 404 otherwise."""
    if fleet_name == caller.fleet.name:
        return
    _find_visible(caller, fleet_name, name)
    raise Forbidden(f"document {fleet_name}/{name} belongs to fleet {fleet_name!r}; only its members can write it")


def _stale(address: str, base: int, current: int) -> Conflict:
    if current == 0:
        return Conflict(f"document {address} does not exist yet: put it without base_version, or with "
                        f"base_version 0", current_version=0)
    if base > current:
        return Conflict(f"document {address} has no version {base} yet (the latest is {current}): put again "
                        f"with base_version {current}", current_version=current)
    return Conflict(f"document {address} is at version {current}, not {base}: someone else wrote it first; "
                    f"get version {current}, merge, and put again with base_version {current}",
                    current_version=current)


def _append(caller: Member, name: str, fields: dict, body: str, message: str, base: int | None) -> tuple[int, int]:
    """Write one new version inside a transaction; returns (document id, version number written)."""
    address = f"{caller.fleet.name}/{name}"
    doc = Document.get_or_none(Document.fleet == caller.fleet_id, Document.name == name)
    if doc is None:
        if base:
            raise _stale(address, base, 0)
        doc = Document.create(fleet=caller.fleet_id, name=name, updated_by=caller.id, version=1,
                              **{"title": name, "visibility": "fleet", "domains": [], **fields})
        number = 1
    else:
        # Compare-and-set: the conditional update matches only while the version is still the one
        # the writer read (PostgreSQL re-checks the condition after waiting on a concurrent writer).
        update = Document.update(version=Document.version + 1, updated_at=utcnow(), updated_by=caller.id, **fields)
        condition = Document.id == doc.id
        if base is not None:
            condition &= Document.version == base
        if update.where(condition).execute() == 0:
            raise _stale(address, base, Document.get_by_id(doc.id).version)
        number = Document.select(Document.version).where(Document.id == doc.id).scalar()
    DocumentVersion.create(document=doc.id, version=number, body=body, author=caller.id, message=message)
    if "domains" in fields:
        visibility.set_domains(KIND, doc.id, fields["domains"])
    quota.charge(caller.fleet_id, quota.size_of(body, message, fields.get("title")))
    streams = wake_streams.broadcast("documents", caller.fleet_id, fields.get("domains", doc.domains),
                                     fields.get("visibility", doc.visibility))
    changes.record(KIND, doc.id, caller.fleet_id, "version", streams, note=str(number), actor_id=caller.id)
    return doc.id, number


def put(caller: Member, address: str, body: str, title: str | None = None, base_version: int | None = None,
        message: str | None = None, domains: list[str] | None = None,
        visibility: str | None = None) -> tuple[dict, bool]:
    """Add a new version (creating the document on first put); returns (document, created).

    The document's `version` is the version this put wrote (`latest_version` may already be later).
    """
    fleet_name, name = parse_name(caller, address)
    _check_writable(caller, fleet_name, name)
    body = validate.body(body)
    message = validate.text(message, "message", required=False, max_len=1000)
    fields: dict = {}
    if title is not None:
        fields["title"] = validate.text(title, "title", max_len=300)
    if domains is not None:
        fields["domains"] = validate.domains(domains)
    if visibility is not None:
        fields["visibility"] = validate.visibility(visibility)
    if base_version is not None and (isinstance(base_version, bool) or not isinstance(base_version, int)
                                     or base_version < 0):
        raise Invalid("base_version must be a whole number, 0 for a document that must not exist yet")
    for attempt in (1, 2):
        try:
            with db.write():
                doc_id, number = _append(caller, name, fields, body, message, base_version)
            break
        except IntegrityError:
            # Two first puts raced on the unique (fleet, name): the loser retries as an append
            # (or, with a base version, reports the conflict on its retry).
            if attempt == 2:
                raise Conflict(f"document {fleet_name}/{name} was written concurrently; try again") from None
    doc = _documents().where(Document.id == doc_id).first()
    return {**to_dict(doc), "version": number}, number == 1


def list_documents(caller: Member, domain: str | list[str] | None = None, limit: int | None = None,
                   after: int | None = None) -> dict:
    """Documents the caller may see, newest first, optionally only those tagged with one of `domain`."""
    latest = (DocumentVersion.document == Document.id) & (DocumentVersion.version == Document.version)
    query = (_documents().select_extend(*previews.columns(DocumentVersion.body))
             .switch(Document).join(DocumentVersion, JOIN.LEFT_OUTER, on=latest, attr="latest")
             .where(visibility.visible_clause(Document, KIND, caller)))
    tags = validate.domains([domain] if isinstance(domain, str) else domain)
    if tags:
        query = query.where(Document.id.in_(visibility.tagged_with_any(KIND, tags)))
    return paging.page(query, Document.id, limit, after, _listed_document)


def history(caller: Member, address: str, limit: int | None = None, after: int | None = None) -> dict:
    """The versions of a document, newest first, with previews of their bodies."""
    doc = get_visible(caller, address)
    columns = previews.listed(DocumentVersion, DocumentVersion.body)
    query = _with_people(DocumentVersion.select(*columns, Author, AuthorFleet), DocumentVersion,
                         DocumentVersion.author).where(DocumentVersion.document == doc.id)
    return paging.page(query, DocumentVersion.version, limit, after, version_to_dict)


def diff(caller: Member, address: str, old: int, new: int) -> dict:
    """A unified diff of the document from version `old` to version `new`."""
    doc = get_visible(caller, address)
    a, b = _version(doc, old), _version(doc, new)
    label = f"{doc.fleet.name}/{doc.name}"
    lines = difflib.unified_diff(a.body.splitlines(), b.body.splitlines(), fromfile=f"{label}@{old}",
                                 tofile=f"{label}@{new}", lineterm="")
    text = "\n".join(lines)
    return {"name": doc.name, "address": label, "from": old, "to": new, "diff": text + "\n" if text else ""}
