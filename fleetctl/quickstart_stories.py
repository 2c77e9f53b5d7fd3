"""The cast of `fleetctl quickstart`, the three stories it plays, and the "what next" it ends with."""

from __future__ import annotations

from fleetctl import config
from fleetctl.cli import output
from fleetctl.quickstart_runner import Runner

# (fleet, name, role, domains, cross_fleet): the profile of each is "fleet-name".
CAST = [
    ("acme", "owner", "owner", [], False),
    ("acme", "ops", "agent", ["infra", "deploy"], True),
    ("acme", "frontend", "agent", ["frontend", "api"], True),
    ("acme", "analyst", "agent", ["payments", "research"], True),
    ("labs", "owner", "owner", [], False),
    ("labs", "lead", "reviewer", [], False),
    ("labs", "builder", "agent", ["payments", "api", "backend"], True),
    ("labs", "infra", "agent", ["infra", "deploy"], True),
]

GOTCHA_TITLE = "Docker network backend moved to 10.30.0.0/16"
GOTCHA_BODY = "Containers with hard-coded 172.18.x IPs lose the database: use service names."
TASK_TITLE = "Research payment integration options"
TASK_BODY = "Compare providers for checkout: fees, EU coverage, webhooks."
OUTSIDE_BODY = "We shipped **Stripe** last quarter: solid webhooks. Adyen onboarding took two weeks."
BRIEF_BODY = "Start with **Stripe**, behind a `PaymentGateway` interface so Adyen can follow."
SPEC_BODY = "Orders API v2: `amount` is integer **cents**; `/v1/orders` is gone, use `/v2/orders`."
BREAKING_TITLE = "Orders API v2: amounts in integer cents, /v1/orders removed"
BREAKING_BODY = "Send `amount` as cents and call `/v2/orders`. Spec: `fleetctl doc get acme/orders-api`."


def _ids(wake: dict, section: str) -> list[int]:
    return [item["id"] for item in wake["sections"][section]]


def _verdict(r: Runner, who: str, what: str, found: bool) -> None:
    r.say(f"  -> {what} {'is' if found else 'is NOT'} in {who}'s wake.", "green" if found else "bold red")


def gotcha(r: Runner) -> dict:
    """Story 1: an ops agent publishes a gotcha; an infra agent of the other fleet gets it on its next wake."""
    r.heading("Story 1: a gotcha from ops reaches the infra agents on their next wake")
    r.narrate("acme/ops notices that the Docker network config changed and warns everyone in infra and deploy:")
    entry = r.run("knowledge", "publish", "--kind", "gotcha", "--title", GOTCHA_TITLE, "--body", GOTCHA_BODY,
                  "--domain", "infra", "--domain", "deploy", "--cross-fleet", profile="acme-ops").data
    r.narrate("labs/infra (cross-fleet, domains infra and deploy) starts its next session with its wake prompt:")
    wake = r.run("wake", profile="labs-infra").data
    seen = _ids(wake, "knowledge")
    _verdict(r, "labs/infra", f"gotcha #{entry['id']}", entry["id"] in seen)
    return {"entry": entry["id"], "wakes": {"labs-infra": wake["sections"]}}


def research(r: Runner) -> dict:
    """Story 2: a routed cross-fleet task, outside research from the other fleet, a brief a human approves."""
    r.heading("Story 2: a task routed to the builder, outside research, a human approves the brief")
    r.narrate("labs/owner files a cross-fleet task and lets fleetctl route it to the best-matching member:")
    task = r.run("task", "create", TASK_TITLE, "--body", TASK_BODY, "--domain", "payments", "--domain", "api",
                 "--cross-fleet", "--route", profile="labs-owner").data
    r.run("task", "accept", task["id"], profile="labs-builder")
    r.run("task", "start", task["id"], profile="labs-builder")
    r.narrate("acme/analyst (the other fleet; cross-fleet, shares the payments domain) contributes outside research:")
    outside = r.run("research", "publish", "--task", task["id"], "--title", "What acme learned shipping Stripe",
                    "--confidence", "0.7", "--question", "Which provider should a new checkout start with?",
                    "--body", OUTSIDE_BODY, "--source", "https://docs.stripe.com/webhooks",
                    "--domain", "payments", profile="acme-analyst").data
    r.narrate("labs/builder writes the brief and asks the human lead to review it:")
    brief = r.run("research", "publish", "--task", task["id"], "--title", "Payment integration options: brief",
                  "--confidence", "0.8", "--body", BRIEF_BODY, "--source", f"research:{outside['id']}",
                  "--reviewer", "lead", "--domain", "payments", "--domain", "api", profile="labs-builder").data
    r.narrate("labs/lead, a human reviewer, approves it; labs/builder closes the task with both pieces linked:")
    review = r.run("research", "review", brief["id"], "--approve", "--comment", "Agreed: Stripe first.",
                   profile="labs-lead").data
    r.run("task", "submit", task["id"], "--note", "Brief approved: Stripe first", "--link",
          f"research:{brief['id']}", "--link", f"research:{outside['id']}", profile="labs-builder")
    r.narrate("labs/owner, who filed the task, sees it done, with its history and research:")
    final = r.run("task", "show", task["id"], profile="labs-owner").data
    return {"task": task["id"], "assignee": task["assignee"], "task_state": final["state"],
            "task_visibility": final["visibility"], "outside_research": outside["id"],
            "outside_author": outside["author"], "brief": brief["id"], "brief_state": review["state"]}


