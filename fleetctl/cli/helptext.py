"""Help as a person reads it: plain metavars (DOMAIN, N), text reflowed to the terminal, one-line value errors."""

from __future__ import annotations

import re
from typing import Any

from typer import _click
from typer.core import TyperArgument, TyperOption

from fleetctl.cli.pipes import quiet_rich_pipes

# Options whose value is better named by what it is than by the option's name.
METAVARS = {
    "--limit": "N", "--after": "CURSOR", "--body": "TEXT", "--body-file": "FILE", "--db": "PATH_OR_URL",
    "--profile": "NAME", "--save-profile": "NAME", "--owner": "NAME", "--allow-fleet": "FLEET",
    "--assign": "MEMBER", "--reviewer": "MEMBER", "--member": "MEMBER", "--depends-on": "ID",
    "--supersedes": "ID", "--task": "ID", "--reply-to": "ID", "--revises": "ID", "--expires-in": "DURATION",
    "--expires-at": "TIME", "--since": "TIME", "--subject": "TEXT", "--note": "TEXT", "--reason": "TEXT",
    "--comment": "TEXT", "--message": "TEXT", "--question": "TEXT", "--exec": "COMMAND",
    "--trusted-proxy": "ADDRESS", "--interval": "SECONDS", "--timeout": "SECONDS", "--review": "MODE",
}


def _metavar(param: _click.Parameter) -> str:
    """DOMAIN for --domain, N for a number, or the name METAVARS gives."""
    opts = sorted(getattr(param, "opts", []), key=len)
    name = opts[-1] if opts else param.name or "value"
    if name in METAVARS:
        return METAVARS[name]
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if annotation in (int, float) or getattr(param, "type_descriptor", None) and \
            getattr(param.type_descriptor, "is_ranged", False):
        return "N"
    return name.lstrip("-").replace("-", "_").upper()


def reflow(text: str | None) -> str | None:
    """Join the hard-wrapped lines of each paragraph so Rich wraps it at the terminal's width."""
    if not text:
        return text
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines())
                       for p in paragraphs)


class PlainOption(TyperOption):
    """An option shown as `--domain DOMAIN` (a flag as itself), never with a Python type."""

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        if self.is_flag:
            return None
        return self.metavar + ("..." if self.nargs != 1 else "")

    def _get_number_range_help_str(self) -> str | None:
        low, high = getattr(self, "min", None), getattr(self, "max", None)
        if low is not None and high is not None:
            return f"{low} to {high}"
        if low is not None:
            return f"at least {low}"
        return f"at most {high}" if high is not None else None


class PlainArgument(TyperArgument):
    """An argument shown as `TITLE` (`[NAME]` when optional) in usage lines, with no type column."""

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return name if self.nargs == 1 or name.rstrip("]").endswith("...") else name + "..."

    _get_number_range_help_str = PlainOption._get_number_range_help_str


def plain(param: _click.Parameter) -> _click.Parameter:
    """Give one parameter a plain metavar (DOMAIN for --domain, N for a number, none for a flag)."""
    if isinstance(param, TyperOption):
        param.__class__ = PlainOption
        if param.metavar is None and not param.is_flag:
            param.metavar = _metavar(param)
    elif isinstance(param, TyperArgument):
        param.__class__ = PlainArgument
        if param.metavar is None:
            param.metavar = (param.name or "value").upper()
    if param.help:
        param.help = reflow(param.help)
    return param


class PlainHelp:
    """Mixin for commands and groups: plain metavars, and help text reflowed (Rich fits it to the terminal)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = reflow(self.help)
        for param in self.params:
            plain(param)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        quiet_rich_pipes()
        for param in self.params:  # Typer adds the completion options after __init__
            plain(param)
        super().format_help(ctx, formatter)

    def get_help_option(self, ctx: _click.Context) -> _click.Option | None:
        option = super().get_help_option(ctx)
        return plain(option) if option is not None else None


def bad_value(err: _click.exceptions.UsageError) -> str | None:
    """A parameter error in plain words ('abc' is not a whole number) instead of pydantic's text."""
    cause = err.__cause__
    param = getattr(err, "param", None)
    if param is None or type(cause).__name__ != "ValidationError":
        return None
    problems = []
    for e in cause.errors():
        ctx, value = e.get("ctx") or {}, e.get("input")
        kind = e.get("type", "")
        if kind in ("int_parsing", "int_from_float"):
            problems.append(f"{value!r} is not a whole number")
        elif kind == "float_parsing":
            problems.append(f"{value!r} is not a number")
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            bound = next(iter(ctx.values()), "?")
            word = {"greater_than_equal": "at least", "greater_than": "more than",
                    "less_than_equal": "at most", "less_than": "less than"}[kind]
            problems.append(f"{value!r} is out of range: it must be {word} {bound}")
        else:
            problems.append(f"{value!r}: {e.get('msg', 'invalid')}")
    return f"Invalid value for {param.get_error_hint()}: {'; '.join(problems)}"
