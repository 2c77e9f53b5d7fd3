"""The typed client against a real server: one namespace per primitive, the server's errors, a light import."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from fleetctl.client import Client
from fleetctl.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized


def test_system_and_members(make_fleet, server):
    fleet = make_fleet("cli-sys")
    owner = fleet.owner.client
    assert owner.system.healthz()["ok"] is True and Client(server.url).system.healthz()["ok"] is True  # no token
    assert owner.system.readyz()["ok"] is True
    assert "/v1/tasks/{id}/actions" in owner.system.openapi()["paths"]
    assert owner.system.whoami()["member"]["address"] == fleet.owner.address

    minted = owner.members.register("scout", domains=["infra"], cross_fleet=True, rate_limit=50)
    address = f"{fleet.name}/scout"
    assert minted["member"]["address"] == address and minted["token"].startswith("flt_")
    assert (minted["member"]["role"], minted["member"]["allow_fleets"]) == ("agent", [])  # server defaults
    scout = Client(server.url, minted["token"])
    assert scout.system.whoami()["member"]["domains"] == ["infra"]
    assert address in [m["address"] for m in owner.members.list(limit=50)["items"]]
    changed = owner.members.update("scout", domains=[], role="reviewer")  # [] clears; unnamed fields stay
    assert (changed["domains"], changed["role"], changed["rate_limit"]) == ([], "reviewer", 50)
    assert owner.members.show(address)["role"] == "reviewer"

    own = scout.members.rotate()  # its own token: the old one dies at once
    with pytest.raises(Unauthorized):
        scout.system.whoami()
    scout = Client(server.url, own["token"])
    by_owner = owner.members.rotate("scout")
    assert by_owner["member"]["address"] == address and by_owner["token"] != own["token"]
    assert owner.members.revoke("scout")["revoked_at"] is not None
    with pytest.raises(Unauthorized):
        Client(server.url, by_owner["token"]).system.whoami()

    records = owner.audit.list(action="agent", limit=10)["items"]
    assert {"agent.register", "agent.update", "agent.revoke"} <= {r["action"] for r in records}
    assert owner.audit.list(member=fleet.owner.address, action="token.rotate", limit=5)["items"]


def test_knowledge_tasks_and_messages(make_fleet):
    fleet = make_fleet("cli-work")
    ops, dev = fleet.member("ops", domains=["infra"]), fleet.member("dev", domains=["infra"])
    a, b = ops.client, dev.client

    old = a.knowledge.publish("gotcha", "quokka subnet moved", body="use names", domains=["infra"])
    new = a.knowledge.publish(kind="gotcha", title="quokka subnet moved again", supersedes=old["id"])
    assert new["domains"] == ["infra"] and a.knowledge.show(old["id"])["superseded_by"] == new["id"]
    assert [e["id"] for e in a.knowledge.chain(new["id"])["items"]] == [old["id"], new["id"]]
    assert [e["id"] for e in b.knowledge.search("quokka")["items"]] == [new["id"]]
    assert {e["id"] for e in b.knowledge.search("quokka", all=True)["items"]} == {old["id"], new["id"]}
    assert b.knowledge.pin(new["id"])["pinned"] is True
    assert b.knowledge.list(kind=["gotcha"])["items"][0]["id"] == new["id"]
    assert a.knowledge.unpin(new["id"])["pinned"] is False
    assert a.knowledge.retire(new["id"])["state"] == "retired"
    assert new["id"] not in [e["id"] for e in b.knowledge.list(domain="infra")["items"]]

    first = a.tasks.create("rotate certs", body="before friday", domains=["infra"])
    blocked = a.tasks.create("announce", depends_on=[first["id"]], priority="high")
    assert blocked["review"] == "required" and blocked["depends_on"] == [first["id"]]
    assert first["id"] in [t["id"] for t in b.tasks.ready()["items"]]
    claimed = b.tasks.act(first["id"], "claim", version=first["version"])
    assert (claimed["state"], claimed["assignee"]) == ("accepted", dev.address)
    with pytest.raises(Conflict):  # it moved past the version the caller saw
        b.tasks.act(first["id"], "start", version=first["version"])
    b.tasks.act(first["id"], "start")
    b.documents.put("certs", "renewed on monday")
    done = b.tasks.act(first["id"], "submit", note="renewed", links=["doc:certs"])
    assert done["state"] == "done" and b.tasks.show(first["id"])["links"] == ["doc:certs"]
    assert [t["id"] for t in a.tasks.list(mine=True, state=["done"])["items"]] == [first["id"]]
    assert first["id"] not in [t["id"] for t in a.tasks.list(active=True)["items"]]
    with pytest.raises(Forbidden):  # only the creator or an owner cancels
        b.tasks.act(blocked["id"], "cancel", reason="not mine")

    sent = a.messages.send([dev.name], "certs", body="renewed?", domains=["infra"])
    assert b.messages.inbox(unread=True)["items"][0]["id"] == sent["id"]
    assert b.messages.show(sent["id"])["subject"] == "certs"
    reply = b.messages.send([ops.name], "Re: certs", reply_to=sent["id"])
    assert b.messages.read(sent["id"])["id"] == sent["id"] and not b.messages.inbox(unread=True)["items"]
    assert [m["id"] for m in a.messages.thread(reply["id"])["items"]] == [sent["id"], reply["id"]]


def test_research_documents_and_wake(make_fleet):
    fleet = make_fleet("cli-docs")
    author = fleet.member("analyst", domains=["perf"])
    boss = fleet.member("boss", role="reviewer", domains=["perf"])
    a, b = author.client, boss.client

    r = a.research.publish("why p99 spiked", 0.6, question="what caused it?", reviewers=["boss"], domains=["perf"])
    assert r["state"] == "in_review" and a.research.list(state="in_review")["items"][0]["id"] == r["id"]
    assert b.research.review(r["id"], "request-changes", comment="show the heap")["state"] == "changes_requested"
    revised = a.research.revise(r["id"], body="GC pauses; heap attached", confidence=0.9)
    assert (revised["revision"], revised["confidence"], revised["title"]) == (2, 0.9, "why p99 spiked")
    assert b.research.review(r["id"], "approve")["state"] == "approved"
    assert [v["verdict"] for v in a.research.show(r["id"])["reviews"]] == ["request-changes", "approve"]

    first = a.documents.put("runbook", "a\nb\n", title="Runbook", domains=["perf"], message="first")
    assert (first["version"], first["title"]) == (1, "Runbook")
    a.documents.put("runbook", "a\nc\n", base_version=1)
    with pytest.raises(Conflict) as stale:
        a.documents.put("runbook", "lost", base_version=1)
    assert stale.value.extra["current_version"] == 2 and "base_version 2" in stale.value.detail
    assert a.documents.get("runbook", version=1)["body"] == "a\nb\n"
    assert a.documents.get(f"{fleet.name}/runbook")["body"] == "a\nc\n"
    assert [v["version"] for v in a.documents.history("runbook")["items"]] == [2, 1]
    assert "+c" in a.documents.diff("runbook", 1, 2)["diff"]
    assert [d["name"] for d in b.documents.list(domain=["perf"])["items"]] == ["runbook"]

    peeked = b.wake.peek(max_chars=2000)
    assert not peeked["empty"] and b.wake.peek(commands="mcp", wait=1)["cursor"] == peeked["cursor"]
    assert b.wake.ack(peeked["cursor"])["moved"] is True
    assert b.wake.advance()["empty"] is True and b.wake.peek(wait=1)["empty"] is True


def test_a_held_wait_outlasts_the_clients_timeout(make_fleet, server):
    quiet = make_fleet("cli-wait").member("quiet")
    client = Client(server.url, quiet.token, timeout=0.5)
    client.system.whoami()  # the connection is open, with the short timeout
    started = time.monotonic()
    assert client.wake.peek(wait=2)["empty"] is True  # held 2 s by the server, not cut at 0.5 s
    assert time.monotonic() - started >= 1.5 and client.timeout >= 2


def test_errors_are_the_servers_and_names_are_checked(make_fleet):
    owner = make_fleet("cli-err").owner.client
    with pytest.raises(NotFound) as missing:
        owner.tasks.show(10**9)
    assert missing.value.exit_code == 4 and "task" in missing.value.detail
    with pytest.raises(NotFound):
        owner.documents.get("no-such-doc")
    with pytest.raises(Invalid, match="document name must not be empty"):  # not the document list
        owner.documents.get("")
    with pytest.raises(Invalid, match="member name must not be empty"):
        owner.members.revoke("")
    with pytest.raises(Unauthorized, match="no token"):
        Client(owner.url).system.whoami()


def test_the_client_imports_no_server_stack():
    code = ("import sys, fleetctl.client; "
            "print(','.join(m for m in ('pydantic', 'flask', 'peewee', 'werkzeug') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_dropped_client_closes_its_connection_at_once(make_fleet):
    """No reference cycle: a script that makes a client per call must not pile up open connections
    until the garbage collector runs (the server's connection limit would then refuse new ones)."""
    import gc
    import weakref

    owner = make_fleet("cli-drop").owner
    gc.disable()
    try:
        client = Client(owner.url, owner.token)
        assert client.system.whoami()["member"]["address"] == owner.address
        dropped, sock = weakref.ref(client), weakref.ref(client._conn.sock)
        del client
        assert dropped() is None
        assert sock() is None  # the socket went (and closed) with the client, not at the next collection
    finally:
        gc.enable()
