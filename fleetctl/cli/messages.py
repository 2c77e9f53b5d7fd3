"""`fleetctl msg`: send messages, read the inbox, read a message, follow a thread."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client
from fleetctl.cli.inputs import AfterOpt, BodyFileOpt, BodyOpt, DomainOpt, LimitOpt, read_body

msg_app = FleetTyper(help="Store-and-forward messages between members, across fleets under their policy.")

MAX_SUBJECT = 300  # the server's cap (services.messages.MAX_SUBJECT); the CLI must not import services
IdArg = Annotated[int, typer.Argument(help="Message id.", min=1, metavar="ID")]
INBOX_COLUMNS = [("NEW", lambda m: "*" if m["read_at"] is None else ""), ("ID", "id"), ("FROM", "sender"),
                 ("SUBJECT", "subject"), ("AGE", lambda m: output.relative(m["created_at"]))]


def _preview(m: dict) -> str:
    """A list item's (thread's) preview, and where the rest is when it was cut."""
    preview = m.get("preview") or ""
    if m.get("body_chars", 0) > len(preview):
        preview += f"\n\n[... {m['body_chars']} characters in all: fleetctl msg show {m['id']}]"
    return preview


def _show(m: dict) -> None:
    """One message as header lines, then its body (markdown on a TTY)."""
    view = {"id": m["id"], "from": m["sender"], "to": m["recipients"], "subject": m["subject"],
            "date": f"{m['created_at']} ({output.relative(m['created_at'])})", "domains": m["domains"] or "-",
            "thread": m["thread"], "reply_to": m["reply_to"], "body": m.get("body", _preview(m))}
    keys = ["id", "from", "to", "subject", "date", "domains", "thread", "reply_to"]
    if m.get("deliveries") is not None:
        view["read_by"] = [d["recipient"] for d in m["deliveries"] if d["read_at"]] or "-"
        keys.append("read_by")
    output.fields(view, keys, markdown_key="body")


@msg_app.command("send")
def send(
    ctx: typer.Context,
    members: Annotated[list[str], typer.Argument(
        help="Recipients: 'name' (your fleet) or 'fleet/name'; at most 100, duplicates collapse; "
             "you may include yourself.", metavar="MEMBER...", show_default=False)],
    subject: Annotated[str | None, typer.Option(
        "--subject", "-s", help="Subject line (required, except a reply takes 'Re: <subject>').")] = None,
    body: BodyOpt = None, body_file: BodyFileOpt = None, domain: DomainOpt = None,
    reply_to: Annotated[int | None, typer.Option(
        "--reply-to", min=1, help="Id of a message you can read; the reply joins its thread "
                                  "and, without --domain, carries its domains.")] = None,
) -> None:
    """Send a message to every MEMBER or to none: one unknown or refused recipient stops it all.

    Cross-fleet recipients accept a message only if their registration allows it (cross_fleet,
    allow_fleets) and it shares a --domain with them.
    """
    if subject is None and reply_to is None:
        raise typer.BadParameter("a message needs --subject (a reply with --reply-to takes 'Re: <subject>')",
                                 param_hint="'--subject'")
    text = read_body(body, body_file, capped=True) or ""
    api = client(ctx)
    if subject is None:
        original = api.messages.show(reply_to)["subject"]
        subject = original if original.lower().startswith("re:") else f"Re: {original}"[:MAX_SUBJECT]
    data = api.messages.send(members, subject, body=text, domains=domain or [], reply_to=reply_to)
    output.emit(ctx, data, lambda d: print(
        f"Sent message {d['id']} to {', '.join(d['recipients'])} (thread {d['thread']})."))


@msg_app.command("inbox")
def inbox(
    ctx: typer.Context,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread messages.")] = False,
    limit: LimitOpt = None, after: AfterOpt = None,
) -> None:
    """List messages to you, unread (*) first, then newest; listing marks them delivered."""
    data = client(ctx).messages.inbox(unread=unread, limit=limit, after=after)

    def human(d: dict) -> None:
        output.table(d["items"], INBOX_COLUMNS, empty="No messages." if not unread else "No unread messages.")
        if d["next"] is not None:
            print(f"More: fleetctl msg inbox --after {d['next']}")

    output.emit(ctx, data, human)


@msg_app.command("read")
def read(ctx: typer.Context, id: IdArg) -> None:
    """Show a message you sent or received and mark it read (for a recipient)."""
    output.emit(ctx, client(ctx).messages.read(id), _show)


@msg_app.command("show")
def show(ctx: typer.Context, id: IdArg) -> None:
    """Show a message without marking it delivered or read."""
    output.emit(ctx, client(ctx).messages.show(id), _show)


@msg_app.command("thread")
def thread(ctx: typer.Context, id: IdArg, limit: LimitOpt = None, after: AfterOpt = None) -> None:
    """Show the whole conversation that message ID belongs to, oldest first (what you can read)."""
    data = client(ctx).messages.thread(id, limit=limit, after=after)

    def human(d: dict) -> None:
        for n, m in enumerate(d["items"]):
            if n:
                print("\n" + "-" * 40)
            _show(m)
        if d["next"] is not None:
            print(f"\nMore: fleetctl msg thread {id} --after {d['next']}")

    output.emit(ctx, data, human)


def register(app: typer.Typer) -> None:
    """Add `fleetctl msg` to the root app."""
    app.add_typer(msg_app, name="msg")
