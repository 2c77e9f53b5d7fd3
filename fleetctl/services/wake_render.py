"""The wake prompt as markdown for a model, kept within a character budget.

Each section is a heading with its count, one line per item with its id and the fleetctl command
that acts on it, and, when items were left out (over the item limit or the budget), a last line
saying how many and the command that lists them. Lower sections are cut first.
"""

from __future__ import annotations

from fleetctl.services.wake_stream import Section

TITLE_CHARS = 120

HEADINGS = {
    "breaking": "Breaking changes",
    "messages": "New messages",
    "tasks": "Tasks waiting on you",
    "research": "Research waiting on you",
    "knowledge": "New gotchas, tips and fixes",
    "documents": "Documents with new versions",
    "pinned": "Pinned knowledge",
}

LIST_COMMANDS = {
    "breaking": "fleetctl knowledge list --kind breaking",
    "messages": "fleetctl msg inbox --unread",
    "tasks": "fleetctl task list --mine",
    "research": "fleetctl research list --state in_review",
    "knowledge": "fleetctl knowledge list",
    "documents": "fleetctl doc list",
    "pinned": "fleetctl knowledge list",
}

TASK_EVENTS = {
    "assigned": "assigned to you by {creator}",
    "changes_requested": "changes requested: rework, then `fleetctl task submit {id}`",
    "in_review": "waiting for your review (assignee {assignee}); or `fleetctl task request-changes {id} --reason R`",
    "done": "your task is done (assignee {assignee})",
    "cancelled": "your task was cancelled",
}


def clip(text: str | None, limit: int = TITLE_CHARS) -> str:
    """One line of at most `limit` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _knowledge(item: dict) -> str:
    extra = ""
    if item.get("superseded_by"):
        extra = f" (superseded by #{item['superseded_by']})"
    elif item.get("supersedes"):
        extra = f" (supersedes #{item['supersedes']})"
    return f"#{item['id']} [{item['kind']}] {clip(item['title'])} by {item['author']}{extra}"


def _task(item: dict) -> str:
    event = TASK_EVENTS[item["event"]].format(**item)
    return f"#{item['id']} {clip(item['title'])} [{item['state']}, {item['priority']}]: {event}"


def _research(item: dict) -> str:
    what = ("review requested" if item["event"] == "review_requested"
            else f"reviewed ({item['verdict']}), now {item['state']}")
    return (f"#{item['id']} {clip(item['title'])} by {item['author']} "
            f"(confidence {item['confidence']}): {what}")


def _document(item: dict) -> str:
    count = item["new_versions"]
    plural = "s" if count != 1 else ""
    return (f"{item['address']} v{item['version']} {clip(item['title']) or '(untitled)'}: "
            f"{count} new version{plural}, last by {item['author']}")


LINES = {
    "breaking": _knowledge,
    "messages": lambda m: f"#{m['id']} \"{clip(m['subject'])}\" from {m['sender']}",
    "tasks": _task,
    "research": _research,
    "knowledge": _knowledge,
    "documents": _document,
    "pinned": lambda k: f"#{k['id']} [{k['kind']}] {clip(k['title'])}",
}


def item_line(key: str, item: dict) -> str:
    """One markdown bullet; pinned entries stay compact (one line, no command)."""
    text = LINES[key](item)
    return f"- {text}" if key == "pinned" else f"- {text} -> `{item['command']}`"


def block(section: Section, shown: int) -> str:
    """A section's markdown with its first `shown` items."""
    count = f"{section.total}{'+' if section.more else ''}"
    heading = f"## {HEADINGS[section.key]} ({count})"
    if section.key == "pinned":
        heading += " - read one with `fleetctl knowledge show ID`"
    lines = [heading] + [item_line(section.key, item) for item in section.items[:shown]]
    left = section.total - shown
    if left > 0 or section.more:
        more = f"{left}{'+' if section.more else ''} more" if left > 0 else "older ones"
        lines.append(f"- ... {more} not shown; list them with `{LIST_COMMANDS[section.key]}`")
    return "\n".join(lines)


def header(address: str, count: int, more: bool) -> str:
    """The first line: who is woken and how much is new."""
    if not count and not more:
        return f"# Fleet wake for {address}: nothing new since your last wake."
    items = f"{count}{'+' if more else ''} new item{'s' if count != 1 or more else ''}"
    return f"# Fleet wake for {address}: {items} since your last wake (fleetctl commands shown per item)"


def render(address: str, sections: list[Section], max_chars: int) -> str:
    """The prompt, never longer than `max_chars`: items are cut from the lowest section upwards."""
    news = [s for s in sections if s.key != "pinned"]
    count = sum(s.total for s in news)
    top = header(address, count, any(s.more for s in news))
    present = [s for s in sections if s.total or s.more]
    shown = [len(s.items) for s in present]

    def text(upto: int) -> str:
        parts = [top] + [block(s, n) for s, n in zip(present[:upto], shown[:upto], strict=True)]
        dropped = sum(s.total for s in present[upto:] if s.key != "pinned")
        if upto < len(present):
            parts.append(f"... {dropped} more item(s) in later sections; see `fleetctl wake --peek --json`")
        return "\n\n".join(parts)

    prompt = text(len(present))
    for index in range(len(present) - 1, -1, -1):
        while len(prompt) > max_chars and shown[index] > 0:
            shown[index] -= 1
            prompt = text(len(present))
    upto = len(present)
    while len(prompt) > max_chars and upto > 0:
        upto -= 1
        prompt = text(upto)
    return prompt[:max_chars]
