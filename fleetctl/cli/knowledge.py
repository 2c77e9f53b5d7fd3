"""The knowledge feed: publish, list, show (with its supersession chain), search, pin, unpin, retire."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client
from fleetctl.cli.inputs import (
    AfterOpt,
    BodyFileOpt,
    BodyOpt,
    DomainOpt,
    LimitOpt,
    VisibilityOpt,
    read_body,
    visibility_field,
)
from fleetctl.errors import Invalid

knowledge_app = FleetTyper(help="The knowledge feed: tips, gotchas, breaking changes and fixes.")

IdArg = Annotated[int, typer.Argument(help="Entry id.", min=1, metavar="ID")]
KindOpt = Annotated[list[str] | None, typer.Option(
    "--kind", "-k", help="Only entries of this kind: tip, gotcha, breaking or fix (repeatable: any of them).")]
AllOpt = Annotated[bool, typer.Option("--all", help="Include superseded, expired and retired entries (history).")]
COLUMNS = [("ID", "id"), ("KIND", "kind"), ("PIN", lambda e: "*" if e["pinned"] else ""), ("TITLE", "title"),
           ("DOMAINS", "domains"), ("AUTHOR", "author"), ("AGE", lambda e: output.relative(e["created_at"]))]
HISTORY_COLUMNS = [*COLUMNS[:2], ("STATE", "state"), *COLUMNS[2:]]
SHOW_KEYS = ["id", "kind", "title", "state", "pinned", "domains", "visibility", "author", "created_at",
             "expires_at", "supersedes", "superseded_by"]


def _entries(ctx: typer.Context, data: dict, history: bool = False, empty: str = "No knowledge entries.") -> None:
    def human(d: dict) -> None:
        output.table(d["items"], HISTORY_COLUMNS if history else COLUMNS, empty=empty,
                     styled_columns=("KIND", "STATE"))
        if d["next"] is not None:
            print(f"More: --after {d['next']}")

    output.emit(ctx, data, human)


@knowledge_app.command("publish")
def publish(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option("--kind", "-k", help="tip, gotcha, breaking or fix.")],
    title: Annotated[str, typer.Option("--title", "-t", help="One-line title.")],
    body: BodyOpt = None,
    body_file: BodyFileOpt = None,
    domain: Annotated[list[str] | None, typer.Option(
        "--domain", "-d", help="Domain tag (repeatable); with --supersedes, defaults to the old entry's.")] = None,
    supersedes: Annotated[int | None, typer.Option("--supersedes", min=1,
                                                   help="Id of an entry of your fleet this one replaces.")] = None,
    expires_in: Annotated[str | None, typer.Option("--expires-in", help="Expire after a duration: 90s, 30m, 3h, "
                                                                        "7d, 2w.")] = None,
    expires_at: Annotated[str | None, typer.Option("--expires-at", help="Expire at an ISO 8601 time "
                                                                        "(UTC unless it has an offset).")] = None,
    pin: Annotated[bool, typer.Option("--pin", help="Pin it: first in the feed and in every wake prompt.")] = False,
    cross_fleet: VisibilityOpt = None,
) -> None:
    """Publish an entry to your fleet's feed.

    With --supersedes ID it replaces an entry of your fleet: the old one leaves the feed and
    `knowledge show` walks the chain both ways.
    """
    text = read_body(body, body_file, capped=True)
    if expires_in is not None and expires_at is not None:
        raise Invalid("give --expires-in or --expires-at, not both")
    data = client(ctx).knowledge.publish(kind, title, body=text or "", pinned=pin, domains=domain,
                                         supersedes=supersedes, expires_in=expires_in, expires_at=expires_at,
                                         **visibility_field(cross_fleet))
    output.emit(ctx, data, lambda e: print(f"Published #{e['id']} ({e['kind']}): {e['title']}"
                                           + (f" (supersedes #{e['supersedes']})" if e["supersedes"] else "")))


@knowledge_app.command("list")
def list_entries(
    ctx: typer.Context,
    domain: DomainOpt = None,
    kind: KindOpt = None,
    all_: AllOpt = False,
    limit: LimitOpt = None,
    after: AfterOpt = None,
) -> None:
    """List your feed, pinned first, then newest.

    Current entries you can see that share one of your domains or have none; --domain lists
    the entries of those domains instead, --all adds superseded, expired and retired ones.
    """
    data = client(ctx).knowledge.list(domain=domain, kind=kind, all=all_, limit=limit, after=after)
    _entries(ctx, data, history=all_)


@knowledge_app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(help="Words to find in titles and bodies (all must match).",
                                              metavar="QUERY")],
    all_: AllOpt = False,
    limit: LimitOpt = None,
    after: AfterOpt = None,
) -> None:
    """Search the titles and bodies of entries you can see, best match first."""
    data = client(ctx).knowledge.search(" ".join(query), all=all_, limit=limit, after=after)
    _entries(ctx, data, history=all_, empty="No matching entries.")


def _show_human(ctx: typer.Context, entry: dict) -> None:
    output.fields(entry, SHOW_KEYS, markdown_key="body")
    if entry["supersedes"] is None and entry["superseded_by"] is None:
        return
    chain = client(ctx).knowledge.chain(entry["id"])["items"]
    print("\nChain (oldest first):")
    for link in chain:
        marker = "->" if link["id"] == entry["id"] else "  "
        print(f"{marker} #{link['id']} [{link['state']}] {link['kind']}: {link['title']} "
              f"({link['author']}, {output.relative(link['created_at'])})")


@knowledge_app.command("show")
def show(ctx: typer.Context, entry_id: IdArg) -> None:
    """Show an entry, its body and its supersession chain."""
    output.emit(ctx, client(ctx).knowledge.show(entry_id), lambda e: _show_human(ctx, e))


def _changed(ctx: typer.Context, entry: dict, verb: str) -> None:
    output.emit(ctx, entry, lambda e: print(f"{verb} #{e['id']}: {e['title']}"))


@knowledge_app.command("pin")
def pin(ctx: typer.Context, entry_id: IdArg) -> None:
    """Pin an entry of your fleet (any member of it).

    Pinned entries come first in the feed and appear in every wake prompt.
    """
    _changed(ctx, client(ctx).knowledge.pin(entry_id), "Pinned")


@knowledge_app.command("unpin")
def unpin(ctx: typer.Context, entry_id: IdArg) -> None:
    """Unpin an entry (its author or an owner)."""
    _changed(ctx, client(ctx).knowledge.unpin(entry_id), "Unpinned")


@knowledge_app.command("retire")
def retire(ctx: typer.Context, entry_id: IdArg) -> None:
    """Retire an entry (its author or an owner); it stays in --all history."""
    _changed(ctx, client(ctx).knowledge.retire(entry_id), "Retired")


def register(app: typer.Typer) -> None:
    """Add `fleetctl knowledge` to the root app."""
    app.add_typer(knowledge_app, name="knowledge")
