"""Profiles as a person uses them: login says which is current, profile list/use/remove, logout, a rotated
token lands in its profile, agent register --save-profile, and a refusal that names who was refused."""

from __future__ import annotations

import json

from conftest import run_cli

from fleetctl import config


def login(url: str, token: str, profile: str):
    result = run_cli(["login", "--url", url, "--token", token, "--profile", profile])
    assert result.exit_code == 0, result.stderr
    return result


def test_login_says_which_profile_is_current_and_profiles_list_use_remove(make_fleet, server):
    fleet = make_fleet("prof")
    agent = fleet.member("worker")
    first = login(server.url, fleet.owner.token, "boss")
    assert "profile 'boss'" in first.stdout and "is now current" in first.stdout
    second = login(server.url, agent.token, "work")
    assert "profile 'work'" in second.stdout and "now current (was 'boss')" in second.stdout

    listed = run_cli(["profile", "list", "--json"]).json()
    assert listed["current"] == "work" and listed["next"] is None
    assert [(p["name"], p["current"], p["member"]) for p in listed["items"]] == [
        ("boss", False, fleet.owner.address), ("work", True, agent.address)]
    human = run_cli(["profile", "list"])
    assert human.exit_code == 0 and agent.token not in human.stdout and fleet.owner.token not in human.stdout
    assert human.stdout.splitlines()[0] == "CURRENT\tNAME\tURL\tMEMBER"  # DEMO only when the demo's are there
    current_line = next(line for line in human.stdout.splitlines() if "\twork\t" in line)
    assert current_line == f"*\twork\t{server.url}\t{agent.address}"

    used = run_cli(["profile", "use", "boss"])
    assert used.exit_code == 0 and "'boss' is now current" in used.stdout
    assert run_cli(["whoami", "--json"]).json()["member"]["address"] == fleet.owner.address
    missing = run_cli(["profile", "use", "nope"])
    assert missing.exit_code == 4 and "no profile named 'nope'" in missing.stderr
    assert run_cli(["profile", "use"]).exit_code == 2

    removed = run_cli(["profile", "remove", "work", "--json"])
    assert removed.exit_code == 0 and removed.json() == {"ok": True}
    assert run_cli(["profile", "remove", "work"]).exit_code == 4
    out = run_cli(["logout"])  # the current profile, boss
    assert out.exit_code == 0 and "'boss' removed; there is no current profile now" in out.stdout
    assert config.load_profiles() == {"current": None, "profiles": {}}
    assert run_cli(["logout"]).exit_code == 4
    assert "No profiles" in run_cli(["profile", "list"]).stdout


def test_logout_of_a_named_profile_keeps_the_current_one(make_fleet, server):
    fleet = make_fleet("prof")
    login(server.url, fleet.owner.token, "a")
    login(server.url, fleet.owner.token, "b")
    out = run_cli(["logout", "--profile", "a"])
    assert out.exit_code == 0 and "no current profile" not in out.stdout
    assert config.load_profiles()["current"] == "b" and list(config.load_profiles()["profiles"]) == ["b"]


def test_rotating_your_own_token_updates_the_profile_it_came_from(make_fleet, server):
    fleet = make_fleet("prof")
    agent, other = fleet.member("worker"), fleet.member("other")
    login(server.url, agent.token, "work")
    login(server.url, fleet.owner.token, "boss")
    rotated = run_cli(["--profile", "work", "token", "rotate"])
    assert rotated.exit_code == 0 and "Saved profile 'work' now holds the new token" in rotated.stdout
    stored = config.load_profiles()["profiles"]
    assert stored["work"]["token"] != agent.token
    assert run_cli(["--profile", "work", "whoami"]).exit_code == 0  # the profile still works

    # An owner rotating another member's token leaves its own profile alone...
    by_owner = run_cli(["--profile", "boss", "token", "rotate", "worker", "--json"])
    assert by_owner.exit_code == 0 and config.load_profiles()["profiles"]["boss"]["token"] == fleet.owner.token
    # ...and rotating its own by name updates it.
    own = run_cli(["--profile", "boss", "token", "rotate", "owner", "--json"])
    assert config.load_profiles()["profiles"]["boss"]["token"] == own.json()["token"]
    assert run_cli(["--profile", "boss", "whoami"]).exit_code == 0

    # A token from FLEET_TOKEN is in no profile: the output says the old one is dead.
    env_rotated = other.cli("token", "rotate")
    assert env_rotated.exit_code == 0 and "no longer works" in env_rotated.stdout


def test_agent_register_saves_a_profile_or_prints_a_next_step(make_fleet, server):
    fleet = make_fleet("prof")
    login(server.url, fleet.owner.token, "boss")
    saved = run_cli(["agent", "register", "scout", "--domain", "infra", "--save-profile", "scout"])
    assert saved.exit_code == 0 and "Saved as profile 'scout' (not current)" in saved.stdout
    profiles = config.load_profiles()
    assert profiles["current"] == "boss" and profiles["profiles"]["scout"]["url"] == server.url
    who = run_cli(["--profile", "scout", "whoami", "--json"]).json()
    assert who["member"]["address"] == f"{fleet.name}/scout"

    plain = run_cli(["agent", "register", "helper"])
    assert plain.exit_code == 0
    assert f"Next: give it to the agent as FLEET_URL={server.url} FLEET_TOKEN=<token>" in plain.stdout
    assert f"fleetctl login --url {server.url} --profile helper" in plain.stdout
    as_json = run_cli(["agent", "register", "quiet", "--save-profile", "quiet", "--json"])
    assert set(as_json.json()) == {"token", "member"}  # one JSON document, nothing else on stdout
    assert config.load_profiles()["profiles"]["quiet"]["token"] == as_json.json()["token"]
    assert run_cli(["agent", "register", "x", "--save-profile", " "]).exit_code == 2


def test_a_refusal_names_the_acting_member_and_its_role(make_fleet, server):
    fleet = make_fleet("prof")
    alice = fleet.member("alice", role="reviewer")
    refused = alice.cli("agent", "register", "x")
    assert refused.exit_code == 3
    assert refused.stderr.startswith(f"fleetctl: error: {fleet.name}/alice (reviewer) is not allowed: only an owner")
    bob = fleet.member("bob")
    task = fleet.owner.cli("task", "create", "Fix it", "--assign", "alice", "--json").json()
    accept = bob.cli("task", "accept", str(task["id"]))
    assert accept.exit_code == 3 and f"{fleet.name}/bob (agent) is not allowed: " in accept.stderr
    resp = bob.http("POST", "/v1/agents", {"name": "y"})
    assert resp.status == 403 and resp.body["detail"].startswith(f"{fleet.name}/bob (agent) is not allowed: ")


def test_login_with_a_token_of_another_database_says_why(server):
    bad = run_cli(["login", "--url", server.url, "--token", "flt_999999_1_nope", "--profile", "x"])
    assert bad.exit_code == 3 and "was the token made on another database?" in bad.stderr
    assert bad.stderr.count("\n") == 1 and not config.load_profiles()["profiles"]


def test_profile_file_stays_private_and_json(make_fleet, server):
    fleet = make_fleet("prof")
    login(server.url, fleet.owner.token, "boss")
    run_cli(["profile", "use", "boss"])
    data = json.loads(config.profiles_path().read_text())
    assert data["profiles"]["boss"] == {"url": server.url, "token": fleet.owner.token,
                                        "member": fleet.owner.address}
    assert oct(config.profiles_path().stat().st_mode & 0o777) == "0o600"
