"""Bounded growth: `fleetctl db prune` and `serve --retention` on a database of their own (a real
SQLite file or PostgreSQL database, real servers as subprocesses). Old audit records, delivered
change-log entries and read deliveries go; anything still pending for a member survives; a prune
killed mid-way leaves a consistent database."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import servers
from conftest import ENGINES, Actor, run_local, sql

pytestmark = pytest.mark.slow

BACKDATE = {  # table, timestamp column: moved 400 days into the past
    "audit_log": "at", "change": "created_at", "message_deliveries": "read_at", "messages": "created_at",
}


def backdate(url: str, days: int = 400, where: str = "") -> None:
    for table, column in BACKDATE.items():
        value = f"{column} - interval '{days} days'" if "://" in url else f"datetime({column}, '-{days} days')"
        sql(url, f'UPDATE "{table}" SET {column} = {value} WHERE {column} IS NOT NULL {where}')


def count(url: str, table: str) -> int:
    return sql(url, f'SELECT COUNT(*) FROM "{table}"')[0][0]


def old_audit(db: str, rows: int, resource: str = "NULL") -> None:
    """`rows` audit records of 2020 in a SQLite file, written in one statement."""
    sql(db, f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
            "INSERT INTO audit_log (at, action, resource, status, ip, count) "
            f"SELECT '2020-01-01 00:00:00', 'GET /v1/whoami', {resource}, 401, '10.0.0.1', 1 FROM n")


def prune(url: str, *args: str) -> dict:
    result = run_local("db", "prune", "--db", url, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_prune_deletes_what_was_delivered_and_keeps_what_is_pending(fresh_db):
    srv = servers.start(fresh_db)
    try:
        made = servers.local(fresh_db, "fleet", "create", "acme")
        owner = Actor(made["member"]["address"], made["token"], srv.url)
        a = Actor("acme/a", owner.client.post("/v1/agents", {"name": "a"})["token"], srv.url)
        b = Actor("acme/b", owner.client.post("/v1/agents", {"name": "b"})["token"], srv.url)
        read = a.client.post("/v1/messages", {"recipients": ["b"], "subject": "read me", "body": "old news"})
        b.client.post(f"/v1/messages/{read['id']}/read")
        a.client.post("/v1/knowledge", {"kind": "tip", "title": "seen by all"})
        for member in (owner, a, b):
            member.client.post("/v1/wake")  # every member has been handed everything so far
        pending = a.client.post("/v1/messages", {"recipients": ["b"], "subject": "still pending", "body": "!"})
        a.client.post("/v1/tasks", {"title": "for b", "assign": "b"})  # a pending wake item for b
    finally:
        srv.stop()
    backdate(fresh_db)
    changes_before, audit_before = count(fresh_db, "change"), count(fresh_db, "audit_log")

    dry = prune(fresh_db, "--older-than", "365d", "--dry-run")
    assert dry["dry_run"] is True and dry["deleted"]["audit_log"] == audit_before
    assert dry["deleted"]["message_deliveries"] == 1  # the read one; the unread one is pending
    assert 0 < dry["deleted"]["change"] < changes_before
    assert (count(fresh_db, "change"), count(fresh_db, "audit_log")) == (changes_before, audit_before)

    done = prune(fresh_db, "--older-than", "365d")
    assert done["deleted"] == dry["deleted"] and done["dry_run"] is False
    assert count(fresh_db, "audit_log") == 0 and count(fresh_db, "message_deliveries") == 1
    assert prune(fresh_db, "--older-than", "365d")["deleted"] == {
        "audit_log": 0, "change": 0, "message_deliveries": 0}
    assert prune(fresh_db, "--older-than", "1s")["deleted"]["message_deliveries"] == 0  # pending survives any prune

    srv = servers.start(fresh_db)
    owner, a, b = (Actor(x.address, x.token, srv.url) for x in (owner, a, b))  # the new server's port
    try:
        wake = b.client.get("/v1/wake")  # first: listing the inbox marks messages delivered
        assert not wake["empty"] and pending["id"] in [m["id"] for m in wake["sections"]["messages"]]
        assert [t["title"] for t in wake["sections"]["tasks"]] == ["for b"]
        inbox = b.client.get("/v1/messages")["items"]
        assert [m["id"] for m in inbox] == [pending["id"]] and inbox[0]["read_at"] is None
        assert b.http("GET", f"/v1/messages/{read['id']}").status == 404  # its read delivery is gone
        assert a.client.get(f"/v1/messages/{read['id']}")["subject"] == "read me"  # the sender keeps it
        assert owner.client.get("/v1/wake")["empty"] is True  # nothing comes back as news
    finally:
        srv.stop()


def test_bad_retention_is_one_line_and_exit_2(tmp_path):
    db = str(tmp_path / "bad.db")
    assert run_local("db", "upgrade", "--db", db).exit_code == 0
    for bad in ("0", "0d", "-5d", "nonsense", "", "5 years"):
        result = run_local("db", "prune", "--db", db, "--older-than", bad)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, (bad, result.stderr)
        assert "Traceback" not in result.stderr
    served = run_local("serve", "--db", db, "--port", "0", "--retention", "0d")
    assert served.exit_code == 2 and "invalid duration" in served.stderr


@pytest.mark.skipif("sqlite" not in ENGINES, reason="SQLite is not under test")
def test_a_prune_killed_mid_way_leaves_a_consistent_database(tmp_path):
    from fleetctl.services.prune import BATCH

    db = str(tmp_path / "kill.db")
    assert run_local("db", "upgrade", "--db", db).exit_code == 0
    rows = 50 * BATCH
    old_audit(db, rows)
    proc = subprocess.Popen([sys.executable, "-m", "fleetctl", "db", "prune", "--db", db, "--older-than", "30d"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while count(db, "audit_log") == rows and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    left = count(db, "audit_log")
    assert 0 < left < rows, f"the kill did not land mid-way ({left} of {rows} left)"
    assert sql(db, "PRAGMA integrity_check") == [("ok",)]
    assert left % BATCH == 0  # batches commit whole or not at all
    assert prune(db, "--older-than", "30d")["deleted"]["audit_log"] == left
    assert count(db, "audit_log") == 0


@pytest.mark.skipif("sqlite" not in ENGINES, reason="SQLite is not under test")
def test_prune_gives_space_back_on_sqlite(tmp_path):
    db = str(tmp_path / "space.db")
    assert run_local("db", "upgrade", "--db", db).exit_code == 0
    old_audit(db, 20_000, resource="printf('%0200d', i)")
    sql(db, "PRAGMA wal_checkpoint(TRUNCATE)")
    import os

    size = os.path.getsize(db)
    report = prune(db, "--older-than", "30d")
    assert report["vacuum"] == "incremental" and report["reclaimed_bytes"] > size // 2, report
    assert os.path.getsize(db) < size // 2


@pytest.mark.skipif("sqlite" not in ENGINES, reason="SQLite is not under test")
def test_serve_retention_prunes_in_the_background_soon_after_start(tmp_path):
    db = str(tmp_path / "serve.db")
    assert run_local("db", "upgrade", "--db", db).exit_code == 0
    sql(db, "INSERT INTO audit_log (at, action, status, ip, count) "
            "VALUES ('2020-01-01 00:00:00', 'GET /v1/whoami', 401, '10.0.0.1', 1)")
    srv = servers.start(db, {"FLEET_PRUNE_DELAY": "0.2"}, args=("--retention", "30d"))
    try:
        deadline = time.monotonic() + 20
        while "pruned records older than 30d" not in srv.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert count(db, "audit_log") == 0, srv.log()
        assert "'audit_log': 1" in srv.log()
    finally:
        srv.stop()
