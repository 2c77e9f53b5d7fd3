"""`fleetctl daemon`: run a command on news, ack only on exit 0, back off, stop cleanly."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import run_cli


def send(sender, to, subject):
    return sender.client.post("/v1/messages", {"recipients": [to], "subject": subject})


def quiet_member(fleet, name):
    """A member whose cursor is already past everything older tests did."""
    actor = fleet.member(name)
    actor.client.post("/v1/wake")
    return actor


def test_failed_command_is_not_acked_and_success_is(make_fleet, tmp_path):
    fleet = make_fleet()
    scout = quiet_member(fleet, "scout")
    msg = send(fleet.owner, "scout", "incident review at 3")
    failed = scout.cli("daemon", "--once", "--exec", "cat > /dev/null; exit 3")
    assert failed.exit_code == 1, failed.stderr
    assert failed.stderr.count("\n") == 1 and "exited 3; not acked" in failed.stderr
    news = scout.client.get("/v1/wake")
    assert [m["id"] for m in news["sections"]["messages"]] == [msg["id"]]  # same news next round
    assert scout.client.get(f"/v1/messages/{msg['id']}")["delivered_at"] is None

    script = (f'cat > {tmp_path}/stdin.txt; printf %s "$FLEET_WAKE_PROMPT" > {tmp_path}/env.txt; '
              f'cp "$FLEET_WAKE_FILE" {tmp_path}/file.txt; echo "$FLEET_WAKE_FILE" > {tmp_path}/path.txt')
    ok = scout.cli("daemon", "--once", "--exec", script)
    assert ok.exit_code == 0, ok.stderr
    assert ok.stderr.count("\n") == 1 and f"{scout.address}: 1 new" in ok.stderr and "acked" in ok.stderr
    prompt = (tmp_path / "stdin.txt").read_text()
    assert "incident review at 3" in prompt and prompt.rstrip("\n") == news["prompt"]
    assert (tmp_path / "env.txt").read_text() == prompt == (tmp_path / "file.txt").read_text()
    assert not os.path.exists((tmp_path / "path.txt").read_text().strip())  # temp file removed after
    assert scout.client.get("/v1/wake")["empty"] is True
    assert scout.client.get(f"/v1/messages/{msg['id']}")["delivered_at"] is not None


def test_nothing_new_runs_nothing(make_fleet, tmp_path):
    scout = quiet_member(make_fleet(), "scout")
    result = scout.cli("daemon", "--once", "--exec", f"touch {tmp_path}/ran")
    assert result.exit_code == 0 and "nothing new" in result.stderr
    assert not (tmp_path / "ran").exists()


@pytest.mark.slow
def test_profiles_each_run_as_their_member(make_fleet, server, tmp_path):
    fleet = make_fleet()
    one, two = quiet_member(fleet, "one"), quiet_member(fleet, "two")
    for actor, profile in ((one, "p1"), (two, "p2")):
        assert run_cli(["login", "--url", server.url, "--token", actor.token, "--profile", profile]).exit_code == 0
        send(fleet.owner, actor.name, f"for {actor.name}")
    fleetctl = f"{sys.executable} -m fleetctl"
    script = f"{fleetctl} whoami --json >> {tmp_path}/who.jsonl"
    result = run_cli(["daemon", "--once", "--profile", "p1", "--profile", "p2", "--exec", script])
    assert result.exit_code == 0, result.stderr
    who = (tmp_path / "who.jsonl").read_text()
    assert who.count(one.address) == 1 and who.count(two.address) == 1
    assert one.client.get("/v1/wake")["empty"] and two.client.get("/v1/wake")["empty"]
    missing = run_cli(["daemon", "--once", "--profile", "nope", "--exec", "true"])
    assert missing.exit_code == 1 and "no profile named 'nope'" in missing.stderr


@pytest.mark.slow
def test_unreachable_server_and_backoff(tmp_path):
    from fleetctl.client import Client
    from fleetctl.daemon import Daemon, Target

    result = run_cli(["daemon", "--once", "--exec", "true"], {"FLEET_URL": "http://127.0.0.1:9",
                                                              "FLEET_TOKEN": "flt_1_1_x"})
    assert result.exit_code == 7 and "cannot wake" in result.stderr and "Traceback" not in result.stderr
    target = Target("dead", Client("http://127.0.0.1:9", "flt_1_1_x", timeout=2))
    daemon = Daemon([target], "true", interval=10, log=io.StringIO())
    delays = []
    for _ in range(7):
        before = time.monotonic()
        daemon.round(force=True)
        delays.append(round(target.next_at - before))
    assert delays == [1, 2, 4, 8, 16, 30, 30]  # a server that went away: retried soon, capped
    assert daemon.log.getvalue().count("\n") == 7 and "retry in 30s" in daemon.log.getvalue()
    refused = Target("refused", Client("http://127.0.0.1:9", "flt_1_1_x"))
    backoffs = [round(daemon.backoff(refused)) for _ in range(8)]  # a failed command or a refusal
    assert backoffs[:4] == [10, 20, 40, 80] and backoffs[-1] == 900  # backs off from --interval, capped


def _start_daemon(actor, tmp_path):
    env = {**os.environ, "FLEET_URL": actor.url, "FLEET_TOKEN": actor.token}
    proc = subprocess.Popen([sys.executable, "-m", "fleetctl", "daemon", "--interval", "60", "--exec",
                             f"cat > /dev/null; touch {tmp_path}/ran"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (tmp_path / "ran").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # let the daemon ack and go back to waiting
    return proc


@pytest.mark.slow
def test_ctrl_c_and_sigterm_stop_cleanly(make_fleet, tmp_path):
    fleet = make_fleet()
    scout = quiet_member(fleet, "scout")
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
        (tmp_path / "ran").unlink(missing_ok=True)
        send(fleet.owner, "scout", f"wake up for {sig.name}")
        proc = _start_daemon(scout, tmp_path)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == code, err
        assert "Traceback" not in err and "stopping" in err.splitlines()[-1]
        assert "1 new" in err and "acked" in err


def test_empty_exec_is_refused(make_fleet):
    scout = quiet_member(make_fleet(), "scout")
    for command in ("", "   "):
        result = scout.cli("daemon", "--once", "--exec", command)
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--exec" in result.stderr


@pytest.mark.slow
def test_json_keeps_stdout_one_document(make_fleet):
    fleet = make_fleet()
    scout = quiet_member(fleet, "scout")
    send(fleet.owner, "scout", "json please")
    env = {**os.environ, "FLEET_URL": scout.url, "FLEET_TOKEN": scout.token}
    proc = subprocess.run([sys.executable, "-m", "fleetctl", "daemon", "--once", "--exec",
                           "cat > /dev/null; echo from-the-command", "--json"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"ok": True}  # the command's output went to stderr
    assert "from-the-command" in proc.stderr and "1 new" in proc.stderr
    assert scout.client.get("/v1/wake")["empty"] is True


@pytest.mark.slow
def test_hook_inside_a_failed_daemon_run_does_not_hand_the_news_over(make_fleet, tmp_path):
    """The issue's scenario: the session-start hook runs inside the daemon's command with its credentials;
    it only peeks (FLEET_WAKE_CURSOR), so when the command fails the next round gets the same news."""
    fleet = make_fleet()
    scout = quiet_member(fleet, "scout")
    msg = send(fleet.owner, "scout", "survives a crash")
    hook = f"{sys.executable} -m fleetctl wake --hook"
    command = f'cat > /dev/null; echo "$FLEET_WAKE_CURSOR" > {tmp_path}/cursor; {hook} > {tmp_path}/hook; exit 1'
    failed = scout.cli("daemon", "--once", "--exec", command)
    assert failed.exit_code == 1 and "not acked" in failed.stderr
    assert "survives a crash" in (tmp_path / "hook").read_text()
    news = scout.client.get("/v1/wake")
    assert (tmp_path / "cursor").read_text().strip() == news["cursor"]
    assert [m["id"] for m in news["sections"]["messages"]] == [msg["id"]]
    ok = scout.cli("daemon", "--once", "--exec", f"cat > /dev/null; {hook} > {tmp_path}/hook")
    assert ok.exit_code == 0 and "acked" in ok.stderr
    assert scout.client.get("/v1/wake")["empty"] is True
