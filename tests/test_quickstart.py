"""`fleetctl quickstart` end to end: a real detached demo server, the three stories, a rerun, --stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import run_cli

from fleetctl import config

pytestmark = pytest.mark.slow
CROSS_FLEET_READERS = ("labs-builder", "acme-ops", "acme-analyst", "labs-infra")


def fleetctl(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m fleetctl ARGS` in a subprocess (with the test's FLEET_CONFIG_DIR / FLEET_DATA_DIR)."""
    return subprocess.run([sys.executable, "-m", "fleetctl", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def as_profile(profile: str, *args: str) -> dict:
    """`fleetctl --profile P ARGS --json` in-process: the saved profile alone says where and who."""
    out = run_cli(["--profile", profile, *args, "--json"])
    assert out.exit_code == 0, out.stderr
    return out.json()


def gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def demo():
    """Paths of the demo's files; whatever happens, the demo server is stopped afterwards."""
    data = config.data_dir()
    yield {"state": data / "demo-server.json", "log": data / "demo-server.log", "db": data / "demo.db"}
    try:
        pid = json.loads((data / "demo-server.json").read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return
    fleetctl("quickstart", "--stop")
    if not gone(pid, 5):
        os.kill(pid, signal.SIGKILL)


def test_quickstart_plays_the_stories_reruns_and_stops(demo):
    config.save_profile("mine", "http://example.invalid:8700", "flt_1_1_x")  # the user's own, current profile

    first = fleetctl("quickstart", "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    server = summary["server"]
    assert server["reused"] is False and server["url"].startswith("http://127.0.0.1:")
    state = json.loads(demo["state"].read_text())
    assert (state["pid"], state["url"]) == (server["pid"], server["url"])
    assert os.getsid(state["pid"]) == state["pid"] != os.getsid(0)  # detached: its own session
    assert "fleetctl serving on" in demo["log"].read_text() and demo["db"].exists()
    profiles = config.load_profiles()
    assert profiles["current"] == "mine"  # the quickstart never takes over the user's profile
    assert {"acme-owner", "acme-ops", "labs-builder", "labs-lead"} <= set(profiles["profiles"])
    assert all(profiles["profiles"][p]["url"] == server["url"] for p in summary["profiles"])

    # Story 1: the ops agent's gotcha was in the infra agent's wake (of the other fleet).
    gotcha = summary["stories"]["gotcha"]
    woken = summary["stories"]["gotcha"]["wakes"]["labs-infra"]["knowledge"]
    assert [(k["id"], k["kind"], k["author"]) for k in woken] == [(gotcha["entry"], "gotcha", "acme/ops")]
    entry = as_profile("labs-infra", "knowledge", "show", str(gotcha["entry"]))
    assert entry["visibility"] == "cross-fleet" and set(entry["domains"]) == {"infra", "deploy"}

    # Story 2: routed to the builder, outside research from acme, the brief approved by a human.
    story = summary["stories"]["research"]
    task = as_profile("labs-owner", "task", "show", str(story["task"]))
    assert (task["state"], task["assignee"], task["visibility"]) == ("done", "labs/builder", "cross-fleet")
    assert [h["action"] for h in task["history"]][:2] == ["create", "route"]
    assert set(task["research"]) == {story["outside_research"], story["brief"]}
    outside = as_profile("labs-builder", "research", "show", str(story["outside_research"]))
    assert outside["author"] == "acme/analyst" and outside["task"] == story["task"]
    brief = as_profile("labs-lead", "research", "show", str(story["brief"]))
    assert brief["state"] == "approved"
    assert [(v["reviewer"], v["verdict"]) for v in brief["reviews"]] == [("labs/lead", "approve")]

    # Story 3: the breaking entry reached every cross-fleet agent's wake, and nobody else's feed.
    breaking = summary["stories"]["breaking"]
    assert set(breaking["wakes"]) == set(CROSS_FLEET_READERS)
    for profile in CROSS_FLEET_READERS:
        assert breaking["entry"] in [b["id"] for b in breaking["wakes"][profile]["breaking"]], profile
        feed = as_profile(profile, "knowledge", "list", "--kind", "breaking")
        assert breaking["entry"] in [e["id"] for e in feed["items"]], profile
    refused = run_cli(["--profile", "labs-lead", "knowledge", "show", str(breaking["entry"])])
    assert refused.exit_code == 4  # labs/lead is not a cross-fleet member: as if it did not exist

    # Run again, in human mode, with ambient credentials of another server: same server, same fleets.
    again = fleetctl("quickstart", env={"FLEET_URL": "http://127.0.0.1:9", "FLEET_TOKEN": "flt_9_9_nope"})
    assert again.returncode == 0, again.stderr
    assert f"reusing {server['url']} (pid {server['pid']}" in again.stdout
    assert "fleet acme exists already" in again.stdout
    assert "$ fleetctl --profile acme-ops knowledge publish --kind gotcha" in again.stdout
    assert again.stdout.count("-> breaking #") == len(CROSS_FLEET_READERS) and "is NOT" not in again.stdout
    assert "FLEET_URL is set in your shell" in again.stdout and "fleetctl quickstart --stop" in again.stdout
    assert "\x1b[" not in again.stdout  # not a TTY: plain text
    assert json.loads(demo["state"].read_text())["pid"] == server["pid"]
    assert config.load_profiles()["current"] == "mine"

    listed = run_cli(["profile", "list", "--json"]).json()["items"]
    assert {p["name"] for p in listed if p["demo"]} == set(summary["profiles"])
    assert [p["name"] for p in listed if not p["demo"]] == ["mine"]

    # The user switches to a demo profile; stopping the demo server must not leave it current (dead port).
    assert run_cli(["profile", "use", "acme-ops"]).exit_code == 0
    stopped = fleetctl("quickstart", "--stop")
    assert stopped.returncode == 0 and f"pid {server['pid']}" in stopped.stdout
    assert "'acme-ops' pointed at the demo server and is no longer current" in stopped.stdout
    assert gone(server["pid"]) and not demo["state"].exists()
    assert config.load_profiles()["current"] is None
    again = fleetctl("quickstart", "--stop", "--clean", "--json")
    assert again.returncode == 0
    cleaned = json.loads(again.stdout)
    assert cleaned["stopped"] is False and set(cleaned["removed_profiles"]) == set(summary["profiles"])
    assert list(config.load_profiles()["profiles"]) == ["mine"] and not demo["db"].exists()
    assert str(demo["db"]) in cleaned["removed_files"]


def test_a_dead_server_in_the_state_file_is_replaced_and_profiles_follow(demo):
    # Fleets made earlier by hand on the demo database: acme's owner token is in a profile pointing at an
    # old port, labs' owner token is lost; the state file names a server that died (a reboot, say).
    made = {}
    for fleet in ("acme", "labs"):
        out = fleetctl("fleet", "create", fleet, "--db", str(demo["db"]), "--json")
        assert out.returncode == 0, out.stderr
        made[fleet] = json.loads(out.stdout)["token"]
    config.save_profile("acme-owner", "http://127.0.0.1:9", made["acme"], make_current=False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    demo["state"].write_text(json.dumps({"pid": int(dead.stdout), "port": 9, "url": "http://127.0.0.1:9",
                                         "db": str(demo["db"]), "log": str(demo["log"])}))

    out = fleetctl("quickstart", "--json")
    assert out.returncode == 0, out.stderr
    server = json.loads(out.stdout)["server"]
    assert server["reused"] is False and server["url"] != "http://127.0.0.1:9"
    stored = config.load_profiles()["profiles"]
    assert stored["acme-owner"] == {"url": server["url"], "token": made["acme"], "member": "acme/owner",
                                    "demo": True}  # followed, token kept
    assert config.load_profiles()["current"] is None  # no demo profile became current on its own
    assert stored["labs-owner"]["token"] != made["labs"]  # a new owner token minted on the database
    assert as_profile("labs-owner", "whoami")["member"]["address"] == "labs/owner"
    assert as_profile("labs-builder", "whoami")["member"]["domains"] == ["payments", "api", "backend"]
