"""`fleetctl audit`: the fleet's audit log (owners)."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import client, in_flag_terms
from fleetctl.cli.inputs import AfterOpt

COLUMNS = [("WHEN", lambda r: output.relative(r["at"]) if output.is_tty() else r["at"]), ("MEMBER", "member"),
           ("ACTION", "action"), ("RESOURCE", "resource"), ("STATUS", "status"), ("IP", "ip"),
           ("COUNT", "count")]  # refusals without a member: how many that record stands for


def audit(
    ctx: typer.Context,
    member: Annotated[str | None, typer.Option("--member", help="Only this member.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only this action (or prefix, e.g. task).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only records at or after this ISO time.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N records.")] = 50,
    after: AfterOpt = None,
) -> None:
    """Read the audit log of your fleet, newest first (owner only)."""
    with in_flag_terms(since="--since"):
        data = client(ctx).audit.list(member=member, action=action, since=since, limit=limit, after=after)
    output.emit(ctx, data, lambda d: output.table(d["items"], COLUMNS, empty="No audit records."))


def register(app: typer.Typer) -> None:
    from fleetctl.cli.app import with_json

    app.command("audit")(with_json(audit))
