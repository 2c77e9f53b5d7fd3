"""Crash safety against real `fleetctl serve` processes: kill -9 and SIGTERM while 4 writers publish.

After SIGKILL every write the server acknowledged (2xx) is there when a new server starts on the same
database. After SIGTERM the shutdown is clean: every acknowledged mutation also has its audit record.
"""

from __future__ import annotations

import secrets
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import servers
from conftest import Actor, http_request
from load import Load

pytestmark = pytest.mark.slow

WRITERS = 4


class Crew:
    """A fleet made with `fleet create` (local), an owner and WRITERS agents with no practical limit."""

    def __init__(self, db_url: str, url: str) -> None:
        made = servers.local(db_url, "fleet", "create", f"crash-{secrets.token_hex(3)}", "--rate-limit", "1000000")
        self.owner = Actor(made["member"]["address"], made["token"], url)
        assert self.owner.http("PATCH", f"/v1/agents/{self.owner.name}", {"rate_limit": 1_000_000}).status == 200
        self.writers = []
        for i in range(WRITERS):
            resp = self.owner.http("POST", "/v1/agents", {"name": f"w{i}", "rate_limit": 1_000_000})
            assert resp.status == 201, resp.body
            self.writers.append(Actor(resp.body["member"]["address"], resp.body["token"], url))

    def load(self, url: str, tag: str) -> Load:
        def publish(i: int, n: int):
            return "POST", "/v1/knowledge", {"kind": "tip", "title": f"{tag} w{i} #{n}", "body": "x" * 200}

        return Load(url, [w.token for w in self.writers], publish)


def missing_entries(url: str, token: str, load: Load) -> list:
    """Every acknowledged publish of `load` that the server at `url` cannot show as it was acknowledged."""

    def check(pair):
        sent, answer = pair
        resp = http_request(url, "GET", f"/v1/knowledge/{answer['id']}", headers={"Authorization": f"Bearer {token}"})
        ok = resp.status == 200 and resp.body["title"] == sent["title"]
        return None if ok else (answer["id"], sent["title"], resp.status)

    pairs = [p for acked in load.acked for p in acked]
    with ThreadPoolExecutor(4) as pool:
        return [m for m in pool.map(check, pairs) if m]


def run_until_fault(server: servers.ServerProcess, load: Load, sig: int, acked: int) -> None:
    load.start()
    load.wait(acked=acked, timeout=20, min_seconds=0.5)
    server.stop(sig)
    load.join()


def test_kill_9_under_load_loses_no_acknowledged_write(db_url):
    first = servers.start(db_url)
    crew = Crew(db_url, first.url)
    rounds, url = [], first.url
    try:
        for round_no in range(2):  # kill, restart, write more, kill again: recovery must also be durable
            load = crew.load(url, f"kill{round_no}")
            run_until_fault(first, load, signal.SIGKILL, acked=150)
            assert first.process.returncode == -signal.SIGKILL
            assert load.statuses and all(s == 201 for s in load.statuses), load.statuses
            rounds.append(load)
            first = servers.start(db_url)
            url = first.url
            for done in rounds:
                assert missing_entries(url, crew.writers[0].token, done) == []
        print(f"kill -9: 2 faults, {sum(r.requests for r in rounds)} requests, "
              f"{sum(r.total_acked for r in rounds)} acknowledged, 0 lost ({'pg' if '://' in db_url else 'sqlite'})")
        assert "Traceback" not in first.log()
    finally:
        first.stop()


def test_sigterm_under_load_flushes_every_audit_record(db_url):
    first = servers.start(db_url)
    crew = Crew(db_url, first.url)
    load = crew.load(first.url, "term")
    try:
        run_until_fault(first, load, signal.SIGTERM, acked=150)
        assert first.process.returncode == 0, first.log()[-2000:]
        assert "server stopped" in first.log() and "Traceback" not in first.log()
        assert all(s == 201 for s in load.statuses), load.statuses
    finally:
        first.stop()

    second = servers.start(db_url)
    try:
        assert missing_entries(second.url, crew.writers[0].token, load) == []
        owner = Actor(crew.owner.address, crew.owner.token, second.url)
        audited = set()
        for writer in crew.writers:
            after = None
            while True:
                query = f"/v1/audit?member={writer.address}&action=knowledge.publish&limit=200"
                page = owner.client.get(query + (f"&after={after}" if after else ""))
                audited |= {(r["member"], r["resource"]) for r in page["items"] if r["status"] == 201}
                after = page["next"]
                if after is None:
                    break
        expected = {(crew.writers[i].address, f"knowledge:{answer['id']}")
                    for i, acked in enumerate(load.acked) for _, answer in acked}
        assert expected - audited == set(), f"{len(expected - audited)} acknowledged publishes have no audit record"
        print(f"SIGTERM: {load.requests} requests, {load.total_acked} acknowledged, all audited")
    finally:
        second.stop()
