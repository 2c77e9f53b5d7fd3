"""`fleetctl db backup FILE` while a real server writes: the copy is consistent, and a server started on
it serves every write acknowledged before the backup began (SQLite's online backup)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
import servers
from conftest import ENGINES, Actor, http_request
from load import Load

pytestmark = [pytest.mark.slow, pytest.mark.skipif("sqlite" not in ENGINES, reason="SQLite is not under test")]


def test_online_backup_under_writes_is_consistent_and_complete(tmp_path):
    live, copy = str(tmp_path / "live.db"), str(tmp_path / "copy.db")
    srv = servers.start(live)
    try:
        made = servers.local(live, "fleet", "create", "backup", "--rate-limit", "1000000")
        owner = Actor(made["member"]["address"], made["token"], srv.url)
        tokens = []
        for i in range(4):
            resp = owner.http("POST", "/v1/agents", {"name": f"w{i}", "rate_limit": 1_000_000})
            tokens.append(resp.body["token"])
        load = Load(srv.url, tokens, lambda i, n: ("POST", "/v1/knowledge", {"kind": "tip", "title": f"w{i} #{n}"}))
        load.start()
        load.wait(acked=100, timeout=20)
        before = [list(acked) for acked in load.acked]  # acknowledged before the backup began
        result = servers.local(live, "db", "backup", copy)
        load.wait(acked=load.total_acked + 50, timeout=20)  # writes go on after the backup, unharmed
        load.stop()
        assert result["backup"] == copy and result["bytes"] > 0
        assert load.bodies_5xx == [] and set(load.statuses) == {201}, load.statuses
        again = subprocess.run([sys.executable, "-m", "fleetctl", "db", "backup", copy, "--db", live],
                               capture_output=True, text=True)
        assert again.returncode != 0 and "exists" in again.stderr and "Traceback" not in again.stderr
    finally:
        srv.stop()

    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = servers.start(copy)
    try:
        expected = [(sent["title"], answer["id"]) for acked in before for sent, answer in acked]
        for title, ident in expected:
            resp = http_request(restored.url, "GET", f"/v1/knowledge/{ident}",
                                headers={"Authorization": f"Bearer {tokens[0]}"})
            assert resp.status == 200 and resp.body["title"] == title, (ident, resp.status)
        print(f"backup: {load.requests} writes during the run, {len(expected)} acknowledged before the backup, "
              f"all served from the copy")
    finally:
        restored.stop()
