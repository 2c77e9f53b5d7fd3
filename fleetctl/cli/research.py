"""Research: publish (and revise), list, show, review. Findings with a confidence and a human review gate."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper, client, in_flag_terms
from fleetctl.cli.inputs import AfterOpt, BodyFileOpt, BodyOpt, DomainOpt, LimitOpt, read_body, visibility_field
from fleetctl.errors import Invalid

research_app = FleetTyper(help="Research: findings with a confidence, linked to tasks, reviewed by humans.")

IdArg = Annotated[int, typer.Argument(help="Research id.", min=1, metavar="ID")]
COLUMNS = [("ID", "id"), ("STATE", "state"), ("CONF", lambda r: f"{r['confidence']:.2f}"), ("TITLE", "title"),
           ("AUTHOR", "author"), ("TASK", "task"), ("REVIEWERS", "reviewers"),
           ("UPDATED", lambda r: output.relative(r["updated_at"]))]
SHOWN = ("id", "title", "state", "revision", "confidence", "question", "author", "task", "domains",
         "visibility", "sources", "reviewers", "updated_at")
VERDICT_WORDS = {"approve": "Approved", "request-changes": "Requested changes on", "reject": "Rejected"}


def confidence_value(raw: str | None) -> float | None:
    """Parse --confidence: a number from 0.0 to 1.0 (a usage error otherwise)."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= 1.0:
        raise Invalid(f"--confidence must be a number from 0.0 to 1.0, not {raw!r}")
    return value


def _summary(verb: str):
    def human(r: dict) -> None:
        who = f"; reviewers: {', '.join(r['reviewers'])}" if r["reviewers"] else ""
        print(f"{verb} research {r['id']} revision {r['revision']} ({r['state']}{who}).")

    return human


@research_app.command("publish")
def publish(
    ctx: typer.Context,
    title: Annotated[str | None, typer.Option("--title", help="Title (required unless --revises).")] = None,
    confidence: Annotated[str | None, typer.Option(
        "--confidence", metavar="0.0..1.0", help="How sure you are, 0.0 to 1.0 (required unless --revises).")]
    = None,
    question: Annotated[str | None, typer.Option("--question", help="The question this research answers.")] = None,
    body: BodyOpt = None, body_file: BodyFileOpt = None,
    task: Annotated[int | None, typer.Option("--task", min=1, help="Link to a task you can see (any fleet's).")]
    = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="A URL, path or citation (repeatable).")]
    = None,
    reviewer: Annotated[list[str] | None, typer.Option(
        "--reviewer", help="Ask MEMBER (name or fleet/name) to review; puts it in_review (repeatable).")] = None,
    domain: DomainOpt = None,
    cross_fleet: Annotated[bool | None, typer.Option(
        "--cross-fleet/--fleet-only", help="Visible to other fleets' cross-fleet members sharing a domain "
                                           "(default fleet-only).")] = None,
    revises: Annotated[int | None, typer.Option(
        "--revises", metavar="ID", min=1,
        help="Publish a new revision of your research ID (after changes were requested): only the flags "
             "given change, --reviewer adds reviewers, and it goes back to in_review.")] = None,
) -> None:
    """Publish research: in_review when --reviewer is given, else draft. --revises ID publishes a revision."""
    content = {"title": title, "confidence": confidence_value(confidence), "question": question,
               "body": read_body(body, body_file), "sources": source, "reviewers": reviewer, "domains": domain,
               **visibility_field(cross_fleet)}  # None: not given (the client leaves it out)
    if revises is not None and task is not None:
        raise Invalid("a revision keeps its task: drop --task or publish new research")
    if revises is None and (title is None or confidence is None):
        raise Invalid("research publish needs --title and --confidence (or --revises ID)")
    with in_flag_terms(**{"visibility cross-fleet": "--cross-fleet"}):  # a reviewer who could not see it
        if revises is not None:
            data, verb = client(ctx).research.revise(revises, **content), "Revised"
        else:
            data, verb = client(ctx).research.publish(task=task, **content), "Published"
    output.emit(ctx, data, _summary(verb))


@research_app.command("list")
def list_research(
    ctx: typer.Context,
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="draft, in_review, approved, changes_requested or rejected (repeatable: any of them).")]
    = None,
    task: Annotated[int | None, typer.Option("--task", min=1, help="Only research linked to this task.")] = None,
    limit: LimitOpt = None, after: AfterOpt = None,
) -> None:
    """List the research you may see, newest first."""
    data = client(ctx).research.list(state=state, task=task, limit=limit, after=after)
    output.emit(ctx, data, lambda d: output.table(d["items"], COLUMNS, empty="No research.",
                                                  styled_columns=("STATE",)))


def _show_human(r: dict) -> None:
    output.fields(r, SHOWN, markdown_key="body")
    for v in r["reviews"]:
        comment = f": {v['comment']}" if v["comment"] else ""
        print(f"- {v['verdict']} by {v['reviewer']} on revision {v['revision']} "
              f"({output.relative(v['time'])}){comment}")


@research_app.command("show")
def show(ctx: typer.Context, research_id: IdArg) -> None:
    """Show one piece of research with its findings and reviews."""
    output.emit(ctx, client(ctx).research.show(research_id), _show_human)


@research_app.command("review")
def review(
    ctx: typer.Context, research_id: IdArg,
    approve: Annotated[bool, typer.Option("--approve", help="Approve it (humans only, not the author).")] = False,
    request_changes: Annotated[bool, typer.Option(
        "--request-changes", help="Send it back to its author for a new revision.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject it (final; humans only).")] = False,
    comment: Annotated[str | None, typer.Option("--comment", "-c", help="Why (shown to the author).")] = None,
) -> None:
    """Review research in review: exactly one of --approve, --request-changes, --reject."""
    chosen = [v for v, on in (("approve", approve), ("request-changes", request_changes), ("reject", reject)) if on]
    if len(chosen) != 1:
        raise Invalid("give exactly one of --approve, --request-changes, --reject")
    data = client(ctx).research.review(research_id, chosen[0], comment=comment)
    output.emit(ctx, data, lambda r: print(f"{VERDICT_WORDS[chosen[0]]} research {r['id']} (now {r['state']})."))


def register(app: typer.Typer) -> None:
    """Add `fleetctl research` to the root app."""
    app.add_typer(research_app, name="research")
