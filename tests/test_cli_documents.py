"""Documents through the CLI: put from flags, files and stdin; get, history, diff, list; exit codes."""

from __future__ import annotations


def test_put_get_history_diff_list(make_fleet, tmp_path):
    fleet = make_fleet("cli-docs")
    owner = fleet.owner
    made = owner.cli("doc", "put", "runbook", "--title", "Deploy runbook", "--body", "step 1\n",
                     "--domain", "infra", "--message", "start", "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["version"] == 1 and made.json()["domains"] == ["infra"]
    source = tmp_path / "runbook.md"
    source.write_text("step 1\nstep 2\n", encoding="utf-8")
    human = owner.cli("doc", "put", "runbook", "--body-file", str(source), "--base-version", "1")
    assert human.exit_code == 0 and human.stdout.strip() == f"Wrote {fleet.name}/runbook version 2."
    piped = owner.cli("doc", "put", "runbook", "--body-file", "-", "-m", "from stdin", "--json",
                      input="step 1\nstep 2\nstep 3\n")
    assert piped.json()["version"] == 3

    got = owner.cli("doc", "get", "runbook", "--version", "2", "--json").json()
    assert (got["body"], got["version"], got["latest_version"]) == ("step 1\nstep 2\n", 2, 3)
    assert owner.cli("doc", "get", "runbook", "--raw").stdout == "step 1\nstep 2\nstep 3\n"
    shown = owner.cli("doc", "get", f"{fleet.name}/runbook")
    assert "Deploy runbook" in shown.stdout and "from stdin" in shown.stdout and "step 3" in shown.stdout

    history = owner.cli("doc", "history", "runbook")
    lines = history.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["VERSION", "AUTHOR", "MESSAGE"]
    assert [line.split("\t")[0] for line in lines[1:]] == ["3", "2", "1"]
    assert owner.cli("doc", "history", "runbook", "--json").json()["items"][2]["message"] == "start"

    diff = owner.cli("doc", "diff", "runbook", "1", "3")
    assert diff.exit_code == 0
    assert diff.stdout.splitlines() == [
        f"--- {fleet.name}/runbook@1", f"+++ {fleet.name}/runbook@3", "@@ -1 +1,3 @@", " step 1", "+step 2",
        "+step 3"]
    assert "identical" in owner.cli("doc", "diff", "runbook", "2", "2").stdout
    assert owner.cli("doc", "diff", "runbook", "1", "3", "--json").json()["to"] == 3

    listed = owner.cli("doc", "list", "--json").json()
    assert [d["name"] for d in listed["items"]] == ["runbook"] and listed["next"] is None
    assert "Deploy runbook" in owner.cli("doc", "list").stdout
    assert owner.cli("doc", "list", "--domain", "payments").stdout.strip() == "No documents."


def test_exit_codes_and_one_line_errors(make_fleet):
    home, other = make_fleet("home"), make_fleet("other")
    home.owner.cli("doc", "put", "spec", "--body", "v1", "--domain", "api", "--cross-fleet")
    home.owner.cli("doc", "put", "spec", "--body", "v2")
    stale = home.owner.cli("doc", "put", "spec", "--body", "lost", "--base-version", "1")
    assert stale.exit_code == 5 and stale.stderr.count("\n") == 1 and "--base-version 2" in stale.stderr
    assert home.owner.cli("doc", "get", "nothing").exit_code == 4
    assert home.owner.cli("doc", "get", "spec", "--version", "9").exit_code == 4
    bad = home.owner.cli("doc", "put", "Bad_Name", "--body", "x")
    assert bad.exit_code == 2 and bad.stderr.startswith("fleetctl: error: invalid document name")
    assert home.owner.cli("doc", "put", "spec").exit_code == 2  # no body
    empty = home.owner.cli("doc", "get", "")
    assert empty.exit_code == 2 and empty.stdout == ""  # not the document list
    ahead = home.owner.cli("doc", "put", "spec", "--body", "x", "--base-version", "7")
    assert ahead.exit_code == 5 and "has no version 7 yet" in ahead.stderr
    fresh = home.owner.cli("doc", "put", "fresh", "--body", "x", "--base-version", "3")
    assert fresh.exit_code == 5 and "does not exist yet" in fresh.stderr
    assert home.owner.cli("doc", "put", "spec", "--body", "a", "--body-file", "f").exit_code == 2

    partner = other.member("partner", domains=["api"], cross_fleet=True)
    outsider = other.member("outsider", domains=["ops"], cross_fleet=True)
    read = partner.cli("doc", "get", f"{home.name}/spec", "--json")
    assert read.exit_code == 0 and read.json()["body"] == "v2"
    write = partner.cli("doc", "put", f"{home.name}/spec", "--body", "mine")
    assert write.exit_code == 3 and "only its members can write" in write.stderr
    assert outsider.cli("doc", "get", f"{home.name}/spec").exit_code == 4
    assert outsider.cli("doc", "history", f"{home.name}/spec").exit_code == 4
    assert outsider.cli("doc", "put", f"{home.name}/spec", "--body", "x").exit_code == 4

    hidden = home.owner.cli("doc", "put", "spec", "--body", "v3", "--fleet-only", "--json").json()
    assert hidden["visibility"] == "fleet" and hidden["domains"] == ["api"]
    assert partner.cli("doc", "get", f"{home.name}/spec").exit_code == 4


def test_help_describes_every_command():
    from conftest import run_cli

    for command in ("put", "get", "history", "diff", "list"):
        result = run_cli(["doc", command, "--help"])
        assert result.exit_code == 0 and "--json" in result.stdout
    assert "--base-version" in run_cli(["doc", "put", "--help"]).stdout
