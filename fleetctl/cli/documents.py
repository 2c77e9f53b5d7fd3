"""Documents: doc put/get/history/diff/list. Versioned texts; `fleet/name` reads another fleet's."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client, in_flag_terms, json_mode
from fleetctl.cli.inputs import (
    AfterOpt,
    BodyFileOpt,
    BodyOpt,
    DomainOpt,
    LimitOpt,
    VisibilityOpt,
    item_name,
    read_body,
    visibility_field,
)

doc_app = FleetTyper(help="Versioned documents: specs, runbooks, plans. Every version is kept.")

NameArg = Annotated[str, typer.Argument(help="Document name (slug), or fleet/name for another fleet's.",
                                         metavar="NAME")]
COLUMNS = [("NAME", "address"), ("TITLE", "title"), ("VERSION", "version"), ("VISIBILITY", "visibility"),
           ("DOMAINS", "domains"), ("UPDATED", lambda d: output.relative(d["updated_at"])),
           ("BY", "updated_by")]
HISTORY = [("VERSION", "version"), ("AUTHOR", "author"), ("MESSAGE", "message"), ("CHARS", "body_chars"),
           ("WHEN", lambda v: output.relative(v["created_at"]))]
SHOWN = ("address", "title", "version", "latest_version", "visibility", "domains", "author", "message",
         "version_created_at")


def _name(name: str) -> str:
    """A document's `name` or `fleet/name` (an empty name is a usage error, not the document list)."""
    return item_name("document", name)


@doc_app.command("put")
def put(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Document name (lowercase slug) in your fleet.", metavar="NAME")],
    body: BodyOpt = None, body_file: BodyFileOpt = None,
    title: Annotated[str | None, typer.Option("--title", help="Title (kept from the last version if omitted).")] = None,
    base_version: Annotated[int | None, typer.Option(
        "--base-version", min=0,
        help="Refuse (exit 5) unless N is still the latest version: no lost updates. 0 = must be new.")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="What changed (like a commit message).")]
    = None,
    domain: DomainOpt = None,
    cross_fleet: VisibilityOpt = None,
) -> None:
    """Write a new version of a document (created on first put). The body is the whole new text."""
    text = read_body(body, body_file, required=True)
    with in_flag_terms(base_version="--base-version"):
        doc = client(ctx).documents.put(_name(name), text, title=title, base_version=base_version, message=message,
                                        domains=domain, **visibility_field(cross_fleet))
    output.emit(ctx, doc, lambda d: print(f"Wrote {d['address']} version {d['version']}."))


@doc_app.command("get")
def get(
    ctx: typer.Context, name: NameArg,
    version: Annotated[int | None, typer.Option("--version", "-v", min=1, help="A past version (default latest).")]
    = None,
    raw: Annotated[bool, typer.Option("--raw", help="Print only the body, exactly as stored.")] = False,
) -> None:
    """Show a document with the body of one version (latest by default)."""
    doc = client(ctx).documents.get(_name(name), version=version)
    if raw and not json_mode(ctx):
        sys.stdout.write(doc["body"])
        return
    output.emit(ctx, doc, lambda d: output.fields(d, SHOWN, markdown_key="body"))


@doc_app.command("history")
def history(ctx: typer.Context, name: NameArg, limit: LimitOpt = None, after: AfterOpt = None) -> None:
    """List the versions of a document, newest first."""
    data = client(ctx).documents.history(_name(name), limit=limit, after=after)
    output.emit(ctx, data, lambda d: output.table(d["items"], HISTORY, empty="No versions."))


@doc_app.command("diff")
def diff(
    ctx: typer.Context, name: NameArg,
    old: Annotated[int, typer.Argument(metavar="A", min=1, help="The version to diff from.")],
    new: Annotated[int, typer.Argument(metavar="B", min=1, help="The version to diff to.")],
) -> None:
    """Print a unified diff of a document from version A to version B."""
    data = client(ctx).documents.diff(_name(name), old, new)
    output.emit(ctx, data, lambda d: sys.stdout.write(d["diff"] or f"Versions {old} and {new} are identical.\n"))


@doc_app.command("list")
def list_documents(ctx: typer.Context, domain: Annotated[list[str] | None, typer.Option(
        "--domain", "-d", help="Only documents tagged with this domain (repeatable: any of them).")] = None,
        limit: LimitOpt = None, after: AfterOpt = None) -> None:
    """List the documents you may see (your fleet's, and cross-fleet ones in your domains)."""
    data = client(ctx).documents.list(domain=domain, limit=limit, after=after)
    output.emit(ctx, data, lambda d: output.table(d["items"], COLUMNS, empty="No documents."))


def register(app: typer.Typer) -> None:
    """Add `fleetctl doc` to the root app."""
    app.add_typer(doc_app, name="doc")
