"""Reviews and revisions of research: the human review gate and the author's answer to it.

A review is possible only while research is in_review. `approve` and `reject` need a human
(reviewer or owner); `request-changes` may come from any member asked to review. Humans of the
research's fleet, and of the fleet of the task it answers, may review without being asked; nobody
reviews their own research. The author
answers requested changes with a new revision, which goes back to in_review.
"""

from __future__ import annotations

from fleetctl import db
from fleetctl.errors import Conflict, Forbidden
from fleetctl.models.base import utcnow
from fleetctl.models.core import Member
from fleetctl.models.research import VERDICTS, Research, ResearchReview, ResearchReviewer
from fleetctl.models.tasks import Task
from fleetctl.services import changes, quota, research, validate, visibility, wake_streams

FINAL = ("approved", "rejected")
REVISABLE = ("draft", "changes_requested", "in_review")


def _check_reviewer(caller: Member, item: Research, verdict: str) -> None:
    if caller.id == item.author_id:
        raise Forbidden("you cannot review your own research")
    if verdict != "request-changes" and not caller.is_human:
        raise Forbidden(f"only a human (reviewer or owner) can {verdict} research; an agent cannot pass a review gate")
    asked = ResearchReviewer.select().where(ResearchReviewer.research == item.id,
                                            ResearchReviewer.member == caller.id).exists()
    if not asked and not (caller.is_human and caller.fleet_id in _owning_fleets(item)):
        raise Forbidden(f"you were not asked to review research {item.id}")


def _owning_fleets(item: Research) -> set[int]:
    """The research's fleet and the fleet of the task it answers: their humans may review unasked."""
    fleets = {item.fleet_id}
    if item.task_id is not None:
        fleets.add(Task.select(Task.fleet).where(Task.id == item.task_id).scalar())
    return fleets


def _transition(item: Research, expected: str, **fields) -> None:
    """Move `item` out of state `expected` (compare-and-set: a concurrent move makes this a 409)."""
    done = (Research.update(updated_at=utcnow(), **fields)
            .where(Research.id == item.id, Research.state == expected, Research.revision == item.revision)
            .execute())
    if not done:
        raise Conflict(f"research {item.id} changed while you were reviewing it; show it and try again")


def review(caller: Member, research_id: int, verdict: str, comment: str | None = None) -> dict:
    """Give a verdict on research in review: approved, changes_requested or rejected."""
    item = research.get_visible(caller, research_id)
    validate.choice(verdict, VERDICTS, "verdict")
    if item.state != "in_review":
        hint = "it is final" if item.state in FINAL else "its author must publish a revision for review first"
        raise Conflict(f"research {item.id} is {item.state}, not in_review: {hint}", state=item.state)
    _check_reviewer(caller, item, verdict)
    comment = validate.text(comment, "comment", required=False, max_len=10_000)
    with db.write():
        _transition(item, "in_review", state=VERDICTS[verdict])
        ResearchReview.create(research=item.id, reviewer=caller.id, verdict=verdict, comment=comment,
                              revision=item.revision)
        quota.charge(caller.fleet_id, quota.size_of(comment))
        changes.record(research.KIND, item.id, item.fleet_id, verdict,
                       [wake_streams.to_member("research", item.author_id)], note=comment or None, actor_id=caller.id)
    return research.show(caller, item.id)


def revise(caller: Member, research_id: int, reviewers: list[str] | None = None, **fields) -> dict:
    """The author's new revision: changes the fields given, adds reviewers, and asks them all again."""
    item = research.get_visible(caller, research_id)
    if caller.id != item.author_id:
        raise Forbidden(f"only its author ({item.author.address}) can revise research {item.id}")
    if item.state not in REVISABLE:
        raise Conflict(f"research {item.id} is {item.state}, which is final; publish new research instead",
                       state=item.state)
    changed = research.clean(fields)
    for key, value in changed.items():
        setattr(item, key, value)
    added = research.resolve_reviewers(caller, item, reviewers)
    already = list(Member.select().join(ResearchReviewer, on=(ResearchReviewer.member == Member.id))
                   .where(ResearchReviewer.research == item.id).order_by(ResearchReviewer.id))
    everyone = already + [m for m in added if m.id not in {a.id for a in already}]
    state = "in_review" if everyone else "draft"
    with db.write():
        _transition(item, item.state, state=state, revision=item.revision + 1, **changed)
        if "domains" in changed:
            visibility.set_domains(research.KIND, item.id, changed["domains"])
        item.revision += 1
        quota.charge(caller.fleet_id, research.content_size(changed))
        if state == "in_review":
            research.request_reviews(item, everyone)
    return research.show(caller, item.id)
