"""Research: findings with a confidence, linked to tasks, passed through human review.

A piece of research belongs to its author's fleet. It is visible under the usual rule (its fleet;
cross-fleet members sharing a domain when cross-fleet) and to everyone who can see its linked
task, so a member of another fleet can answer a cross-fleet task with research its owners read.
Reviews and revisions live in `research_reviews`.
"""

from __future__ import annotations

from peewee import fn

from fleetctl import db
from fleetctl.errors import Forbidden, Invalid
from fleetctl.models.base import iso
from fleetctl.models.core import Fleet, Member
from fleetctl.models.research import STATES, Research, ResearchReview, ResearchReviewer
from fleetctl.models.tasks import Task
from fleetctl.services import changes, members, paging, policy, previews, quota, task_access, validate, wake_streams
from fleetctl.services import visibility as access

KIND = "research"
MAX_SOURCES = 100


def visible(member: Member):
    """SQL condition: research `member` may see (its own rule, or through the linked task)."""
    seen_tasks = Task.select(Task.id).where(task_access.visible(member))
    return access.visible_clause(Research, KIND, member) | Research.task.in_(seen_tasks)


def can_see(member: Member, item: Research) -> bool:
    """The rule of `visible` for one (possibly unsaved) piece of research."""
    if access.can_see(member, item):
        return True
    return item.task_id is not None and (
        Task.select().where(Task.id == item.task_id, task_access.visible(member)).exists())


def get_visible(member: Member, research_id: int) -> Research:
    """One piece of research the member may see, else 404 exactly as if it did not exist."""
    return access.get_visible(Research, research_id, member, "research", can_see)


def sources(values: list[str] | None) -> list[str]:
    """Source references (URLs, paths, citations): non-empty strings, deduplicated, order kept."""
    out: list[str] = []
    for value in values or []:
        text = validate.text(value, "a source", max_len=1000)
        if text not in out:
            out.append(text)
    if len(out) > MAX_SOURCES:
        raise Invalid(f"too many sources ({len(out)}); at most {MAX_SOURCES}")
    return out


def clean(fields: dict) -> dict:
    """Validate the content fields present in `fields` (title, question, body, confidence, ...)."""
    checks = {
        "title": lambda v: validate.text(v, "title", max_len=300),
        "question": lambda v: validate.text(v, "question", required=False, max_len=2000),
        "body": validate.body,
        "confidence": float,  # a number from 0 to 1: checked by schemas.research
        "sources": sources,
        "domains": validate.domains,
        "visibility": validate.visibility,
    }
    return {key: checks[key](value) for key, value in fields.items() if key in checks and value is not None}


def content_size(fields: dict) -> int:
    """Bytes of the text fields among cleaned `fields`, charged to the writer's quota."""
    return quota.size_of(*(fields.get(k) for k in ("title", "question", "body", "sources")))


def resolve_reviewers(author: Member, item: Research, addresses: list[str] | None) -> list[Member]:
    """Members the author may ask: its own fleet, or other fleets under the cross-fleet policy when
    they can see the research. The author cannot review its own work."""
    found: list[Member] = []
    for address in addresses or []:
        member = members.resolve(author, address)
        if member.id == author.id:
            raise Invalid("you cannot ask yourself to review your own research")
        policy.check_delivery(author, member, item.domains, "review request")
        if not can_see(member, item):
            raise Forbidden(f"{member.address} could not see this research; publish it with visibility cross-fleet "
                            f"and a domain it has, or link a task it can see (rule: visibility)")
        if member.id not in {m.id for m in found}:
            found.append(member)
    return found


def request_reviews(item: Research, reviewers: list[Member]) -> None:
    """Ask each reviewer (inside the write transaction): a row and a `review_requested` change each."""
    known = {row.member_id for row in ResearchReviewer.select().where(ResearchReviewer.research == item.id)}
    new = [{"research": item.id, "member": m.id} for m in reviewers if m.id not in known]
    if new:
        ResearchReviewer.insert_many(new).execute()
    changes.record(KIND, item.id, item.fleet_id, "review_requested",
                   [wake_streams.to_member("research", m.id) for m in reviewers], actor_id=item.author_id)


