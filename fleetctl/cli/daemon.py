"""`fleetctl daemon`: run a command whenever a member's wake has news; ack only when it succeeds."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import json_mode, state
from fleetctl.errors import FleetError, Invalid
from fleetctl.schemas.limits import MAX_MAX_CHARS, MIN_MAX_CHARS


def _targets(ctx: typer.Context, profiles: list[str]) -> list:
    from fleetctl import config
    from fleetctl.client import Client
    from fleetctl.daemon import Target

    if not profiles:
        settings = state(ctx).settings()
        return [Target(settings.profile, Client(settings.url, settings.token))]
    stored = config.load_profiles()["profiles"]
    targets = []
    for name in dict.fromkeys(profiles):
        if name not in stored:
            raise FleetError(f"no profile named {name!r}; run `fleetctl login --profile {name}`")
        targets.append(Target(name, Client(stored[name].get("url") or config.DEFAULT_URL,
                                           stored[name].get("token"))))
    return targets


def daemon(
    ctx: typer.Context,
    exec_: Annotated[str, typer.Option(
        "--exec", help="Shell command run on news: the prompt is on stdin and in $FLEET_WAKE_PROMPT "
                       "and $FLEET_WAKE_FILE; FLEET_URL/FLEET_TOKEN name the woken member.")],
    profile: Annotated[list[str] | None, typer.Option(
        "--profile", help="Wake this login profile (repeatable); default: the current credentials.")] = None,
    interval: Annotated[float, typer.Option(
        "--interval", min=1, metavar="SECONDS",
        help="Longest single wait for news (the server holds a wait at most 60 s); also the first retry "
             "delay after a failed command.")] = 60,
    once: Annotated[bool, typer.Option("--once", help="Run one round and exit (for cron and tests).")] = False,
    max_chars: Annotated[int, typer.Option("--max-chars", min=MIN_MAX_CHARS, max=MAX_MAX_CHARS,
                                           help="Prompt budget in characters.")] = 8000,
    parallel: Annotated[int, typer.Option(
        "--parallel", min=1, max=64, metavar="N",
        help="Run at most N commands at the same time (one per member at most).")] = 4,
) -> None:
    """Wake agents live: wait for each profile's news at once; on news run --exec, ack only if it exits 0.

    The server holds each wait until the member has news, so the command starts within a second of
    the write. A failed command backs off exponentially from --interval (capped at 15 minutes); a server
    that goes away is retried after 1, 2, 4... seconds (at most 30) until it is back. Ctrl-C stops
    (exit 130), SIGTERM too (exit 0): running commands get SIGTERM and are not acked.
    With --once the exit code is 0, 1 if a command failed, or the server error's code.
    With --json, stdout holds only {"ok": true} (on success); the command's output goes to stderr.
    """
    from fleetctl.daemon import Daemon

    if not exec_.strip():
        raise Invalid("--exec needs a command to run (an empty one would acknowledge every wake unread)")
    as_json = json_mode(ctx)  # stdout holds one JSON document: the command's own output goes to stderr
    code = Daemon(_targets(ctx, profile or []), exec_, interval, max_chars,
                  command_stdout=2 if as_json else None, parallel=parallel).run(once=once)
    if as_json and code == 0:
        output.print_json({"ok": True})
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `daemon` to the root app."""
    app.command("daemon")(daemon)
