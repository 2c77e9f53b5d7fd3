"""Research through the CLI: publish, revise, list, show, review; usage errors and exit codes."""

from __future__ import annotations

import pytest


def test_publish_review_revise_cycle(make_fleet, tmp_path):
    fleet = make_fleet("cli-research")
    author = fleet.member("analyst", domains=["perf"])
    boss = fleet.member("boss", role="reviewer")
    findings = tmp_path / "findings.md"
    findings.write_text("# Findings\n\nGC pauses.\n", encoding="utf-8")
    made = author.cli("research", "publish", "--title", "Why p99 spiked", "--confidence", "0.7",
                      "--question", "What caused it?", "--body-file", str(findings), "--source", "grafana/d/1",
                      "--source", "pprof", "--reviewer", "boss", "--domain", "perf", "--json")
    assert made.exit_code == 0, made.stderr
    r = made.json()
    assert (r["state"], r["confidence"], r["sources"], r["reviewers"], r["body"]) == (
        "in_review", 0.7, ["grafana/d/1", "pprof"], [boss.address], "# Findings\n\nGC pauses.\n")
    rid = str(r["id"])

    listed = author.cli("research", "list", "--state", "in_review")
    assert listed.stdout.splitlines()[0].split("\t")[:4] == ["ID", "STATE", "CONF", "TITLE"]
    assert listed.stdout.splitlines()[1].split("\t")[:4] == [rid, "in_review", "0.70", "Why p99 spiked"]
    assert author.cli("research", "list", "--state", "approved").stdout.strip() == "No research."

    sent = boss.cli("research", "review", rid, "--request-changes", "--comment", "attach the heap profile")
    assert sent.exit_code == 0
    assert sent.stdout.strip() == f"Requested changes on research {rid} (now changes_requested)."
    shown = author.cli("research", "show", rid)
    assert "changes_requested" in shown.stdout and "attach the heap profile" in shown.stdout
    assert "GC pauses." in shown.stdout

    revised = author.cli("research", "publish", "--revises", rid, "--confidence", "0.9", "--body", "-",
                         input="GC pauses, heap profile attached.\n")
    assert revised.exit_code == 0, revised.stderr
    assert revised.stdout.strip() == f"Revised research {rid} revision 2 (in_review; reviewers: {boss.address})."
    approved = boss.cli("research", "review", rid, "--approve", "--json").json()
    assert approved["state"] == "approved" and approved["confidence"] == 0.9
    assert [v["verdict"] for v in approved["reviews"]] == ["request-changes", "approve"]
    final = boss.cli("research", "review", rid, "--reject")
    assert final.exit_code == 5 and "final" in final.stderr

    draft = author.cli("research", "publish", "--title", "Hunch", "--confidence", "0", "--json").json()
    assert draft["state"] == "draft" and draft["confidence"] == 0.0


@pytest.mark.parametrize("value", ["abc", "1.5", "-0.1", "nan", "1e9"])
def test_bad_confidence_is_a_usage_error(make_fleet, value):
    owner = make_fleet("conf").owner
    result = owner.cli("research", "publish", "--title", "x", "--confidence", value)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"fleetctl: error: --confidence must be a number from 0.0 to 1.0, not {value!r}"
    assert owner.cli("research", "list", "--json").json()["items"] == []


def test_usage_errors_and_refusals(make_fleet):
    home, other = make_fleet("home"), make_fleet("other")
    author = home.member("analyst")
    agent = home.member("helper")
    rid = str(author.cli("research", "publish", "--title", "t", "--confidence", "0.5", "--reviewer", "helper",
                         "--json").json()["id"])
    assert author.cli("research", "publish", "--title", "only a title").exit_code == 2
    assert author.cli("research", "publish", "--confidence", "0.5").exit_code == 2
    assert author.cli("research", "publish", "--revises", rid, "--task", "1").exit_code == 2
    none = agent.cli("research", "review", rid)
    assert none.exit_code == 2 and "exactly one of" in none.stderr
    assert agent.cli("research", "review", rid, "--approve", "--reject").exit_code == 2
    gate = agent.cli("research", "review", rid, "--approve")
    assert gate.exit_code == 3 and "human" in gate.stderr and gate.stderr.count("\n") == 1
    assert author.cli("research", "review", rid, "--request-changes").exit_code == 3
    assert author.cli("research", "list", "--state", "done").exit_code == 2
    assert author.cli("research", "show", "999999").exit_code == 4
    ghost = author.cli("research", "publish", "--title", "t", "--confidence", "0.5", "--reviewer", "ghost")
    assert ghost.exit_code == 4

    spy = other.member("spy", role="owner", domains=["perf"], cross_fleet=True)
    assert spy.cli("research", "show", rid).exit_code == 4
    assert spy.cli("research", "review", rid, "--approve").exit_code == 4
    assert spy.cli("research", "publish", "--revises", rid, "--body", "x").exit_code == 4
    assert author.cli("research", "show", rid, "--json").json()["state"] == "in_review"


def test_research_linked_to_a_task_shows_in_task_show(make_fleet):
    owners, helpers = make_fleet("owners"), make_fleet("helpers")
    task = owners.owner.cli("task", "create", "Find the double charge", "--domain", "payments", "--cross-fleet",
                            "--json")
    assert task.exit_code == 0, task.stderr
    tid = str(task.json()["id"])
    outsider = helpers.member("outsider", domains=["payments"], cross_fleet=True)
    linked = outsider.cli("research", "publish", "--title", "Retry without idempotency key", "--confidence",
                          "0.85", "--task", tid, "--domain", "payments", "--json")
    assert linked.exit_code == 0, linked.stderr
    rid = linked.json()["id"]
    shown = owners.owner.cli("task", "show", tid, "--json").json()
    assert shown["research"] == [rid]
    mine = owners.owner.cli("research", "list", "--task", tid, "--json").json()["items"]
    assert [r["id"] for r in mine] == [rid] and mine[0]["author"] == outsider.address

    private = owners.owner.cli("task", "create", "Internal", "--json").json()["id"]
    hidden = outsider.cli("research", "publish", "--title", "x", "--confidence", "0.5", "--task", str(private))
    assert hidden.exit_code == 4


def test_help_describes_every_command():
    from conftest import run_cli

    for command in ("publish", "list", "show", "review"):
        result = run_cli(["research", command, "--help"])
        assert result.exit_code == 0 and "--json" in result.stdout
    assert "--revises" in run_cli(["research", "publish", "--help"]).stdout
