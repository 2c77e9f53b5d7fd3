"""HTTP routes of the messages primitive: send, inbox, show, read, thread."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.server.api import route
from fleetctl.server.fields import PAGE, F
from fleetctl.services import messages

bp = Blueprint("messages", __name__, url_prefix="/v1")

SEND = {
    "recipients": F("array", required=True, max_items=messages.MAX_RECIPIENTS,
                    description="'name' (your fleet) or 'fleet/name'; duplicates collapse"),
    "subject": F("string", required=True, max_length=messages.MAX_SUBJECT),
    "body": F("string", description="markdown, at most 1 MiB"),
    "domains": F("array", max_items=32, description="domain tags; cross-fleet recipients need one in common"),
    "reply_to": F("integer", nullable=True, minimum=1, maximum=2**62,
                  description="id of a message you can read; the reply joins its thread"),
}


@route(bp, "/messages", "POST", summary="Send a message to every recipient or to none (the sender is you).",
       action="message.send", body=SEND, status=201)
def send(body):
    return messages.send(g.member, **body)


@route(bp, "/messages", summary="Your inbox: unread first, then newest; listing marks messages delivered.",
       query={"unread": F("boolean", description="only unread messages"), **PAGE})
def inbox(query):
    return messages.inbox(g.member, **query)


@route(bp, "/messages/<int:id>", summary="Show one message you sent or received (no side effect).")
def show(id):
    return messages.show(g.member, id)


@route(bp, "/messages/<int:id>/read", "POST", summary="Show one message and mark it read for you.",
       action="message.read")
def read(id):
    return messages.read(g.member, id)


@route(bp, "/messages/<int:id>/thread", summary="The messages of a thread you can read, oldest first.",
       query=PAGE)
def thread(id, query):
    return messages.thread(g.member, id, **query)
