"""The quickstart's runner: real `fleetctl` commands run in-process through the Typer app.

It prints each command, lets its human output through (or summarises it), and keeps the object it
emitted for the next step.
"""

from __future__ import annotations

import contextlib
import io
import shlex
from dataclasses import dataclass, field
from typing import Any

from typer import _click

from fleetctl.cli import output
from fleetctl.cli.main import app
from fleetctl.errors import ExitCode, FleetError


@dataclass
class Result:
    """What one command did: its exit code, the object it emitted, its error line."""

    code: int
    data: Any = None
    error: str = ""


@dataclass
class Runner:
    """Runs fleetctl commands in-process, printing each (human mode) and keeping what they emit."""

    human: bool = True
    commands: list[str] = field(default_factory=list)

    def say(self, text: str = "", style: str | None = None) -> None:
        """A line of the quickstart's own narration (human mode only)."""
        if not self.human:
            return
        if style and output.is_tty():
            from rich.markup import escape

            output.console().print(f"[{style}]{escape(text)}[/]")
        else:
            print(text)

    def heading(self, text: str) -> None:
        """A section title: a rule on a TTY, an underlined line otherwise."""
        if not self.human:
            return
        print()
        if output.is_tty():
            from rich.markup import escape

            output.console().rule(f"[bold]{escape(text)}[/]", align="left")
        else:
            print(f"{text}\n{'=' * len(text)}")

    def narrate(self, text: str) -> None:
        """What the next commands are about, after a blank line."""
        self.say()
        self.say(text, "italic")

    def run(self, *args: Any, profile: str | None = None, show: bool = True, ok: tuple[int, ...] = (0,)) -> Result:
        """Run `fleetctl [--profile P] ARGS`; raise unless its exit code is in `ok`."""
        argv = (["--profile", profile] if profile else []) + [str(a) for a in args]
        line = "fleetctl " + shlex.join(argv)
        self.commands.append(line)
        self.say(f"$ {line}", "bold cyan" if show else "dim")
        quiet = not (show and self.human)
        err = io.StringIO()
        spinner = output.progress("waiting for the server...") \
            if quiet and self.human else contextlib.nullcontext()
        with spinner, output.recording() as seen, contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            try:
                code = app(args=argv, prog_name="fleetctl", standalone_mode=False) or 0
            except _click.exceptions.ClickException as exc:
                code, err = exc.exit_code, io.StringIO(exc.format_message())
        if code == ExitCode.INTERRUPTED:
            raise KeyboardInterrupt
        result = Result(int(code), seen[-1] if seen else None, err.getvalue().strip().removeprefix("fleetctl: error: "))
        if result.code not in ok:
            raise FleetError(f"`{line}` failed (exit {result.code}): {result.error or 'no detail'}")
        return result