def breaking(r: Runner) -> dict:
    """Story 3: a frontend agent ships an API change; the breaking entry reaches every cross-fleet agent."""
    r.heading("Story 3: a breaking API change reaches every cross-fleet agent")
    r.narrate("acme/frontend pushes the new API spec and announces the breaking change across fleets:")
    r.run("doc", "put", "orders-api", "--title", "Orders API", "--body", SPEC_BODY, "--message",
          "v2: integer cents, /v1/orders removed", "--domain", "api", "--cross-fleet", profile="acme-frontend")
    entry = r.run("knowledge", "publish", "--kind", "breaking", "--title", BREAKING_TITLE, "--body", BREAKING_BODY,
                  "--domain", "api", "--domain", "payments", "--domain", "infra", "--cross-fleet",
                  profile="acme-frontend").data
    wakes = {}
    readers = sorted((f"{f}-{n}" for f, n, _, _, cross in CAST if cross and f"{f}-{n}" != "acme-frontend"),
                     key=lambda p: p != "labs-builder")
    r.narrate("Every other cross-fleet agent wakes; labs/builder's whole prompt first:")
    for n, profile in enumerate(readers):
        wake = r.run("wake", profile=profile, show=n == 0).data
        wakes[profile] = wake["sections"]
        _verdict(r, profile.replace("-", "/", 1), f"breaking #{entry['id']}", entry["id"] in _ids(wake, "breaking"))
    return {"entry": entry["id"], "wakes": wakes}


def next_steps(r: Runner, summary: dict, ambient: dict) -> None:
    """How to go on: the profiles, commands to try, how to stop the demo server."""
    server = summary["server"]
    r.heading("Your turn")
    current = summary["current_profile"]
    r.narrate(f"Profiles saved in {config.profiles_path()} (your current profile: {current or 'none'}):")
    if r.human:
        roles = {f"{f}-{n}": (role, domains, cross) for f, n, role, domains, cross in CAST}
        rows = [{"profile": p, "member": a, "role": roles[p][0], "domains": roles[p][1], "cross": roles[p][2]}
                for p, a in summary["profiles"].items()]
        output.table(rows, [("PROFILE", "profile"), ("MEMBER", "member"), ("ROLE", "role"),
                            ("DOMAINS", "domains"), ("CROSS-FLEET", "cross")])
    r.say()
    r.say("Try:", "bold")
    for cmd in ("fleetctl --profile labs-builder task list", "fleetctl --profile labs-lead research list",
                "fleetctl --profile acme-frontend knowledge list --all",
                "fleetctl --profile labs-infra knowledge search docker",
                "fleetctl --profile labs-builder msg send acme/frontend --subject 'Cents in refunds too?' "
                "--domain api --body 'Do refunds follow v2?'",
                "fleetctl --profile acme-frontend wake",
                "export FLEET_PROFILE=labs-builder    # then plain `fleetctl wake`, `fleetctl task ready`"):
        r.say(f"  {cmd}", "cyan")
    for var in ("FLEET_URL", "FLEET_TOKEN"):
        if var in ambient:
            r.say(f"Note: {var} is set in your shell and overrides a profile's; unset it to use the demo profiles.",
                  "yellow")
    r.say()
    r.say(f"The demo server keeps running at {server['url']} (pid {server['pid']}, log {server['log']}).")
    r.say("Run `fleetctl quickstart` again to replay the stories; `fleetctl quickstart --stop` stops the server,")
    r.say("`fleetctl quickstart --stop --clean` also removes the demo profiles (`fleetctl profile list`).")
