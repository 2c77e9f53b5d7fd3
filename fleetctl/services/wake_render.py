"""The wake prompt as markdown for a model, kept within a character budget.

Each section is a heading with its count and one line per item; an item with one action names it
on its own line (`-> command`), an item with several gets one line per action below it. Lower
sections are cut first (pinned knowledge, then documents, knowledge, ...), items from the end of a
section (the newest), and at least one item is always handed over. The last line says how many
items are still waiting and that the next wake hands them over.
"""

from __future__ import annotations

from fleetctl.services import wake_actions
from fleetctl.services.wake_read import Item, Section
from fleetctl.services.wake_sections import READERS
from fleetctl.wake_layout import BY_KEY


def item_text(key: str, item: Item, style: str) -> str:
    """One item: its line, then one line per action (a single action goes on the item's line)."""
    text = f"- {READERS[BY_KEY[key].kind].line(item.data)}"
    if len(item.actions) == 1:
        return f"{text} -> `{item.actions[0].command(style)}`"
    return "\n".join([text] + [f"  - {a.label}: `{a.command(style)}`" for a in item.actions])


def _plural(n: int, adjective: str = "", written: str | None = None) -> str:
    return f"{written or n} {adjective}item{'s' if n != 1 else ''}"


class Prompt:
    """The prompt of one wake, from its sections and pinned entries, cut to a budget."""

    def __init__(self, address: str, sections: list[Section], pinned: list[Item], style: str, page: int) -> None:
        self.address, self.sections, self.pinned, self.style = address, sections, pinned, style
        self.shown = [min(len(s.items), page) for s in sections]
        self.pins = len(pinned)
        self._texts: dict[tuple[str, int], str] = {}

    def _item(self, key: str, index: int, item: Item) -> str:
        if (key, index) not in self._texts:
            self._texts[key, index] = item_text(key, item, self.style)
        return self._texts[key, index]

    def waiting(self) -> int:
        return sum(s.waiting(n) for s, n in zip(self.sections, self.shown, strict=True))

    def _more(self, count: int) -> str:
        """A count of waiting items; `+` when a section stopped counting (its backlog is longer)."""
        return f"{count}+" if any(s.capped for s in self.sections) else str(count)

    def text(self) -> str:
        count, waiting = sum(self.shown), self.waiting()
        if not count and not waiting:
            parts = [f"# Fleet wake for {self.address}: nothing new since your last wake."]
        else:
            more = f" ({self._more(waiting)} more waiting)" if waiting else ""
            parts = [f"# Fleet wake for {self.address}: {_plural(count, 'new ')} since your last wake{more}"]
        for section, shown in zip(self.sections, self.shown, strict=True):
            left = section.waiting(shown)
            if shown or left:
                more = f"; {left}{'+' if section.capped else ''} more waiting" if left else ""
                heading = f"## {BY_KEY[section.key].heading} ({shown}{more})"
                parts.append("\n".join([heading] + [self._item(section.key, i, it)
                                                    for i, it in enumerate(section.items[:shown])]))
        if self.pins:
            parts.append("\n".join([f"## {BY_KEY['pinned'].heading} ({len(self.pinned)})"]
                                   + [self._item("pinned", i, it) for i, it in enumerate(self.pinned[:self.pins])]))
        if waiting:
            parts.append(f"{_plural(waiting, written=self._more(waiting))} still waiting: "
                         f"`{wake_actions.next_part().command(self.style)}` hands over the next part.")
        elif count:
            parts.append("Nothing else is waiting.")
        return "\n\n".join(parts)

    def _cut(self, full: tuple[list[int], int], removals: int) -> None:
        """Set the shown counts to `full` less the first `removals` cuts: pinned lines first, then items from
        the end of the lowest section up."""
        shown, self.pins = list(full[0]), full[1]
        take = min(removals, self.pins)
        self.pins -= take
        removals -= take
        for index in range(len(shown) - 1, -1, -1):
            take = min(removals, shown[index])
            shown[index] -= take
            removals -= take
        self.shown = shown

    def fit(self, max_chars: int) -> str:
        """Cut pinned lines, then items from the lowest section up, until the prompt fits; never below one
        news item (that one is handed over even if it alone exceeds the budget). The length shrinks as
        pinned lines are cut, and again as news items are cut, but the first news item cut adds the lines
        that say news is waiting: the fewest cuts that fit are found by bisection in one range or the other."""
        text = self.text()
        if len(text) <= max_chars:
            return text
        full = (list(self.shown), self.pins)
        self._cut(full, full[1])
        if len(self.text()) <= max_chars:
            low, high = 0, full[1]
        else:
            low, high = full[1], full[1] + max(sum(full[0]) - 1, 0)  # high: all but one item is cut
        while low < high:
            middle = (low + high) // 2
            self._cut(full, middle)
            if len(self.text()) <= max_chars:
                high = middle
            else:
                low = middle + 1
        self._cut(full, low)
        return self.text()