def publish(caller: Member, title: str, confidence: float, question: str | None = None, body: str | None = None,
            task: int | None = None, sources: list[str] | None = None, reviewers: list[str] | None = None,
            domains: list[str] | None = None, visibility: str | None = None) -> dict:
    """Publish research: in_review when reviewers are named, else draft."""
    fields = clean({"title": title, "confidence": confidence, "question": question, "body": body,
                    "sources": sources, "domains": domains or [], "visibility": visibility or "fleet"})
    if "title" not in fields or "confidence" not in fields:
        raise Invalid("title and confidence are required")
    if task is not None:
        task = task_access.get_task(caller, task).id
    item = Research(fleet=caller.fleet_id, author=caller.id, task=task, **fields)
    asked = resolve_reviewers(caller, item, reviewers)
    item.state = "in_review" if asked else "draft"
    with db.write():
        item.save(force_insert=True)
        access.set_domains(KIND, item.id, item.domains, new=True)
        quota.charge(caller.fleet_id, content_size(fields))
        request_reviews(item, asked)
    return to_dict(item)


def render(items: list[Research], full: bool = True) -> list[dict]:
    """Research as JSON objects with reviewers and reviews, in four queries whatever the count; list
    items (`full=False`) carry `preview`, `body_chars` and `review_count` in place of `body` and `reviews`."""
    if not items:
        return []
    ids = [r.id for r in items]
    asked: dict[int, list[int]] = {i: [] for i in ids}
    for row in ResearchReviewer.select().where(ResearchReviewer.research.in_(ids)).order_by(ResearchReviewer.id):
        asked[row.research_id].append(row.member_id)
    reviews: dict[int, list[ResearchReview]] = {i: [] for i in ids}
    counts: dict[int, int] = {}
    if full:
        for row in ResearchReview.select().where(ResearchReview.research.in_(ids)).order_by(ResearchReview.id):
            reviews[row.research_id].append(row)
    else:  # list items count reviews instead of carrying their comments
        counts = dict(ResearchReview.select(ResearchReview.research, fn.COUNT(ResearchReview.id))
                      .where(ResearchReview.research.in_(ids)).group_by(ResearchReview.research).tuples())
    people = {r.author_id for r in items} | {m for ms in asked.values() for m in ms} | {
        v.reviewer_id for vs in reviews.values() for v in vs}
    names = members.addresses(people)
    fleets = {f.id: f.name for f in Fleet.select(Fleet.id, Fleet.name).where(Fleet.id.in_({r.fleet_id for r in items}))}

    def verdicts(r: Research) -> dict:
        if not full:
            return {"review_count": counts.get(r.id, 0)}
        return {"reviews": [{"reviewer": names[v.reviewer_id], "verdict": v.verdict, "comment": v.comment,
                             "time": iso(v.created_at), "revision": v.revision} for v in reviews[r.id]]}

    return [{
        "id": r.id, "title": r.title, "question": r.question, **previews.body(r, full), "confidence": r.confidence,
        "sources": r.sources, "task": r.task_id, "domains": r.domains, "visibility": r.visibility,
        "fleet": fleets[r.fleet_id], "author": names[r.author_id], "reviewers": [names[m] for m in asked[r.id]],
        "state": r.state, "revision": r.revision, **verdicts(r),
        "created_at": iso(r.created_at), "updated_at": iso(r.updated_at),
    } for r in items]


def to_dict(item: Research) -> dict:
    """One piece of research as JSON."""
    return render([item])[0]


def show(caller: Member, research_id: int) -> dict:
    """One piece of research the caller may see."""
    return to_dict(get_visible(caller, research_id))


def list_research(caller: Member, state: str | list[str] | None = None, task: int | None = None,
                  limit: int | None = None, after: int | None = None) -> dict:
    """Research the caller may see, newest first, optionally in some states or linked to one task."""
    query = Research.select(*previews.listed(Research, Research.body)).where(visible(caller))
    states = validate.choices(state, STATES, "state")
    if states:
        query = query.where(Research.state.in_(states))
    if task is not None:
        query = query.where(Research.task == task)
    page = paging.page(query, Research.id, limit, after, lambda r: r)
    page["items"] = render(page["items"], full=False)
    return page
