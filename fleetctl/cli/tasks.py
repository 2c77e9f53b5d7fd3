"""Tasks: create, list, ready, show, and the actions that move a task through its states."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client
from fleetctl.cli.inputs import (
    AfterOpt,
    BodyFileOpt,
    BodyOpt,
    CrossFleetOpt,
    DomainOpt,
    LimitOpt,
    read_body,
    visibility_field,
)

task_app = FleetTyper(help="Create tasks and move them: open -> assigned/accepted -> in_progress -> "
                           "in_review -> done (or cancelled).")

IdArg = Annotated[int, typer.Argument(help="Task id.", min=1, metavar="ID")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (required; kept in the task's history).")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="A note kept in the task's history.")]
VersionOpt = Annotated[int | None, typer.Option(
    "--if-version", min=1, help="Refuse (exit 5) unless the task is still at this version.")]
COLUMNS = [("ID", "id"), ("STATE", "state"), ("PRIORITY", "priority"), ("TITLE", "title"),
           ("ASSIGNEE", "assignee"), ("DOMAINS", "domains"), ("AGE", lambda t: output.relative(t["created_at"]))]
SHOW_KEYS = ["id", "title", "state", "priority", "review", "creator", "assignee", "domains", "depends_on",
             "visibility", "version", "research", "links", "created_at", "updated_at"]
HISTORY_COLUMNS = [("WHEN", lambda h: output.relative(h["when"])), ("WHO", "who"), ("ACTION", "action"),
                   ("FROM", "from"), ("TO", "to"), ("NOTE", "note")]


def _summary(task: dict) -> None:
    who = f", assignee {task['assignee']}" if task["assignee"] else ""
    print(f"Task {task['id']} is {task['state']}{who} (version {task['version']}): {task['title']}")


def _show(task: dict) -> None:
    output.fields(task, SHOW_KEYS, markdown_key="body")
    print("\nHistory:")
    output.table(task["history"], HISTORY_COLUMNS, styled_columns=("FROM", "TO"))


def _table(data: dict, empty: str) -> None:
    output.table(data["items"], COLUMNS, empty=empty, styled_columns=("STATE", "PRIORITY"))
    if data.get("next"):
        print(f"(more: --after {data['next']})")


@task_app.command("create")
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Task title.", metavar="TITLE")],
    body: BodyOpt = None, body_file: BodyFileOpt = None, domain: DomainOpt = None,
    priority: Annotated[str | None, typer.Option("--priority", "-p", help="low, normal (default), high or "
                                                 "urgent.")] = None,
    review: Annotated[str | None, typer.Option("--review", help="required or none (default: required for high "
                                               "and urgent; only a human may waive it there).")] = None,
    assign: Annotated[str | None, typer.Option("--assign", help="Assign at once to MEMBER ('name' or "
                                               "'fleet/name'; cross-fleet policy applies).")] = None,
    route: Annotated[bool, typer.Option("--route", help="Route at once to the fleet member (other than you) "
                                        "sharing most domains, fewest active tasks; if nobody matches, nothing "
                                        "is created (exit 5).")] = False,
    depends_on: Annotated[list[int] | None, typer.Option("--depends-on", help="Task that must be done "
                                                         "before this one starts (repeatable).")] = None,
    cross_fleet: CrossFleetOpt = False,
) -> None:
    """Create a task in your fleet."""
    text = read_body(body, body_file)
    task = client(ctx).tasks.create(title, body=text, domains=domain or [], depends_on=depends_on or [], route=route,
                                    priority=priority, review=review, assign=assign, **visibility_field(cross_fleet))
    output.emit(ctx, task, _summary)


@task_app.command("list")
def list_tasks(
    ctx: typer.Context,
    mine: Annotated[bool, typer.Option("--mine", help="Only tasks you created or are assigned.")] = False,
    state: Annotated[list[str] | None, typer.Option(
        "--state", "-s", help="Only tasks in this state (repeatable: any of them; in_review is the review queue "
                              "of reviewers and owners).")] = None,
    domain: Annotated[list[str] | None, typer.Option(
        "--domain", "-d", help="Only tasks tagged with this domain (repeatable: any of them).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include done and cancelled tasks.")] = False,
    limit: LimitOpt = None, after: AfterOpt = None,
) -> None:
    """List the tasks you can see, newest first: the active ones (not done or cancelled) unless --all or
    --state."""
    data = client(ctx).tasks.list(mine=mine, state=state, domain=domain, active=not (all_ or state), limit=limit,
                                  after=after)
    output.emit(ctx, data, lambda d: _table(d, "No tasks."))


@task_app.command("ready")
def ready(ctx: typer.Context, limit: LimitOpt = None, after: AfterOpt = None) -> None:
    """Open tasks you could claim and tasks assigned to you (assigned or accepted), whose dependencies are
    all done; oldest first."""
    data = client(ctx).tasks.ready(limit=limit, after=after)
    output.emit(ctx, data, lambda d: _table(d, "Nothing ready for you."))


@task_app.command("show")
def show(ctx: typer.Context, task_id: IdArg) -> None:
    """Show a task with its history, linked research and links."""
    output.emit(ctx, client(ctx).tasks.show(task_id), _show)


def _act(ctx: typer.Context, task_id: int, action: str, version: int | None = None, **fields) -> None:
    output.emit(ctx, client(ctx).tasks.act(task_id, action, version=version, **fields), _summary)


@task_app.command("assign")
def assign(ctx: typer.Context, task_id: IdArg,
           member: Annotated[str, typer.Argument(help="Member: 'name' or 'fleet/name'.", metavar="MEMBER")],
           version: VersionOpt = None) -> None:
    """Assign an open task to a member (creator or owner; cross-fleet policy applies)."""
    _act(ctx, task_id, "assign", version, member=member)


@task_app.command("claim")
def claim(ctx: typer.Context, task_id: IdArg, version: VersionOpt = None) -> None:
    """Claim an open task sharing one of your domains (or with none); one claimer wins."""
    _act(ctx, task_id, "claim", version)


@task_app.command("route")
def route(ctx: typer.Context, task_id: IdArg, version: VersionOpt = None) -> None:
    """Assign an open task to the fleet member (not its creator) sharing most domains, fewest active tasks."""
    _act(ctx, task_id, "route", version)


@task_app.command("accept")
def accept(ctx: typer.Context, task_id: IdArg, version: VersionOpt = None) -> None:
    """Accept a task assigned to you."""
    _act(ctx, task_id, "accept", version)


@task_app.command("reject")
def reject(ctx: typer.Context, task_id: IdArg, reason: ReasonOpt, version: VersionOpt = None) -> None:
    """Hand a task assigned to you back: it is open again, with no assignee."""
    _act(ctx, task_id, "reject", version, reason=reason)


@task_app.command("start")
def start(ctx: typer.Context, task_id: IdArg, version: VersionOpt = None) -> None:
    """Start a task you accepted (its dependencies must be done)."""
    _act(ctx, task_id, "start", version)


@task_app.command("submit")
def submit(ctx: typer.Context, task_id: IdArg, note: NoteOpt = None,
           link: Annotated[list[str] | None, typer.Option("--link", help="research:ID or doc:NAME to attach "
                                                          "(repeatable).")] = None,
           version: VersionOpt = None) -> None:
    """Submit your work: in_review when review is required, else done."""
    _act(ctx, task_id, "submit", version, note=note, links=link or None)


@task_app.command("approve")
def approve(ctx: typer.Context, task_id: IdArg, note: NoteOpt = None, version: VersionOpt = None) -> None:
    """Approve a task in review: done (a human reviewer or owner, never the assignee)."""
    _act(ctx, task_id, "approve", version, note=note)


@task_app.command("request-changes")
def request_changes(ctx: typer.Context, task_id: IdArg, reason: ReasonOpt, version: VersionOpt = None) -> None:
    """Send a task in review back to its assignee (a human reviewer or owner, not the assignee)."""
    _act(ctx, task_id, "request-changes", version, reason=reason)


@task_app.command("cancel")
def cancel(ctx: typer.Context, task_id: IdArg, reason: ReasonOpt, version: VersionOpt = None) -> None:
    """Cancel a task that is not done (creator or owner)."""
    _act(ctx, task_id, "cancel", version, reason=reason)


def register(app: typer.Typer) -> None:
    """Add `fleetctl task ...`."""
    app.add_typer(task_app, name="task")
