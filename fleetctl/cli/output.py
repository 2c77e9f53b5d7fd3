"""The one output layer: JSON for scripts and agents, Rich tables on a TTY, plain text otherwise."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer

from fleetctl.cli.app import json_mode
from fleetctl.cli.pipes import quiet_rich_pipes

STATE_STYLES = {
    "open": "cyan", "assigned": "blue", "accepted": "blue", "in_progress": "yellow",
    "in_review": "magenta", "done": "green", "cancelled": "dim", "current": "green",
    "superseded": "dim", "expired": "dim", "retired": "dim", "draft": "cyan",
    "approved": "green", "changes_requested": "yellow", "rejected": "red",
    "breaking": "bold red", "gotcha": "yellow", "tip": "cyan", "fix": "green",
    "urgent": "bold red", "high": "red", "normal": "", "low": "dim",
}
FLEX_COLUMNS = ("TITLE", "SUBJECT", "MESSAGE", "NOTE", "RESOURCE")
IDENTITY_COLUMNS = ("ID", "STATE", "NAME", "NEW")  # never cut: they say which row is which
COLUMN_GAP = 2  # what the table's separator and padding take between two columns
STYLED = ("STATE", "KIND", "PRIORITY", "FROM", "TO")  # columns coloured by STATE_STYLES unless told otherwise

Column = tuple[str, str | Callable[[dict], Any]]
_recorders: list[list] = []


def is_tty() -> bool:
    return sys.stdout.isatty()


def console():
    from rich.console import Console
    quiet_rich_pipes()
    return Console(highlight=False, no_color=bool(os.environ.get("NO_COLOR")) or None)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def emit(ctx: typer.Context, data: Any, human: Callable[[Any], None] | None = None) -> None:
    """Print `data` as one JSON document in JSON mode, else through `human` (or as key: value lines)."""
    for seen in _recorders:
        seen.append(data)
    if json_mode(ctx):
        print_json(data)
    elif human is not None:
        human(data)
    elif isinstance(data, dict):
        fields(data)
    else:
        print(data)


@contextmanager
def recording() -> Iterator[list]:
    """Collect every object the commands run inside the block emit (their human output still prints)."""
    seen: list = []
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)


@contextmanager
def progress(text: str, delay: float = 1.0) -> Iterator[None]:
    """A spinner line on a TTY for a step that runs longer than `delay` seconds; nothing otherwise."""
    stream = sys.stdout
    if not stream.isatty():
        yield
        return
    done = threading.Event()

    def spin() -> None:
        if done.wait(delay):
            return
        utf8 = (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"
        frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏" if utf8 else "-\\|/"
        n = 0
        while not done.wait(0.1):
            stream.write(f"\r{frames[n % len(frames)]} {text}")
            stream.flush()
            n += 1
        stream.write("\r\033[K")
        stream.flush()

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def ok(ctx: typer.Context, message: str) -> None:
    """Confirm an action that has no object to show."""
    for seen in _recorders:
        seen.append({"ok": True})
    if json_mode(ctx):
        print_json({"ok": True})
    else:
        print(message)


def relative(value: str | None) -> str:
    """'3m ago' / 'in 2h' for an ISO timestamp."""
    if not value:
        return "-"
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    seconds = (dt.datetime.now(dt.UTC) - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{int(seconds // size)}{unit}"
            break
    else:
        text = f"{int(seconds)}s"
    return f"in {text}" if future else f"{text} ago"


def _cell(row: dict, key: str | Callable[[dict], Any], empty: str = "") -> str:
    value = key(row) if callable(key) else row.get(key)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or empty
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    return str(value) or empty


def _is_time(key: str, text: str) -> bool:
    return (key.endswith("_at") or key in ("when", "at")) and len(text) >= 19 and text[4] == "-" and "T" in text


def styled(value: str) -> str:
    """Rich markup for a state, kind or priority in its colour (any other text escaped)."""
    from rich.markup import escape

    style = STATE_STYLES.get(value)
    return f"[{style}]{escape(value)}[/]" if style else escape(value)


def table(rows: Sequence[dict], columns: Sequence[Column], title: str | None = None,
          empty: str = "Nothing to show.", styled_columns: Sequence[str] = STYLED) -> None:
    """Rows as a Rich table on a TTY, as tab-separated lines with a header otherwise."""
    if not rows:
        print(empty)
        return
    if not is_tty():
        print("\t".join(h.upper() for h, _ in columns))
        for row in rows:
            print("\t".join(_cell(row, k).replace("\t", " ").replace("\n", " ") for _, k in columns))
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=title, header_style="bold", box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False,
              collapse_padding=True)
    cells = [[_cell(row, k) for _, k in columns] for row in rows]
    headers = [h for h, _ in columns]
    out = console()
    widths = fit_widths(headers, cells, out.width)
    for n, header in enumerate(headers):
        values = [c[n] for c in cells if c[n] not in ("", "-")]
        numeric = bool(values) and all(v.replace(".", "", 1).isdigit() for v in values)
        t.add_column(header, justify="right" if numeric else "left", no_wrap=True, overflow="ellipsis",
                     width=widths[n])
    for row in cells:
        t.add_row(*[styled(text) if header in styled_columns else
                    f"[red]{text}[/]" if header == "STATUS" and text[:1] in ("4", "5") else escape(text)
                    for (header, _), text in zip(columns, row, strict=True)])
    out.print(t)


def fit_widths(headers: list[str], cells: list[list[str]], total: int) -> list[int]:
    """Column widths that fit `total` characters, every row on one line: the title (else the widest column)
    gives way first, down to 20, then the other columns, widest first; identity columns (id, state) never."""
    widths = [max(len(h), *(len(c[n]) for c in cells)) for n, h in enumerate(headers)]
    excess = sum(widths) + COLUMN_GAP * (len(widths) - 1) - total
    flex = next((h for h in FLEX_COLUMNS if h in headers), None) or headers[widths.index(max(widths))]
    order = [headers.index(flex)] + sorted((n for n, h in enumerate(headers) if h not in IDENTITY_COLUMNS
                                            and h != flex), key=lambda n: -widths[n])
    for n in order:
        if excess <= 0:
            break
        floor = min(widths[n], 20 if n == order[0] else max(len(headers[n]), 6))
        cut = min(excess, widths[n] - floor)
        widths[n] -= cut
        excess -= cut
    return widths


def fields(obj: dict, keys: Sequence[str] | None = None, markdown_key: str | None = None) -> None:
    """One object as `key: value` lines; `markdown_key` is rendered as markdown on a TTY."""
    keys = keys or [k for k in obj if k != markdown_key]
    width = max((len(k) for k in keys), default=0)
    rows = []
    for key in keys:
        text = _cell(obj, key, empty="-")
        rows.append((key, text, f"{text} ({relative(text)})" if _is_time(key, text) else text))
    tty = is_tty()
    if tty:
        from rich.markup import escape

        out = console()
        for key, text, shown in rows:
            out.print(f"[bold]{key.ljust(width)}[/]  {styled(text) if text in STATE_STYLES else escape(shown)}")
    else:
        for key, _, shown in rows:
            print(f"{key.ljust(width)}  {shown}")
    body = obj.get(markdown_key) if markdown_key else None
    if body:
        print()
        if tty:
            from rich.markdown import Markdown

            console().print(Markdown(body))
        else:
            print(body)


def secret_notice(token: str, who: str) -> None:
    """Show a freshly minted token once, with the warning that it will not be shown again."""
    print(f"Token for {who} (shown once; store it now):")
    print(token)
