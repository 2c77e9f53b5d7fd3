"""HTTP routes of the messages primitive: send, inbox, show, read, thread."""

from __future__ import annotations

from flask import Blueprint, g

from fleetctl.schemas import messages as schemas
from fleetctl.schemas.common import Page
from fleetctl.server.api import route
from fleetctl.services import messages

bp = Blueprint("messages", __name__, url_prefix="/v1")



@route(bp, "/messages", "POST", summary="Send a message to every recipient or to none (the sender is you).",
       action="message.send", body=schemas.SendMessage, response=schemas.Message,
       status=201, errors=(403, 404))
def send(body):
    return messages.send(g.member, **body)


@route(bp, "/messages", summary="Your inbox: unread first, then newest; listing marks messages delivered.",
       query=schemas.InboxQuery, response=schemas.Messages)
def inbox(query):
    return messages.inbox(g.member, **query)


@route(bp, "/messages/<int:id>", summary="Show one message you sent or received (no side effect).",
       response=schemas.Message)
def show(id):
    return messages.show(g.member, id)


@route(bp, "/messages/<int:id>/read", "POST", summary="Show one message and mark it read for you.",
       action="message.read", response=schemas.Message)
def read(id):
    return messages.read(g.member, id)


@route(bp, "/messages/<int:id>/thread", summary="The messages of a thread you can read, oldest first.",
       query=Page, response=schemas.Thread)
def thread(id, query):
    return messages.thread(g.member, id, **query)
