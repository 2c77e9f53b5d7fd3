"""The actions a wake prompt suggests, each written two ways: a fleetctl command line that runs as
printed (`commands=cli`) and an MCP tool call with exact JSON arguments (`commands=mcp`).

No alternatives, no placeholders: one action per line. Actions that need a reason carry a short
quoted reason that is true as written (REASONS), so the line runs as printed; an agent with
something better to say replaces the quoted text.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

STYLES = ("cli", "mcp")
REASONS = {
    "reject": "declined by the assignee",
    "request-changes": "changes requested by the reviewer",
}


@dataclass(frozen=True)
class Action:
    """One suggested action: a label, its command line and its MCP tool call."""

    label: str
    cli: str
    tool: str
    args: dict = field(default_factory=dict)

    def command(self, style: str) -> str:
        """The action as a shell command (`cli`) or as a tool call (`mcp`)."""
        return self.cli if style == "cli" else f"{self.tool} {json.dumps(self.args)}"

    def as_dict(self, style: str) -> dict:
        out = {"action": self.label, "command": self.command(style)}
        if style == "mcp":
            out.update(tool=self.tool, arguments=self.args)
        return out


def read(kind: str, ref: int, label: str = "read") -> Action:
    """Show one knowledge entry, task, research or message (`msg read` marks the message read)."""
    commands = {"knowledge": "knowledge show", "task": "task show", "research": "research show",
                "message": "msg read", "thread": "msg thread"}
    return Action(label, f"fleetctl {commands[kind]} {ref}", "fleet_read", {"type": kind, "id": ref})


def task(ref: int, action: str) -> Action:
    """One task transition; reasons as in REASONS."""
    args: dict = {"id": ref, "action": action}
    cli = f"fleetctl task {action} {ref}"
    if action in REASONS:
        args["reason"] = REASONS[action]
        cli += f" --reason {shlex.quote(REASONS[action])}"
    return Action(action, cli, "fleet_task_action", args)


def review(ref: int, verdict: str) -> Action:
    """One research verdict (`approve`, `request-changes`, `reject`), without a comment."""
    return Action(verdict, f"fleetctl research review {ref} --{verdict}", "fleet_review_research",
                  {"id": ref, "verdict": verdict})


def revise(ref: int, title: str, confidence: float) -> Action:
    """Publish a new revision of one's research (same fields, reviewers asked again)."""
    return Action("revise", f"fleetctl research publish --revises {ref}", "fleet_publish_research",
                  {"revises": ref, "title": title, "confidence": confidence})


def document(short: str, address: str, old: int, new: int) -> Action:
    """A document's new versions: the diff from `old` to `new`, or the whole document when it is new."""
    if old < 1:
        return Action("read", f"fleetctl doc get {short}", "fleet_read", {"type": "document", "name": address})
    return Action("diff", f"fleetctl doc diff {short} {old} {new}", "fleet_read",
                  {"type": "diff", "name": address, "from": old, "to": new})


def next_part() -> Action:
    """Hand over the next part of the news."""
    return Action("wake", "fleetctl wake", "fleet_wake", {})
