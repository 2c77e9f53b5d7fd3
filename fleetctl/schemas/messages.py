"""Messages: send, the inbox and threads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from fleetctl.schemas.common import (
    NON_BLANK,
    Body,
    BodyChars,
    Domains,
    Id,
    Listing,
    Page,
    Preview,
    Recipient,
    Request,
    Response,
    text,
)
from fleetctl.services.messages import MAX_RECIPIENTS, MAX_SUBJECT


class SendMessage(Request):
    recipients: Annotated[list[Recipient], Strict(), Field(min_length=1, max_length=MAX_RECIPIENTS,
                                                          description="duplicates collapse")]
    subject: text(MAX_SUBJECT, pattern=NON_BLANK)
    body: Body = None
    domains: Domains = Field(None, description="domain tags; cross-fleet recipients need one in common")
    reply_to: Id | None = Field(None, description="id of a message you can read; the reply joins its thread")


class InboxQuery(Page):
    unread: bool = Field(None, description="only unread messages")


class Delivery(Response):
    recipient: str
    delivered_at: str | None
    read_at: str | None


class Message(Response):
    id: int
    sender: str
    recipients: list[str]
    subject: str
    body: str | None = Field(None, description="the full body (one message)")
    preview: Preview = None
    body_chars: BodyChars = None
    domains: list[str]
    thread: int
    reply_to: int | None
    created_at: str
    delivered_at: str | None
    read_at: str | None
    deliveries: list[Delivery] | None = Field(None, description="only for the sender")


class Messages(Listing):
    items: list[Message]


class Thread(Messages):
    thread: int
