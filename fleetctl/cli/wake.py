"""The wake prompt: `fleetctl wake [--peek] [--max-chars N] [--hook]` and `wake ack CURSOR`.

With FLEET_WAKE_CURSOR set (the daemon sets it for its command) every wake only peeks: the daemon
acknowledges the news once its command succeeded, so an agent that crashes gets it again.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client, json_mode, state, with_json
from fleetctl.errors import FleetError
from fleetctl.schemas.limits import DEFAULT_MAX_CHARS, MAX_MAX_CHARS, MIN_MAX_CHARS
from fleetctl.wake_layout import KEYS as SECTIONS

HOOK_TIMEOUT = 10.0

wake_app = FleetTyper(
    help="Your news since your last wake, as a prompt for a model; hands over what the prompt shows.",
    no_args_is_help=False, invoke_without_command=True)

MaxCharsOpt = Annotated[int, typer.Option(
    "--max-chars", min=MIN_MAX_CHARS, max=MAX_MAX_CHARS,
    help="Keep the prompt within N characters: lower sections are cut first and wait for the next wake "
         "(at least one item is always shown).")]
DAEMON_ENV = "FLEET_WAKE_CURSOR"


def _peek_only(peek: bool) -> bool:
    """Peek when asked to, or inside a daemon run (FLEET_WAKE_CURSOR set): the daemon acknowledges."""
    return peek or bool(os.environ.get(DAEMON_ENV))


def _fetch(api, peek: bool, max_chars: int, wait: int | None = None) -> dict:
    if wait:  # live wake: the server holds the peek until there is news, then (without --peek) wake as usual
        data = api.wake.peek(max_chars=max_chars, wait=wait)
        if peek or data["empty"]:
            return data
    if peek:
        return api.wake.peek(max_chars=max_chars)
    return api.wake.advance(max_chars=max_chars)


def _unavailable(ctx: typer.Context, reason: str) -> None:
    """The hook's one line when the fleet cannot be reached (a wake-shaped JSON document with --json); exit 0."""
    line = f"(fleet wake unavailable: {reason}; continuing without fleet news)"
    if json_mode(ctx):
        output.print_json({"cursor": None, "empty": True, "prompt": line, "sections": {k: [] for k in SECTIONS},
                           "counts": {k: {"total": 0, "shown": 0, "waiting": 0, "more": False, "at_least": False}
                                      for k in SECTIONS},
                           "waiting": 0, "error": reason})
    else:
        print(line)
    raise typer.Exit(0)


def _hook(ctx: typer.Context, peek: bool, max_chars: int, wait: int | None = None) -> None:
    """Session-start hook mode: print the prompt, or one line when the fleet is unavailable; exit 0."""
    try:
        from fleetctl.client import Client

        settings = state(ctx).settings()
        data = _fetch(Client(settings.url, settings.token, timeout=HOOK_TIMEOUT), peek, max_chars, wait)
    except FleetError as err:
        _unavailable(ctx, err.detail)
    except Exception as exc:  # an outage of any kind must never block an agent from starting
        _unavailable(ctx, f"{type(exc).__name__}: {exc}")
    if json_mode(ctx):
        output.print_json(data)
    else:
        print(data["prompt"])
    raise typer.Exit(0)


@wake_app.callback(invoke_without_command=True)
@with_json
def wake(
    ctx: typer.Context,
    peek: Annotated[bool, typer.Option("--peek", help="Show the wake without advancing the cursor.")] = False,
    max_chars: MaxCharsOpt = DEFAULT_MAX_CHARS,
    hook: Annotated[bool, typer.Option(
        "--hook", help="Session-start hook mode: always exit 0; one line instead when the fleet is down.")] = False,
    wait: Annotated[int | None, typer.Option(
        "--wait", min=1, max=60, metavar="SECONDS",
        help="Live wake: when there is nothing new, wait up to SECONDS (1-60) for news before answering.")] = None,
) -> None:
    """Print your news since your last wake; the items it shows count as handed over.

    What does not fit --max-chars (or a section's page of 25) stays pending and comes first in the next
    wake; the last line says how many items are still waiting. --json prints {"cursor", "empty", "prompt",
    "sections", "counts", "waiting"}. With --peek nothing is handed over; `fleetctl wake ack CURSOR`
    hands over exactly what that peek showed. With FLEET_WAKE_CURSOR set (inside `fleetctl daemon`)
    every wake only peeks: the daemon acknowledges when its command succeeds.
    """
    if ctx.invoked_subcommand is not None:
        return
    peek = _peek_only(peek)
    if hook:
        _hook(ctx, peek, max_chars, wait)
    data = _fetch(client(ctx), peek, max_chars, wait)

    def human(d: dict) -> None:
        print(d["prompt"])
        if peek and not d["empty"]:
            print(f"(peek: nothing handed over; `fleetctl wake ack {d['cursor']}` acknowledges this prompt)",
                  file=sys.stderr)

    output.emit(ctx, data, human)


@wake_app.command("ack")
def ack(ctx: typer.Context,
        cursor: Annotated[str, typer.Argument(metavar="CURSOR",
                                              help="The cursor a peek returned, exactly as printed.")]) -> None:
    """Acknowledge a peek: exactly the items its prompt showed count as handed over."""
    data = client(ctx).wake.ack(cursor)
    output.emit(ctx, data, lambda d: print("Acknowledged." if d["moved"] else "Already acknowledged."))


def register(app: typer.Typer) -> None:
    """Add `wake` to the root app."""
    app.add_typer(wake_app, name="wake")
