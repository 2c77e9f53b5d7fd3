"""A closed stdout (`fleetctl ... | head -1`) ends the command quietly with exit 0, Rich's output included."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer


def pipe_closed(*_: Any) -> None:
    """The reader of stdout went away (`| head`): stop quietly with exit 0, and keep Python's final flush
    of stdout from complaining."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (in-process tests)
        pass
    raise typer.Exit(0)


def quiet_rich_pipes() -> None:
    """Rich handles a closed pipe itself, with exit 1: make it end like every other write (exit 0).
    Called where Rich is first used (tables, help), so a plain command never imports it."""
    from rich.console import Console

    Console.on_broken_pipe = pipe_closed
