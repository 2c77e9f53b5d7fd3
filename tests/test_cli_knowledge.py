"""The knowledge feed through the CLI: publish inputs, list/show/search output, pins, bad input, exit codes."""

from __future__ import annotations

import secrets

import pytest
from conftest import run_cli


def tag(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def publish(actor, *args, input=None):
    return ok(actor.cli("knowledge", "publish", *args, "--json", input=input)).json()


def listed(actor, *args):
    return [e["id"] for e in ok(actor.cli("knowledge", "list", *args, "--json")).json()["items"]]


def test_publish_from_every_body_source(make_fleet, tmp_path):
    fleet = make_fleet("knc")
    agent = fleet.member("scout")
    infra = tag("infra")
    inline = publish(agent, "--kind", "tip", "--title", "inline", "--body", "**bold**", "--domain", infra,
                     "-d", "ops", "--pin", "--cross-fleet", "--expires-in", "7d")
    assert inline["body"] == "**bold**" and inline["domains"] == [infra, "ops"] and inline["pinned"] is True
    assert inline["visibility"] == "cross-fleet" and inline["author"] == agent.address and inline["expires_at"]
    path = tmp_path / "note.md"
    path.write_text("# Heading\n\nfrom a file ✓\n", encoding="utf-8")
    from_file = publish(agent, "--kind", "gotcha", "--title", "file", "--body-file", str(path))
    assert from_file["body"] == "# Heading\n\nfrom a file ✓\n" and from_file["visibility"] == "fleet"
    from_stdin = publish(agent, "--kind", "fix", "--title", "stdin", "--body-file", "-", input="piped body\n")
    assert from_stdin["body"] == "piped body\n" and from_stdin["expires_at"] is None
    dated = publish(agent, "--kind", "breaking", "--title", "dated", "--expires-at", "2099-06-01T00:00:00Z")
    assert dated["expires_at"] == "2099-06-01T00:00:00.000Z"
    human = ok(agent.cli("knowledge", "publish", "--kind", "tip", "--title", "plain"))
    assert human.stdout.startswith("Published #") and "plain" in human.stdout


def test_bad_input_one_line_exit_2_nothing_written(make_fleet, tmp_path):
    fleet = make_fleet("knc")
    owner = fleet.owner
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    cases = [
        (["--kind", "rumour", "--title", "t"], "kind"),
        (["--kind", "tip", "--title", ""], "title"),
        (["--kind", "tip", "--title", "t", "--expires-in", "soon"], "duration"),
        (["--kind", "tip", "--title", "t", "--expires-in", "5y"], "duration"),
        (["--kind", "tip", "--title", "t", "--expires-at", "2001-01-01T00:00:00Z"], "in the past"),
        (["--kind", "tip", "--title", "t", "--expires-at", "yesterday"], "ISO 8601"),
        (["--kind", "tip", "--title", "t", "--expires-in", "1h", "--expires-at", "2099-01-01"], "not both"),
        (["--kind", "tip", "--title", "t", "--body-file", str(latin1)], "not valid UTF-8"),
        (["--kind", "tip", "--title", "t", "--body-file", str(big)], "1 MiB"),
        (["--kind", "tip", "--title", "t", "--body", "a", "--body-file", str(big)], "not both"),
        (["--kind", "tip", "--title", "t", "--domain", "Not A Tag"], "domain"),
    ]
    for args, words in cases:
        result = owner.cli("knowledge", "publish", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert words in result.stderr and result.stderr.count("\n") == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
    for args in (["--kind", "tip", "--title", "t", "--supersedes", "x"], ["--title", "t"]):
        assert owner.cli("knowledge", "publish", *args).exit_code == 2  # the parser's own usage errors
    for args, name in ((["show", "0"], "'ID'"), (["search"], "'QUERY'")):  # arguments named as in the docs
        result = owner.cli("knowledge", *args)
        assert result.exit_code == 2 and name in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert listed(owner, "--all") == []
    empty = publish(owner, "--kind", "tip", "--title", "t", "--body-file", "-", input="")
    assert empty["body"] == "" and listed(owner, "--all") == [empty["id"]]


def test_raw_non_utf8_bytes_in_arguments_are_usage_errors(make_fleet):
    owner = make_fleet().owner
    raw = "bad\udcff"  # how Python hands over a byte 0xff from the shell
    for args, words in ((["knowledge", "search", raw], "q is not valid UTF-8"),
                        (["knowledge", "list", "--domain", raw], "domain is not valid UTF-8"),
                        (["doc", "get", raw], "argument is not valid UTF-8")):  # in a URL path: the CLI boundary
        result = owner.cli(*args)
        assert result.exit_code == 2 and words in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "unexpected" not in result.stderr


def test_supersede_and_show_the_chain(make_fleet):
    fleet = make_fleet("knc")
    owner = fleet.owner
    first = publish(owner, "--kind", "gotcha", "--title", "flaky deploy", "--body", "retry *twice*")
    second = publish(owner, "--kind", "fix", "--title", "deploy fixed", "--supersedes", str(first["id"]))
    shown = ok(owner.cli("knowledge", "show", str(first["id"]), "--json")).json()
    assert shown["state"] == "superseded" and shown["superseded_by"] == second["id"]
    human = ok(owner.cli("knowledge", "show", str(second["id"]))).stdout
    assert "deploy fixed" in human and "Chain (oldest first):" in human
    chain_lines = [line for line in human.splitlines() if line.lstrip("-> ").startswith("#")]
    assert chain_lines[0].startswith(f"   #{first['id']} [superseded]")
    assert chain_lines[1].startswith(f"-> #{second['id']} [current]")
    body = ok(owner.cli("knowledge", "show", str(first["id"]))).stdout
    assert "retry *twice*" in body  # not a TTY: the markdown source as is
    again = owner.cli("knowledge", "publish", "--kind", "fix", "--title", "x", "--supersedes", str(first["id"]))
    assert again.exit_code == 5 and "already superseded" in again.stderr
    missing = owner.cli("knowledge", "publish", "--kind", "fix", "--title", "x", "--supersedes", "999999999")
    assert missing.exit_code == 4 and "not found" in missing.stderr
    assert listed(owner) == [second["id"]] and listed(owner, "--all") == [second["id"], first["id"]]


def test_the_other_fleets_side(make_fleet):
    a, b = make_fleet("knca"), make_fleet("kncb")
    shared = tag("shared")
    hidden = publish(a.owner, "--kind", "tip", "--title", "hidden", "--domain", shared)
    shown = publish(a.owner, "--kind", "tip", "--title", "shown", "--domain", shared, "--cross-fleet")
    outsider = b.member("x", domains=[shared], cross_fleet=True)
    assert listed(outsider) == [shown["id"]]
    assert outsider.cli("knowledge", "show", str(hidden["id"])).exit_code == 4
    assert ok(outsider.cli("knowledge", "show", str(shown["id"]), "--json")).json()["author"] == a.owner.address
    for args in (["--supersedes", str(shown["id"])], ["--supersedes", str(hidden["id"])]):
        result = outsider.cli("knowledge", "publish", "--kind", "fix", "--title", "mine", *args)
        assert result.exit_code == (3 if str(shown["id"]) in args else 4), result.stderr
    for action in ("pin", "unpin", "retire"):
        assert outsider.cli("knowledge", action, str(shown["id"])).exit_code == 3
        assert outsider.cli("knowledge", action, str(hidden["id"])).exit_code == 4
    found = ok(outsider.cli("knowledge", "search", "hidden", "--json")).json()["items"]
    assert found == []
    assert listed(outsider, "--all") == [shown["id"]]


def test_list_filters_and_human_table(make_fleet):
    fleet = make_fleet("knc")
    infra, pay = tag("infra"), tag("pay")
    tip = publish(fleet.owner, "--kind", "tip", "--title", "infra tip", "--domain", infra)
    brk = publish(fleet.owner, "--kind", "breaking", "--title", "payments api v2", "--domain", pay, "--pin")
    everyone = publish(fleet.owner, "--kind", "fix", "--title", "for everyone")
    ops = fleet.member("ops", domains=[infra])
    assert listed(ops) == [everyone["id"], tip["id"]]
    assert listed(ops, "--domain", pay) == [brk["id"]]
    assert listed(ops, "--kind", "tip") == [tip["id"]]
    assert listed(fleet.owner) == [brk["id"], everyone["id"], tip["id"]]
    table = ok(fleet.owner.cli("knowledge", "list")).stdout.splitlines()
    assert table[0].split("\t") == ["ID", "KIND", "PIN", "TITLE", "DOMAINS", "AUTHOR", "AGE"]
    row = table[1].split("\t")
    assert row[:5] == [str(brk["id"]), "breaking", "*", "payments api v2", pay]
    assert row[5] == fleet.owner.address and row[6].endswith("ago")
    page = ok(fleet.owner.cli("knowledge", "list", "--limit", "2", "--json")).json()
    rest = ok(fleet.owner.cli("knowledge", "list", "--after", str(page["next"]), "--json")).json()
    assert [e["id"] for e in page["items"] + rest["items"]] == listed(fleet.owner)
    assert "More: --after" in ok(fleet.owner.cli("knowledge", "list", "--limit", "1")).stdout
    assert ok(ops.cli("knowledge", "list", "--kind", "gotcha")).stdout.strip() == "No knowledge entries."
    assert ops.cli("knowledge", "list", "--kind", "rumour").exit_code == 2


def test_pin_unpin_retire_and_search(make_fleet):
    fleet = make_fleet("knc")
    author = fleet.member("author")
    peer = fleet.member("peer")
    entry = publish(author, "--kind", "gotcha", "--title", "Redis eviction surprise", "--body", "maxmemory policy")
    assert ok(peer.cli("knowledge", "pin", str(entry["id"]))).stdout.startswith(f"Pinned #{entry['id']}")
    denied = peer.cli("knowledge", "unpin", str(entry["id"]))
    assert denied.exit_code == 3 and author.address in denied.stderr
    assert ok(author.cli("knowledge", "unpin", str(entry["id"]), "--json")).json()["pinned"] is False
    hits = ok(peer.cli("knowledge", "search", "maxmemory", "eviction", "--json")).json()["items"]
    assert [e["id"] for e in hits] == [entry["id"]]
    assert str(entry["id"]) in ok(peer.cli("knowledge", "search", 'redis"(')).stdout
    assert peer.cli("knowledge", "retire", str(entry["id"])).exit_code == 3
    retired = ok(fleet.owner.cli("knowledge", "retire", str(entry["id"]), "--json")).json()
    assert retired["state"] == "retired"
    assert ok(peer.cli("knowledge", "search", "redis", "--json")).json()["items"] == []
    assert ok(peer.cli("knowledge", "search", "redis", "--all", "--json")).json()["items"][0]["id"] == entry["id"]
    assert fleet.owner.cli("knowledge", "retire", str(entry["id"])).exit_code == 5
    assert peer.cli("knowledge", "pin", "999999999").exit_code == 4
    assert peer.cli("knowledge", "search", "--json", "***").exit_code == 2


@pytest.mark.parametrize("command", ["publish", "list", "show", "search", "pin", "unpin", "retire"])
def test_every_command_and_option_has_help(command):
    import typer

    from fleetctl.cli.main import app

    group = typer.main.get_command(app).commands["knowledge"]
    cmd = group.commands[command]
    assert cmd.help
    for param in cmd.params:
        assert getattr(param, "help", None) or param.name == "ctx", (command, param.name)
    assert ok(run_cli(["knowledge", command, "--help"])).stdout
