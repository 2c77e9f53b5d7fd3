"""Console pages for what the fleet wrote: the knowledge feed, the inbox and documents."""

from __future__ import annotations

from flask import g, request

from fleetctl.console import text
from fleetctl.console.web import bp, done, page, perform
from fleetctl.errors import Invalid
from fleetctl.models.knowledge import KINDS
from fleetctl.services import documents, knowledge, knowledge_feed, messages, validate


@bp.route("/knowledge")
def knowledge_list():
    """The feed (pinned first) or, with `q`, a full-text search."""
    me = g.console.member
    q = text.optional(request.args.get("q"))
    kind = text.optional(request.args.get("kind"))
    filters = {"kind": kind and validate.choice(kind, KINDS, "kind"), "all": request.args.get("all") == "on",
               "domain": text.words(request.args.get("domain")) or None}
    after = text.number(request.args.get("after"), "after")
    if q:
        listing = knowledge_feed.search(me, q[:500], all=filters["all"], limit=50, after=after)
    else:
        listing = knowledge_feed.feed(me, **filters, limit=50, after=after)
    return page("knowledge.html", items=listing["items"], next=listing["next"], filters=filters, q=q, kinds=KINDS)


@bp.route("/knowledge/<int:id>")
def knowledge_show(id):
    me = g.console.member
    entry = knowledge.show(me, id)
    chain = knowledge.chain(me, id)
    return page("entry.html", entry=entry, chain=chain)


def _entry_action(id: int, verb: str, call):
    perform(f"knowledge.{verb}", None, lambda: call(g.console.member, id), found=lambda e: f"knowledge:{e['id']}")
    return done(".knowledge_show", f"knowledge.{verb}", id=id)


@bp.route("/knowledge/<int:id>/pin", methods=["POST"])
def knowledge_pin(id):
    return _entry_action(id, "pin", knowledge.pin)


@bp.route("/knowledge/<int:id>/unpin", methods=["POST"])
def knowledge_unpin(id):
    return _entry_action(id, "unpin", knowledge.unpin)


@bp.route("/knowledge/<int:id>/retire", methods=["POST"])
def knowledge_retire(id):
    return _entry_action(id, "retire", knowledge.retire)


@bp.route("/inbox")
def inbox():
    """My inbox, unread first (listing marks messages delivered, as `msg inbox` does), and the send form."""
    unread = request.args.get("unread") == "on"
    after = text.number(request.args.get("after"), "after")
    listing = messages.inbox(g.console.member, unread=unread, limit=50, after=after)
    reply = text.number(request.args.get("reply_to"), "reply_to")
    return page("inbox.html", items=listing["items"], next=listing["next"], unread=unread,
                reply=messages.show(g.console.member, reply) if reply else None)


@bp.route("/messages/<int:id>")
def message_show(id):
    """One message (no side effect) and its thread; reading it is the `Mark read` button."""
    me = g.console.member
    msg = messages.show(me, id)
    thread = messages.thread(me, id, limit=200)["items"]
    return page("message.html", msg=msg, thread=thread)


@bp.route("/messages/<int:id>/read", methods=["POST"])
def message_read(id):
    perform("message.read", None, lambda: messages.read(g.console.member, id), found=lambda m: f"message:{m['id']}")
    return done(".message_show", "message.read", id=id)


@bp.route("/messages", methods=["POST"])
def message_send():
    form = request.form
    reply_to = text.number(form.get("reply_to"), "reply_to")
    sent = perform("message.send", None, lambda: messages.send(
        g.console.member, text.words(form.get("recipients")), form.get("subject", ""), form.get("body", ""),
        domains=text.words(form.get("domains")), reply_to=reply_to), status=201, found=lambda m: f"message:{m['id']}")
    return done(".message_show", "message.send", id=sent["id"])


@bp.route("/documents")
def document_list():
    domain = text.optional(request.args.get("domain"))
    after = text.number(request.args.get("after"), "after")
    listing = documents.list_documents(g.console.member, domain=domain, limit=50, after=after)
    return page("documents.html", items=listing["items"], next=listing["next"], domain=domain)


@bp.route("/documents/<path:address>")
def document_show(address):
    """A document at one version (latest by default) with every version listed."""
    me = g.console.member
    doc = documents.show(me, address, text.number(request.args.get("version"), "version"))
    versions = documents.history(me, address, limit=200)["items"]
    return page("document.html", doc=doc, versions=versions)


@bp.route("/diff/<path:address>")
def document_diff(address):
    """A unified diff between two versions; versions that do not exist are a clear 404 page."""
    old = text.number(request.args.get("from"), "from")
    new = text.number(request.args.get("to"), "to")
    if old is None or new is None or old < 1 or new < 1 or max(old, new) > 2**31:
        raise Invalid("a diff needs two version numbers: from and to (1 or more)")
    result = documents.diff(g.console.member, address, old, new)
    return page("diff.html", diff=result, lines=result["diff"].splitlines())
