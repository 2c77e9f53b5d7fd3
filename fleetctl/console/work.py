"""Console pages for work under review: the review queue, tasks with their history, research with its reviews."""

from __future__ import annotations

from flask import g, request

from fleetctl.console import text
from fleetctl.console.web import bp, done, page, perform
from fleetctl.errors import Invalid
from fleetctl.models.research import VERDICTS
from fleetctl.models.tasks import STATES
from fleetctl.services import research, research_reviews, task_actions, tasks

QUEUE_LIMIT = 200


def _mine(address: str | None) -> bool:
    return address == g.console.member.address


def _reviewable_task(task: dict) -> bool:
    """A task in review that the member may pass: a human of its fleet who is not its assignee."""
    me = g.console.member
    return me.is_human and task["creator"].split("/")[0] == me.fleet.name and not _mine(task["assignee"])


def _reviewable_research(item: dict) -> bool:
    """Research in review that asks the member, or that a human of its fleet may review unasked."""
    me = g.console.member
    if _mine(item["author"]):
        return False
    return me.address in item["reviewers"] or (me.is_human and item["fleet"] == me.fleet.name)


@bp.route("/review")
def review():
    """Tasks and research waiting on the signed-in member's review."""
    me = g.console.member
    waiting = [t for t in tasks.list_tasks(me, state="in_review", limit=QUEUE_LIMIT)["items"] if _reviewable_task(t)]
    asked = [r for r in research.list_research(me, state="in_review", limit=QUEUE_LIMIT)["items"]
             if _reviewable_research(r)]
    return page("review.html", tasks=waiting, research=asked)


@bp.route("/tasks")
def task_list():
    """Tasks by state, with the filters of `fleetctl task list`."""
    state = text.optional(request.args.get("state"))
    filters = {"state": state, "mine": request.args.get("mine") == "on",
               "domain": text.optional(request.args.get("domain"))}
    after = text.number(request.args.get("after"), "after")
    listing = tasks.list_tasks(g.console.member, **filters, limit=50, after=after)
    return page("tasks.html", items=listing["items"], next=listing["next"], filters=filters, states=STATES)


def offered_actions(task: dict) -> list[str]:
    """The actions the task's state allows that this member could plausibly take (the service decides)."""
    me = g.console.member
    own_fleet = task["creator"].startswith(me.fleet.name + "/")
    owner_or_creator = _mine(task["creator"]) or (me.role == "owner" and own_fleet)
    who = {"assign": owner_or_creator, "route": owner_or_creator, "cancel": owner_or_creator,
           "claim": True, "accept": _mine(task["assignee"]), "reject": _mine(task["assignee"]),
           "start": _mine(task["assignee"]), "submit": _mine(task["assignee"]),
           "approve": _reviewable_task(task), "request-changes": _reviewable_task(task)}
    return [a for a in task_actions.allowed_from(task["state"]) if who.get(a)]


@bp.route("/tasks/<int:id>")
def task_show(id):
    task = tasks.show(g.console.member, id)
    return page("task.html", task=task, actions=offered_actions(task), needs_reason=task_actions.NEEDS_REASON)


@bp.route("/tasks/<int:id>/actions", methods=["POST"])
def task_act(id):
    """One transition of DESIGN's table, with the reason, note or member the action takes."""
    form = request.form
    action = form.get("action", "")
    fields = {"member": text.optional(form.get("member")) if action == "assign" else None,
              "version": text.number(form.get("version"), "version")}
    if action in task_actions.NEEDS_REASON:
        fields["reason"] = form.get("reason", "")
    elif text.optional(form.get("note")):
        fields["note"] = form.get("note")
    perform(f"task.{action}" if action in task_actions.ACTIONS else "task.action", f"task:{id}",
            lambda: task_actions.act(g.console.member, id, action, **fields))
    return done(".task_show", f"task.{action}", id=id)


@bp.route("/research/<int:id>")
def research_show(id):
    item = research.show(g.console.member, id)
    can_review = item["state"] == "in_review" and _reviewable_research(item)
    return page("research.html", item=item, can_review=can_review, verdicts=list(VERDICTS))


@bp.route("/research/<int:id>/reviews", methods=["POST"])
def research_review(id):
    verdict = request.form.get("verdict", "")
    comment = text.optional(request.form.get("comment"))
    if verdict == "request-changes" and comment is None:
        raise Invalid("request changes with a reason: say what must change")
    perform("research.review", None,
            lambda: research_reviews.review(g.console.member, id, verdict, comment), status=201,
            found=lambda item: f"research:{item['id']}")
    return done(".research_show", "research.review", id=id)
