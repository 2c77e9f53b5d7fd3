"""Every command a wake prompt suggests runs as printed (DESIGN §3): collected from the prompts of an
agent, a reviewer and an owner with a rich backlog; read-only ones are run literally through the CLI,
the others parsed by the CLI and checked against what the current state allows, then one per item run."""

from __future__ import annotations

import re
import shlex

import pytest

FAST = 1_000_000
READ_ONLY = {("knowledge", "show"), ("task", "show"), ("research", "show"), ("msg", "read"), ("msg", "thread"),
             ("doc", "get"), ("doc", "diff"), ("wake",)}
PLACEHOLDER = re.compile(r"\b(ID|N|R|NAME|MEMBER|CURSOR|TEXT|REASON|COMMENT)\b|<[^>]*>|\.\.\.")


def parse(args: list[str]):
    """The command and its parameters as the CLI parses `args` (raises on anything it refuses)."""
    from typer.main import get_command

    from fleetctl.cli.main import app

    command = get_command(app)
    ctx = command.make_context("fleetctl", list(args))
    while hasattr(command, "resolve_command"):
        rest = list(getattr(ctx, "_protected_args", [])) + list(ctx.args)
        if not rest:
            break
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)
    return command.name, ctx.params


@pytest.fixture
def rich(make_fleet):
    """A fleet where an agent, a reviewer and an owner each have news of every kind."""
    acme, other = make_fleet("cmd", rate_limit=FAST), make_fleet("cmdx", rate_limit=FAST)
    owner = acme.member("boss", role="owner", rate_limit=FAST)
    rev = acme.member("rev", role="reviewer", domains=["wk-infra"], rate_limit=FAST)
    dev = acme.member("dev", domains=["wk-infra"], cross_fleet=True, rate_limit=FAST)
    helper = acme.member("helper", domains=["wk-infra"], rate_limit=FAST)
    helper.client.request("PUT", "/v1/documents/runbook", {"body": "v1", "domains": ["wk-infra"]})
    for actor in (owner, rev, dev, helper):
        actor.client.post("/v1/wake", {"max_chars": 1_000_000})

    def task(creator, title, **fields):
        return creator.client.post("/v1/tasks", {"title": title, **fields})

    def move(actor, t, *actions, **fields):
        for action in actions:
            actor.client.post(f"/v1/tasks/{t['id']}/actions", {"action": action, **fields})

    # knowledge: breaking, tips, a replacement, a pinned entry, cross-fleet news
    helper.client.post("/v1/knowledge", {"kind": "breaking", "title": "API v1 is gone", "domains": ["wk-infra"]})
    old = helper.client.post("/v1/knowledge", {"kind": "gotcha", "title": "disk fills", "pinned": True})
    helper.client.post("/v1/knowledge", {"kind": "gotcha", "title": "disk fills up", "supersedes": old["id"]})
    helper.client.post("/v1/knowledge", {"kind": "tip", "title": "use --dry-run", "domains": ["wk-infra"]})
    other.owner.client.post("/v1/knowledge", {"kind": "fix", "title": "their fix", "domains": ["wk-infra"],
                                              "visibility": "cross-fleet"})
    # messages, one of them a reply
    first = helper.client.post("/v1/messages", {"recipients": ["dev", "rev", "boss"], "subject": "standup"})
    dev.client.post("/v1/messages", {"recipients": ["helper"], "subject": "re: standup", "reply_to": first["id"]})
    helper.client.post("/v1/messages", {"recipients": ["dev"], "subject": "re: re", "reply_to": first["id"]})
    # tasks in every state the prompts can meet
    task(owner, "to accept", assign="dev")
    move(dev, task(owner, "to start", assign="dev"), "accept")
    move(dev, task(owner, "to submit", assign="dev"), "accept", "start")
    blocker = task(owner, "blocker")
    move(dev, task(owner, "blocked", assign="dev", depends_on=[blocker["id"]]), "accept")
    move(dev, task(owner, "to review", assign="dev", review="required"), "accept", "start", "submit")
    rejected = task(owner, "to refuse", assign="dev")
    move(dev, rejected, "reject", reason="busy")
    done = task(owner, "finished", assign="dev", review="required")
    move(dev, done, "accept", "start", "submit")
    move(rev, done, "approve", note="good")
    back = task(owner, "sent back", assign="dev", review="required")
    move(dev, back, "accept", "start", "submit")
    move(rev, back, "request-changes", reason="tests missing")
    move(owner, task(owner, "dropped", assign="dev"), "cancel", reason="not needed")
    mine = task(dev, "dev's own", review="required")
    move(owner, mine, "assign", member="helper")
    move(helper, mine, "accept", "start", "submit")
    # research to review (a human and an agent reviewer), and verdicts on the agent's research
    dev.client.post("/v1/research", {"title": "cache study", "confidence": 0.7, "reviewers": ["rev", "helper"]})
    sent = dev.client.post("/v1/research", {"title": "gc study", "confidence": 0.6, "reviewers": ["rev"]})
    rev.client.post(f"/v1/research/{sent['id']}/reviews", {"verdict": "request-changes", "comment": "more runs"})
    ok = dev.client.post("/v1/research", {"title": "io study", "confidence": 0.9, "reviewers": ["boss"]})
    owner.client.post(f"/v1/research/{ok['id']}/reviews", {"verdict": "approve"})
    # documents: new, updated, and another fleet's
    helper.client.request("PUT", "/v1/documents/runbook", {"body": "v2"})
    helper.client.request("PUT", "/v1/documents/fresh", {"body": "v1", "domains": ["wk-infra"]})
    other.owner.client.request("PUT", "/v1/documents/shared", {"body": "v1", "domains": ["wk-infra"],
                                                                "visibility": "cross-fleet"})
    return {"agent": dev, "reviewer": rev, "owner": owner}


