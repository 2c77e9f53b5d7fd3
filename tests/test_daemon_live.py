"""`fleetctl daemon` live: it waits on the server, runs commands of several members at once, acks only
on exit 0, never acks what it stopped, and survives its server going away and coming back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import servers
from conftest import Actor, run_cli

FLEETCTL = [sys.executable, "-m", "fleetctl"]
# Touches LOG.started, then appends "<member> <start time> <end time>" to LOG; a prompt that mentions
# "fail" exits 3.
SCRIPT = ('start=$(date +%s.%N); touch {log}.started; cat > /dev/null; sleep {sleep}; '
          'who=$(printf %s "$FLEET_WAKE_PROMPT" | head -1 | cut -d" " -f5 | tr -d :); '
          'echo "$who $start $(date +%s.%N)" >> {log}; '
          'case "$FLEET_WAKE_PROMPT" in *fail*) exit 3;; esac')


def quiet(fleet, name):
    actor = fleet.member(name)
    actor.client.post("/v1/wake")
    return actor


def runs(log):
    """{member address: [(start, end), ...]} from the command's log."""
    out: dict = {}
    if log.exists():
        for line in log.read_text().splitlines():
            who, start, end = line.split()
            out.setdefault(who, []).append((float(start), float(end)))
    return out


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def daemon(args, env=None):
    return subprocess.Popen([*FLEETCTL, "daemon", *args], env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, err


@pytest.mark.slow
def test_two_profiles_are_waited_on_at_once_commands_run_concurrently_and_ack_only_on_exit_0(
        make_fleet, server, tmp_path):
    fleet = make_fleet()
    one, two = quiet(fleet, "one"), quiet(fleet, "two")
    for actor, profile in ((one, "p1"), (two, "p2")):
        assert run_cli(["login", "--url", server.url, "--token", actor.token, "--profile", profile]).exit_code == 0
    log = tmp_path / "runs.log"
    proc = daemon(["--profile", "p1", "--profile", "p2", "--interval", "30", "--parallel", "2",
                   "--exec", SCRIPT.format(sleep=1.5, log=log)])
    try:
        time.sleep(2.0)  # both members' waits are held by the server
        written = time.time()
        fleet.owner.client.post("/v1/messages", {"recipients": ["one"], "subject": "all good"})
        fleet.owner.client.post("/v1/messages", {"recipients": ["two"], "subject": "this will fail"})
        wait_for(lambda: len(runs(log)) == 2, 15, "both commands")
        done = runs(log)
        (start1, end1), (start2, end2) = done[one.address][0], done[two.address][0]
        assert max(start1, start2) - written < 1.0, "a command started more than a second after the write"
        assert start2 < end1 and start1 < end2, "the two members' commands did not run at the same time"
        wait_for(lambda: one.client.get("/v1/wake")["empty"], 10, "the ack of the command that exited 0")
        time.sleep(0.5)
        assert two.client.get("/v1/wake")["empty"] is False  # exit 3: not acked, comes again
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err, err
    assert f"{one.address} (profile p1): 1 new" in err and "command exited 0; acked" in err
    assert f"{two.address} (profile p2): 1 new" in err and "command exited 3; not acked" in err
    assert err.splitlines()[-1].endswith("terminated; stopping")


@pytest.mark.slow
def test_a_command_stopped_with_the_daemon_is_not_acked(make_fleet, tmp_path):
    fleet = make_fleet()
    scout = quiet(fleet, "scout")
    proc = daemon(["--exec", f"cat > /dev/null; touch {tmp_path}/started; sleep 30"],
                  {"FLEET_URL": scout.url, "FLEET_TOKEN": scout.token})
    fleet.owner.client.post("/v1/messages", {"recipients": ["scout"], "subject": "long job"})
    wait_for(lambda: (tmp_path / "started").exists(), 15, "the command")
    started = time.monotonic()
    code, err = stop(proc)
    assert code == 0 and time.monotonic() - started < 8
    assert "acked" not in err and err.splitlines()[-1].endswith("terminated; stopping")
    assert scout.client.get("/v1/wake")["empty"] is False  # the news comes again next time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_daemon_survives_a_server_restart_and_never_acks_what_it_could_not(tmp_path):
    db = str(tmp_path / "restart.db")
    port = free_port()
    args = ("--port", str(port))
    made = servers.local(db, "fleet", "create", "restart")
    first = servers.start(db, threads=2, args=args)
    owner = Actor(made["member"]["address"], made["token"], first.url)
    resp = owner.http("POST", "/v1/agents", {"name": "scout"})
    scout = Actor(resp.body["member"]["address"], resp.body["token"], first.url)
    scout.http("POST", "/v1/wake")
    log = tmp_path / "runs.log"
    proc = daemon(["--interval", "20", "--exec", SCRIPT.format(sleep=2.0, log=log)],
                  {"FLEET_URL": first.url, "FLEET_TOKEN": scout.token})
    second = None
    try:
        time.sleep(1.5)
        owner.client.post("/v1/messages", {"recipients": ["scout"], "subject": "before the restart"})
        wait_for(lambda: (tmp_path / "runs.log.started").exists(), 10, "the first command")
        first.stop()  # while the command runs: its ack finds no server
        wait_for(lambda: log.exists(), 10, "the first command to finish")
        time.sleep(1.0)
        second = servers.start(db, threads=2, args=args)
        assert second.url == first.url
        wait_for(lambda: len(runs(log).get(scout.address, [])) >= 2, 30,
                 "the same news again after the restart (its ack had failed)")
        wait_for(lambda: scout.client.get("/v1/wake")["empty"], 10, "the ack after the restart")
        written = time.time()
        owner.client.post("/v1/messages", {"recipients": ["scout"], "subject": "after the restart"})
        wait_for(lambda: len(runs(log)[scout.address]) >= 3, 10, "a command for news after the restart")
        assert runs(log)[scout.address][-1][0] - written < 1.0  # live again: within a second
        wait_for(lambda: scout.client.get("/v1/wake")["empty"], 10, "the ack of the news after the restart")
        time.sleep(0.5)  # the daemon logs its line right after the ack answered
    finally:
        code, err = stop(proc)
        if second is not None:
            second.stop()
    assert code == 0 and "Traceback" not in err, err
    assert "cannot wake" in err or "ack failed" in err
    assert err.count("command exited 0; acked") >= 2
