"""The wake prompt's character budget: what is cut first, what is always kept, and the counts of what waits."""

from __future__ import annotations

import re

from fleetctl.services import wake_actions
from fleetctl.services.wake_lines import TITLE_CHARS
from fleetctl.services.wake_read import Item, Section
from fleetctl.services.wake_render import Prompt

NEXT = "`fleetctl wake` hands over the next part."


def tip(n: int, title: str = "t") -> Item:
    return Item(n, {"id": n, "kind": "tip", "title": title, "author": "acme/ops", "supersedes": None},
                [wake_actions.read("knowledge", n)])


def message(n: int, subject: str = "s") -> Item:
    return Item(n, {"id": n, "subject": subject, "sender": "acme/ops", "reply_to": None, "thread": n},
                [wake_actions.read("message", n)])


def prompt(messages: int = 0, tips: int = 0, pins: int = 0, beyond: int = 0, capped: bool = False,
           page: int = 25) -> Prompt:
    sections = [Section("messages", [message(n) for n in range(1, messages + 1)], end=messages),
                Section("knowledge", [tip(n) for n in range(101, 101 + tips)], end=tips, beyond=beyond,
                        capped=capped)]
    return Prompt("acme/bot", sections, [tip(n) for n in range(901, 901 + pins)], "cli", page)


def ids(text: str) -> list[int]:
    """The ids of the items a prompt holds, in prompt order."""
    return [int(n) for n in re.findall(r"^- #(\d+) ", text, re.M)]


def test_a_prompt_within_budget_is_whole():
    p = prompt(messages=2, tips=2, pins=1)
    whole = p.text()
    assert p.fit(len(whole)) == whole
    assert ids(whole) == [1, 2, 101, 102, 901]
    assert whole.startswith("# Fleet wake for acme/bot: 4 new items since your last wake\n")
    assert "## New messages (2)\n" in whole and "## Pinned knowledge (1)\n" in whole
    assert whole.endswith("Nothing else is waiting.")


def test_nothing_new_is_one_line():
    assert prompt(pins=0).fit(200) == "# Fleet wake for acme/bot: nothing new since your last wake."


def test_a_tiny_budget_still_hands_over_one_item_and_counts_the_rest():
    p = prompt(messages=3, tips=4, pins=2)
    text = p.fit(1)
    assert ids(text) == [1]  # the oldest item of the top section; pinned lines are gone
    assert text.startswith("# Fleet wake for acme/bot: 1 new item since your last wake (6 more waiting)\n")
    assert "## New messages (1; 2 more waiting)\n" in text
    assert "## New gotchas, tips and fixes (0; 4 more waiting)" in text
    assert "Pinned knowledge" not in text
    assert text.endswith(f"6 items still waiting: {NEXT}")
    assert p.waiting() == 6


def test_one_item_larger_than_the_budget_is_handed_over_alone_with_its_title_clipped():
    p = prompt()
    p.sections[1].items = [tip(7, "word " * 1000)]
    p.shown = [0, 1]
    text = p.fit(50)
    assert len(text) > 50 and ids(text) == [7]
    title = re.search(r"\[tip\] (.*) by acme/ops", text).group(1)
    assert len(title) == TITLE_CHARS and title.endswith("...")
    assert text.endswith("Nothing else is waiting.")


def test_cuts_go_pinned_lines_first_then_items_from_the_end_of_the_lowest_section_up():
    """Shrinking the budget to just below each prompt's length removes exactly one line, in this order
    (titles long enough that every cut shortens the prompt)."""
    def long() -> Prompt:
        p = prompt(messages=2, tips=2, pins=2)
        for item in [*p.sections[1].items, *p.pinned]:
            item.data["title"] = "x" * 100
        return p

    text = long().text()
    seen = [ids(text)]
    for _ in range(5):
        text = long().fit(len(text) - 1)
        seen.append(ids(text))
    assert seen == [
        [1, 2, 101, 102, 901, 902],
        [1, 2, 101, 102, 901],
        [1, 2, 101, 102],
        [1, 2, 101],
        [1, 2],
        [1],
    ]


def test_the_fewest_cuts_that_fit_are_made():
    """For every budget at which the prompt changes, no item is cut that would have fit (pinned lines are
    cut first, and the first news item cut adds the lines that say news is waiting, so the prompt's length
    is not monotonic in the number of cuts)."""
    for news in range(1, 5):
        for pins in range(5):
            lengths = []
            for cuts in range(pins + news):
                p = prompt(tips=news, pins=pins)
                p._cut((list(p.shown), p.pins), cuts)
                lengths.append(len(p.text()))
            for budget in sorted({n + d for n in lengths for d in (-1, 0)}):
                p = prompt(tips=news, pins=pins)
                p.fit(budget)
                made = (pins - p.pins) + (news - sum(p.shown))
                fewest = next((c for c, n in enumerate(lengths) if n <= budget), len(lengths) - 1)
                assert made == fewest, (news, pins, budget, lengths)


def test_counts_of_what_waits_beyond_the_page():
    p = prompt(tips=30, page=25)
    text = p.fit(1_000_000)
    assert len(ids(text)) == 25
    assert "## New gotchas, tips and fixes (25; 5 more waiting)" in text
    assert text.endswith(f"5 items still waiting: {NEXT}")


def test_a_backlog_past_the_count_cap_is_written_with_a_plus():
    p = prompt(tips=2, beyond=1000, capped=True)
    text = p.fit(1_000_000)
    assert "(2; 1000+ more waiting)" in text
    assert text.startswith("# Fleet wake for acme/bot: 2 new items since your last wake (1000+ more waiting)")
    assert text.endswith(f"1000+ items still waiting: {NEXT}")


def test_mcp_style_writes_tool_calls():
    p = Prompt("acme/bot", [Section("knowledge", [tip(5)], end=5)], [], "mcp", 25)
    assert '-> `fleet_read {"type": "knowledge", "id": 5}`' in p.fit(10_000)