def commands(prompt: str) -> list[str]:
    return re.findall(r"`([^`]+)`", prompt)


def check_state(actor, name: str, params: dict) -> None:
    """The action is one the item's current state allows for this member (the service's own rules)."""
    from fleetctl.models.core import Member
    from fleetctl.models.research import Research
    from fleetctl.models.tasks import Task
    from fleetctl.services import research_reviews, task_actions

    fleet, bare = actor.address.split("/")
    member = next(m for m in Member.select().where(Member.name == bare) if m.fleet.name == fleet)
    if name in task_actions.RULES:
        task = Task.get_by_id(params["task_id"])
        rule = task_actions.RULES[name]
        assert task.state in rule.sources and rule.who(member, task) is None, (name, task.state)
        if name == "start":
            assert not task_actions.TaskDependency.select().where(
                task_actions.TaskDependency.task == task.id).join(
                Task, on=(task_actions.TaskDependency.depends_on == Task.id)).where(Task.state != "done").exists()
    elif name == "review":
        item = Research.get_by_id(params["research_id"])
        verdict = next(v for v in ("approve", "request_changes", "reject") if params[v]).replace("_", "-")
        assert item.state == "in_review"
        research_reviews._check_reviewer(member, item, verdict)
    elif name == "publish":
        item = Research.get_by_id(params["revises"])
        assert item.author_id == member.id and item.state in research_reviews.REVISABLE
    else:
        raise AssertionError(f"unexpected action {name}")


@pytest.mark.slow
def test_every_suggested_command_runs_as_printed(rich):
    seen, first_action = set(), {}
    for role, actor in rich.items():
        data = actor.client.get("/v1/wake", max_chars=1_000_000)
        found = commands(data["prompt"])
        assert len(found) >= 8, (role, data["prompt"])
        for line in found:
            assert "|" not in line and not PLACEHOLDER.search(line), line
            args = shlex.split(line)
            assert args[0] == "fleetctl", line
            name, params = parse(args[1:])
            words = tuple(args[1:3]) if args[1] != "wake" else ("wake",)
            seen.add((role, words))
            if words in READ_ONLY:
                # run literally; inside a daemon run `wake` only peeks, so it hands nothing over here
                result = actor.cli(*args[1:], env={"FLEET_WAKE_CURSOR": data["cursor"]})
                assert result.exit_code == 0, (line, result.stderr)
            else:
                check_state(actor, name, params)
                first_action.setdefault((name, params.get("task_id") or params.get("research_id")
                                         or params.get("revises")), (actor, args))
        assert actor.client.get("/v1/wake", max_chars=1_000_000)["cursor"] == data["cursor"]  # nothing moved
    assert {w for r, w in seen if r == "agent"} >= {("task", "accept"), ("task", "reject"), ("task", "start"),
                                                     ("task", "submit"), ("research", "publish"), ("msg", "read"),
                                                     ("msg", "thread"), ("doc", "diff"), ("doc", "get"),
                                                     ("knowledge", "show"), ("task", "show")}
    assert {w for r, w in seen if r == "reviewer"} >= {("task", "approve"), ("task", "request-changes"),
                                                        ("research", "review")}
    assert {w for r, w in seen if r == "owner"} >= {("task", "approve"), ("task", "show"), ("msg", "read")}
    # and each item's first suggested action really succeeds
    done = set()
    for (name, ref), (actor, args) in first_action.items():
        if (name in ("approve", "request-changes"), ref) in done:
            continue  # the reviewer and the owner were offered the same review
        done.add((name in ("approve", "request-changes"), ref))
        result = actor.cli(*args[1:])
        assert result.exit_code == 0, (args, result.stderr)


def test_prompt_without_news_suggests_nothing_wrong(make_fleet):
    fleet = make_fleet("cmd0")
    quiet = fleet.member("quiet")
    quiet.client.post("/v1/wake")
    prompt = quiet.client.get("/v1/wake")["prompt"]
    assert prompt == f"# Fleet wake for {quiet.address}: nothing new since your last wake."
