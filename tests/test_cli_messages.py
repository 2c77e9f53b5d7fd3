"""`fleetctl msg` through the CLI: send, inbox, read, thread, policy changes, bad input, restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from conftest import Actor


@pytest.fixture
def crew(make_fleet):
    """acme (x, y) and labs (scout, registered with no cross-fleet traffic)."""
    acme, labs = make_fleet("acme"), make_fleet("labs")
    return acme, labs, acme.member("x"), acme.member("y"), labs.member("scout")


def inbox(actor, *args) -> list[int]:
    result = actor.cli("msg", "inbox", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return [m["id"] for m in result.json()["items"]]


def test_send_inbox_read_thread(crew):
    acme, labs, x, y, scout = crew
    sent = x.cli("msg", "send", "y", "--subject", "deploy broke", "--body", "# Steps\n\n1. rerun", "--json")
    assert sent.exit_code == 0, sent.stderr
    m = sent.json()
    assert m["sender"] == x.address and m["recipients"] == [y.address] and m["body"].startswith("# Steps")
    human = y.cli("msg", "send", "x", "-s", "re: deploy", "--reply-to", str(m["id"]), "--body-file", "-",
                  input="on it\n")
    assert human.exit_code == 0 and human.stdout.startswith("Sent message ") and f"thread {m['id']}" in human.stdout
    table = y.cli("msg", "inbox")
    assert table.exit_code == 0
    header, row = table.stdout.splitlines()
    assert header.split("\t") == ["NEW", "ID", "FROM", "SUBJECT", "AGE"]
    assert row.split("\t")[:4] == ["*", str(m["id"]), x.address, "deploy broke"]
    shown = y.cli("msg", "read", str(m["id"]))
    assert shown.exit_code == 0
    assert f"from      {x.address}" in shown.stdout and "subject   deploy broke" in shown.stdout
    assert " ago)" in shown.stdout
    assert shown.stdout.rstrip().endswith("1. rerun")
    assert y.cli("msg", "inbox").stdout.splitlines()[1].split("\t")[0] == ""  # now read
    assert y.cli("msg", "inbox", "--unread").stdout.strip() == "No unread messages."
    thread = x.cli("msg", "thread", str(m["id"]), "--json").json()
    assert [i["subject"] for i in thread["items"]] == ["deploy broke", "re: deploy"]
    assert thread["items"][1]["preview"] == "on it\n" and thread["items"][1]["body_chars"] == 6
    text = x.cli("msg", "thread", str(m["id"])).stdout
    assert text.index("deploy broke") < text.index("re: deploy") and "on it" in text
    own = x.cli("msg", "show", str(m["id"]), "--json").json()
    assert own["deliveries"][0]["read_at"] is not None
    assert "read_by" in x.cli("msg", "show", str(m["id"])).stdout


def test_policy_change_takes_effect_on_the_next_message(crew):
    acme, labs, x, y, scout = crew
    refused = x.cli("msg", "send", scout.address, "--subject", "hi", "--domain", "infra")
    assert refused.exit_code == 3 and "rule: cross_fleet" in refused.stderr and refused.stderr.count("\n") == 1
    update = labs.owner.cli("agent", "update", "scout", "--cross-fleet", "--domain", "infra")
    assert update.exit_code == 0, update.stderr
    allowed = x.cli("msg", "send", scout.address, "--subject", "hi", "--domain", "infra", "--json")
    assert allowed.exit_code == 0, allowed.stderr
    assert inbox(scout) == [allowed.json()["id"]]
    assert labs.owner.cli("agent", "update", "scout", "--allow-fleet", "other-fleet").exit_code == 0
    again = x.cli("msg", "send", scout.address, "--subject", "hi", "--domain", "infra")
    assert again.exit_code == 3 and "rule: allow_fleets" in again.stderr
    audit = acme.owner.cli("audit", "--action", "message.send", "--json").json()["items"]
    assert [r["status"] for r in audit] == [403, 201, 403] and {r["member"] for r in audit} == {x.address}


def test_all_or_nothing_and_unknown_members(crew):
    acme, labs, x, y, scout = crew
    refused = x.cli("msg", "send", "y", scout.address, "--subject", "both")
    assert refused.exit_code == 3 and scout.address in refused.stderr
    unknown = x.cli("msg", "send", "y", "nobody", "--subject", "both")
    assert unknown.exit_code == 4 and f"{acme.name}/nobody" in unknown.stderr
    assert inbox(y) == [] and inbox(x) == []


def test_outsiders_cannot_read(crew):
    acme, labs, x, y, scout = crew
    bystander = acme.member("bystander")
    mid = x.cli("msg", "send", "y", "--subject", "private", "--json").json()["id"]
    for who in (bystander, scout, labs.owner):
        for cmd in ("read", "show", "thread"):
            result = who.cli("msg", cmd, str(mid))
            assert result.exit_code == 4 and f"message {mid} not found" in result.stderr, (who.address, cmd)
        reply = who.cli("msg", "send", x.address, "--subject", "re", "--reply-to", str(mid))
        assert reply.exit_code == 4
    assert y.cli("msg", "show", str(mid), "--json").json()["read_at"] is None


def test_bad_input(crew, tmp_path):
    acme, labs, x, y, scout = crew
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    big = tmp_path / "big.md"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    cases = [
        (("msg", "send", "y", "--subject", ""), 2, "subject must not be empty"),
        (("msg", "send", "--subject", "s"), 2, "MEMBER"),
        (("msg", "send", "y"), 2, "--subject"),
        (("msg", "send", "y", "--subject", "s", "--body-file", str(latin1)), 2, "not valid UTF-8"),
        (("msg", "send", "y", "--subject", "s", "--body-file", str(big)), 2, "at most 1048576"),
        (("msg", "send", "y", "--subject", "s", "--body", "b", "--body-file", str(big)), 2, "not both"),
        (("msg", "send", "y", "--subject", "s", "--reply-to", "999999999"), 4, "message 999999999 not found"),
        (("msg", "send", "y", "--subject", "s", "--reply-to", "abc"), 2, "reply-to"),
        (("msg", "send", "y", "--subject", "s", "--domain", "Not A Tag"), 2, "invalid domain tag"),
        (("msg", "read", "0"), 2, "it must be at least 1"),
        (("msg", "inbox", "--limit", "0"), 2, "limit"),
    ]
    for args, code, needle in cases:
        result = x.cli(*args)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    assert inbox(y) == []


def test_help_says_what_send_does():
    from conftest import run_cli

    text = " ".join(run_cli(["msg", "send", "--help"]).stdout.split())
    assert "to none" in text and "yourself" in text and "--reply-to" in text and "--body-file" in text
    for cmd in ("inbox", "read", "show", "thread"):
        assert run_cli(["msg", cmd, "--help"]).exit_code == 0


def _serve(db_url: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "fleetctl", "serve", "--port", "0", "--db", db_url],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "FLEET_TEST_ENGINES": ""})
    line = proc.stdout.readline()
    assert "serving on" in line, line
    return proc, line.split("serving on ")[1].split()[0]


@pytest.mark.slow
def test_messages_wait_for_a_sleeping_recipient_across_restarts(crew, server):
    acme, labs, x, y, scout = crew
    first, url = _serve(server.db_url)
    try:
        sent = Actor(x.address, x.token, url).cli("msg", "send", "y", "--subject", "while you slept", "--json")
        assert sent.exit_code == 0, sent.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    second, url = _serve(server.db_url)
    try:
        woke = Actor(y.address, y.token, url).cli("msg", "inbox", "--json").json()["items"]
        assert [(m["id"], m["subject"], m["read_at"]) for m in woke] == [(sent.json()["id"], "while you slept", None)]
    finally:
        second.terminate()
        second.wait()
