"""Tasks through the CLI: create from every body source, list/ready/show output, actions and exit codes."""

from __future__ import annotations

import pytest


@pytest.fixture
def crew(make_fleet):
    fleet = make_fleet("cli-tasks")
    return fleet, fleet.member("dev", domains=["infra"]), fleet.member("rev", role="reviewer")


def new_task(actor, *args):
    result = actor.cli("task", "create", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_create_with_every_flag_and_body_source(crew, tmp_path):
    fleet, dev, rev = crew
    dep = new_task(dev, "Dependency")
    task = new_task(fleet.owner, "Ship it", "--body", "plain", "--domain", "infra", "-d", "db", "--priority", "urgent",
                    "--assign", "dev", "--depends-on", str(dep["id"]), "--cross-fleet")
    assert task["domains"] == ["infra", "db"] and task["priority"] == "urgent" and task["review"] == "required"
    assert task["state"] == "assigned" and task["assignee"] == dev.address and task["depends_on"] == [dep["id"]]
    assert task["visibility"] == "cross-fleet" and [h["action"] for h in task["history"]] == ["create", "assign"]
    path = tmp_path / "body.md"
    path.write_text("# From a file\nwith ünïcode\n", encoding="utf-8")
    assert new_task(dev, "File", "--body-file", str(path))["body"] == "# From a file\nwith ünïcode\n"
    assert new_task(dev, "Stdin", "--body", "-", "--review", "required")["review"] == "required"
    piped = dev.cli("task", "create", "Piped", "--body-file", "-", "--json", input="from stdin\n")
    assert piped.json()["body"] == "from stdin\n"
    routed = new_task(rev, "Route me", "-d", "infra", "--route")
    assert routed["assignee"] == dev.address and routed["history"][-1]["action"] == "route"


def test_human_output_of_create_actions_and_show(crew):
    fleet, dev, rev = crew
    created = dev.cli("task", "create", "Fix the **deploy**", "-d", "infra", "--priority", "high",
                      "--body", "Steps:\n\n1. look")
    assert created.exit_code == 0 and created.stdout.startswith("Task ") and "is open" in created.stdout
    tid = created.stdout.split()[1]
    claimed = dev.cli("task", "claim", tid)
    assert claimed.exit_code == 0 and f"is accepted, assignee {dev.address} (version 2)" in claimed.stdout
    dev.cli("task", "start", tid)
    dev.cli("doc", "put", "runbook", "--body", "steps")
    missing = dev.cli("task", "submit", tid, "--link", "doc:no-such-doc")
    assert missing.exit_code == 4 and "no-such-doc" in missing.stderr  # links name items that exist
    dev.cli("task", "submit", tid, "--note", "done it", "--link", "doc:runbook")
    shown = dev.cli("task", "show", tid)
    assert shown.exit_code == 0
    for text in ("in_review", "doc:runbook", "Steps:", "History", "done it", "claim", dev.address):
        assert text in shown.stdout, text
    assert rev.cli("task", "show", tid, "--json").json()["links"] == ["doc:runbook"]


def test_review_flow_and_refusals_exit_codes(crew, make_fleet):
    fleet, dev, rev = crew
    tid = str(new_task(fleet.owner, "Risky", "--priority", "high", "--assign", "dev")["id"])
    assert dev.cli("task", "accept", tid).exit_code == 0
    assert dev.cli("task", "submit", tid).exit_code == 5  # not started
    wrong_state = dev.cli("task", "submit", tid)
    assert "allowed from accepted: start, cancel" in wrong_state.stderr and wrong_state.stderr.count("\n") == 1
    assert rev.cli("task", "start", tid).exit_code == 3  # not the assignee
    dev.cli("task", "start", tid)
    dev.cli("task", "submit", tid)
    refused = dev.cli("task", "approve", tid)
    assert refused.exit_code == 3 and "agents never pass a review gate" in refused.stderr
    back = rev.cli("task", "request-changes", tid, "--reason", "add a test", "--json")
    assert back.exit_code == 0 and back.json()["state"] == "in_progress"
    dev.cli("task", "submit", tid)
    done = rev.cli("task", "approve", tid, "--note", "ok", "--json").json()
    assert done["state"] == "done" and done["history"][-1]["note"] == "ok"
    assert rev.cli("task", "cancel", tid, "--reason", "late").exit_code == 5
    outsider = make_fleet("other").owner
    assert outsider.cli("task", "show", tid).exit_code == 4
    assert outsider.cli("task", "cancel", tid, "--reason", "x").exit_code == 4


def test_bad_input_exits_2_with_one_line(crew):
    fleet, dev, _ = crew
    tid = str(new_task(dev, "t")["id"])
    cases = [("task", "create", "  "), ("task", "create", "x", "--priority", "asap"),
             ("task", "create", "x", "--review", "perhaps"), ("task", "create", "x", "-d", "Bad Tag"),
             ("task", "create", "x", "--assign", "dev", "--route"), ("task", "list", "--state", "finished"),
             ("task", "submit", tid, "--link", "http://nope")]
    for args in cases:
        result = dev.cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stderr.startswith("fleetctl: error:") and result.stderr.count("\n") == 1, result.stderr
    for args in [("task", "cancel", tid), ("task", "reject", tid), ("task", "request-changes", tid),
                 ("task", "show", "abc"), ("task", "assign", tid)]:
        assert dev.cli(*args).exit_code == 2, args
    assert dev.cli("task", "cancel", tid, "--reason", "").exit_code == 2
    assert dev.cli("task", "show", "999999999").exit_code == 4


def test_list_ready_and_mine(crew):
    fleet, dev, rev = crew
    mine = new_task(dev, "Mine", "-d", "infra")
    theirs = new_task(rev, "Theirs", "-d", "ops")
    given = new_task(rev, "Given", "-d", "ops", "--assign", "dev")
    listed = dev.cli("task", "list", "--mine", "--json").json()
    assert [t["id"] for t in listed["items"]] == [given["id"], mine["id"]] and listed["next"] is None
    ready = [t["id"] for t in dev.cli("task", "ready", "--json").json()["items"]]
    assert ready == [mine["id"], given["id"]]
    assert [t["id"] for t in dev.cli("task", "list", "-d", "ops", "--json").json()["items"]] == [
        given["id"], theirs["id"]]
    plain = dev.cli("task", "list", "--state", "assigned")
    header = ["ID", "STATE", "PRIORITY", "TITLE", "ASSIGNEE", "DOMAINS", "AGE"]
    assert plain.stdout.splitlines()[0].split("\t") == header
    assert plain.stdout.splitlines()[1].split("\t")[:5] == [str(given["id"]), "assigned", "normal", "Given",
                                                           dev.address]
    assert dev.cli("task", "list", "--state", "done").stdout.strip() == "No tasks."
    paged = dev.cli("task", "list", "--limit", "1")
    assert f"(more: --after {given['id']})" in paged.stdout


def test_list_on_a_tty_is_a_rich_table(crew, monkeypatch):
    from fleetctl.cli import output

    fleet, dev, rev = crew
    new_task(dev, "Review queue item", "--priority", "urgent")
    monkeypatch.setattr(output, "is_tty", lambda: True)
    monkeypatch.setenv("COLUMNS", "120")
    result = dev.cli("task", "list", "--state", "open")
    assert result.exit_code == 0
    assert "Review queue item" in result.stdout and "urgent" in result.stdout and "ago" in result.stdout
    assert "\t" not in result.stdout and "━" in result.stdout


def test_concurrent_version_flag_and_reject(crew):
    fleet, dev, rev = crew
    task = new_task(rev, "Versioned", "--assign", "dev")
    stale = dev.cli("task", "accept", str(task["id"]), "--if-version", "1")
    assert stale.exit_code == 5 and "version 2" in stale.stderr
    rejected = dev.cli("task", "reject", str(task["id"]), "--reason", "no time", "--if-version", "2", "--json")
    assert rejected.json()["state"] == "open" and rejected.json()["assignee"] is None


def test_every_task_command_has_help(crew):
    fleet, dev, _ = crew
    commands = ["create", "list", "ready", "show", "assign", "claim", "route", "accept", "reject", "start",
                "submit", "approve", "request-changes", "cancel"]
    overview = dev.cli("task", "--help").stdout
    for name in commands:
        assert name in overview
        text = dev.cli("task", name, "--help")
        assert text.exit_code == 0 and "--json" in text.stdout, name
    assert "fewest active" in dev.cli("task", "route", "--help").stdout


def test_usage_names_arguments_as_the_docs_do():
    from conftest import run_cli

    for args, name in ((["task", "show"], "'ID'"), (["task", "assign", "1"], "'MEMBER'"),
                       (["research", "show"], "'ID'"), (["doc", "get"], "'NAME'"), (["agent", "show"], "'NAME'"),
                       (["db", "backup"], "'FILE'")):
        result = run_cli(args)
        assert result.exit_code == 2 and f"Missing argument {name}" in result.stderr, (args, result.stderr)
