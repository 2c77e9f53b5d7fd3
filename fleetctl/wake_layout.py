"""The sections of a wake, in prompt order: the one list every layer derives its section names from.

A section has a key (in the JSON `sections` and `counts`, in stream names, and the `wake_marks` column
of its mark), the heading the prompt gives it, the kind of change its items are (which says how they
are read from the change sequence, written as a line, and opened), and how its news is addressed:
to the streams of each member it concerns (`tasks@42`) or broadcast by domain (`knowledge:7:infra`).
Pinned knowledge is not news: it has no mark and shows in every wake.

Plain data on purpose (a NamedTuple: cheaper to define than a dataclass): the CLI and the daemon import
it at start-up without loading the server stack.
"""

from __future__ import annotations

from typing import NamedTuple


class WakeSection(NamedTuple):
    """One section of the wake prompt."""

    key: str
    heading: str
    kind: str  # the change kind of its items: "knowledge", "message", "task", "research" or "document"
    addressed: bool = False  # news goes to the members it concerns, else broadcast by domain
    marked: bool = True  # news handed over once (a mark per member); False: shown in every wake


SECTIONS = (
    WakeSection("breaking", "Breaking changes", "knowledge"),
    WakeSection("messages", "New messages", "message", addressed=True),
    WakeSection("tasks", "Tasks waiting on you", "task", addressed=True),
    WakeSection("research", "Research waiting on you", "research", addressed=True),
    WakeSection("knowledge", "New gotchas, tips and fixes", "knowledge"),
    WakeSection("documents", "Documents with new versions", "document"),
    WakeSection("pinned", "Pinned knowledge", "knowledge", marked=False),
)
BY_KEY = {s.key: s for s in SECTIONS}
KEYS = tuple(BY_KEY)  # every section, in the order of the JSON answer and the prompt
MARKED = tuple(s.key for s in SECTIONS if s.marked)  # the news sections, in the order of the cursor's marks
