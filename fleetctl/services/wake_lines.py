"""How each item of a wake reads as one line of its prompt, by the change kind of the item."""

from __future__ import annotations

TITLE_CHARS = 120
NOTE_CHARS = 300

TASK_EVENTS = {
    "assigned": "assigned to you by {by}",
    "in_review": "waiting for your review (assignee {assignee})",
    "claimed": "your task was claimed by {by}",
    "accepted": "your task was accepted by {by}",
    "rejected": "your task was rejected by {by}",
    "done": "your task is done ({by})",
    "approved": "approved by {by}",
    "changes_requested": "changes requested by {by}",
    "cancelled": "cancelled by {by}",
}


def clip(text: str | None, limit: int = TITLE_CHARS) -> str:
    """One line of at most `limit` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _said(note: str | None) -> str:
    return f': "{clip(note, NOTE_CHARS)}"' if note else ""


def knowledge(item: dict) -> str:
    """A knowledge entry: id, kind, title, author, and the entry it replaces."""
    replaces = f" (replaces #{item['supersedes']})" if item.get("supersedes") else ""
    return f"#{item['id']} [{item['kind']}] {clip(item['title'])} by {item['author']}{replaces}"


def message(item: dict) -> str:
    """A message: id, subject, sender, and its thread when it is a reply."""
    reply = f" (a reply in thread #{item['thread']})" if item.get("reply_to") else ""
    return f"#{item['id']} \"{clip(item['subject'])}\" from {item['sender']}{reply}"


def task(item: dict) -> str:
    """A task: id, title, state, priority, and what happened to it (with the note given)."""
    event = TASK_EVENTS.get(item["event"], item["event"]).format(**item)
    return f"#{item['id']} {clip(item['title'])} [{item['state']}, {item['priority']}]: {event}{_said(item['note'])}"


def research(item: dict) -> str:
    """Research: a review to do, or the verdict on one's own research."""
    head = f"#{item['id']} {clip(item['title'])} by {item['author']} (confidence {item['confidence']})"
    if item["event"] == "review_requested":
        return f"{head}: review requested (revision {item['revision']})"
    return f"{head}: {item['verdict']} by {item['reviewer']}{_said(item['comment'])}; now {item['state']}"


def document(item: dict) -> str:
    """A document: its address, newest version, title, and how many new versions by whom."""
    count = item["new_versions"]
    return (f"{item['address']} v{item['version']} {clip(item['title']) or '(untitled)'}: "
            f"{count} new version{'s' if count != 1 else ''} by {item['author']}")
