"""Foundation through the CLI: local bootstrap, login/profiles, agents, exit codes, --json."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from conftest import run_cli, run_local


@pytest.mark.slow
def test_fleet_create_is_local_and_prints_token_once(tmp_path):
    db = str(tmp_path / "f.db")
    result = run_local("fleet", "create", "acme", "--db", db, "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["token"].startswith(f"flt_{data['fleet']['id']}_") and data["member"]["role"] == "owner"
    again = run_local("fleet", "create", "acme", "--db", db)
    assert again.exit_code == 5 and again.stderr.startswith("fleetctl: error:")
    bad = run_local("fleet", "create", "Not_A_Slug", "--db", db)
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr


def test_login_saves_profile_0600_and_whoami(make_fleet, server):
    fleet = make_fleet()
    result = run_cli(["login", "--url", server.url, "--token", fleet.owner.token, "--profile", "work"])
    assert result.exit_code == 0, result.stderr
    path = os.path.join(os.environ["FLEET_CONFIG_DIR"], "profiles.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    who = run_cli(["--profile", "work", "whoami", "--json"])
    assert who.exit_code == 0 and who.json()["member"]["address"] == fleet.owner.address
    assert run_cli(["whoami", "--json"]).json()["fleet"]["name"] == fleet.name  # current profile
    missing = run_cli(["--profile", "nope", "whoami"])
    assert missing.exit_code == 1 and "nope" in missing.stderr


def test_exit_codes(make_fleet, server):
    fleet = make_fleet()
    agent = fleet.member("worker")
    assert agent.cli("agent", "register", "x").exit_code == 3
    assert fleet.owner.cli("agent", "show", "ghost").exit_code == 4
    assert fleet.owner.cli("agent", "register", "worker").exit_code == 5
    assert run_cli(["whoami"], {"FLEET_URL": server.url, "FLEET_TOKEN": "flt_1_1_garbage"}).exit_code == 3
    unreachable = run_cli(["whoami"], {"FLEET_URL": "http://127.0.0.1:9", "FLEET_TOKEN": agent.token})
    assert unreachable.exit_code == 7 and unreachable.stderr.count("\n") == 1
    for bad_url in ("http://127.0.0.1:99999", "http://[::1", "http://host:port"):  # no "unexpected ValueError"
        bad = run_cli(["whoami"], {"FLEET_URL": bad_url, "FLEET_TOKEN": agent.token})
        assert bad.exit_code == 1 and bad.stderr.startswith("fleetctl: error: invalid server URL"), bad.stderr
    assert fleet.owner.cli("agent", "register").exit_code == 2


def test_agent_lifecycle_json(make_fleet):
    fleet = make_fleet()
    owner = fleet.owner
    reg = owner.cli("agent", "register", "scout", "--domain", "infra", "--domain", "deploy", "--cross-fleet",
                    "--allow-fleet", "future-fleet", "--json")
    assert reg.exit_code == 0, reg.stderr
    member = reg.json()["member"]
    assert member["domains"] == ["infra", "deploy"] and member["allow_fleets"] == ["future-fleet"]
    upd = owner.cli("agent", "update", "scout", "--no-cross-fleet", "--json").json()
    assert upd["cross_fleet"] is False and upd["domains"] == ["infra", "deploy"]
    upd = owner.cli("agent", "update", "scout", "--domain", "payments", "--json").json()
    assert upd["domains"] == ["payments"]
    listed = owner.cli("agent", "list", "--json").json()
    assert {m["name"] for m in listed["items"]} == {"owner", "scout"} and listed["next"] is None
    assert owner.cli("agent", "show", f"{fleet.name}/scout", "--json").json()["name"] == "scout"
    empty = owner.cli("agent", "show", "")
    assert empty.exit_code == 2 and empty.stdout == ""
    rev = owner.cli("agent", "revoke", f"{fleet.name}/scout", "--json").json()
    assert rev["revoked_at"] is not None
    token = reg.json()["token"]
    assert fleet.owner.cli("whoami", env={"FLEET_TOKEN": token}).exit_code == 3


def test_token_rotate_own_and_owner(make_fleet):
    fleet = make_fleet()
    agent = fleet.member("worker")
    mine = agent.cli("token", "rotate", "--json")
    assert mine.exit_code == 0 and mine.json()["member"]["address"] == agent.address
    assert agent.cli("whoami").exit_code == 3
    by_owner = fleet.owner.cli("token", "rotate", "worker", "--json").json()["token"]
    assert agent.cli("whoami", env={"FLEET_TOKEN": by_owner}).exit_code == 0


def test_fleet_output_env_makes_json_default(make_fleet):
    fleet = make_fleet()
    result = fleet.owner.cli("whoami", env={"FLEET_OUTPUT": "json"})
    assert json.loads(result.stdout)["member"]["role"] == "owner"


def test_client_commands_do_not_import_the_server_stack():
    code = ("import sys; from fleetctl.cli.main import app; import fleetctl.client; "
            "heavy = [m for m in ('flask', 'peewee', 'waitress', 'bcrypt', 'werkzeug', 'httpx', 'mcp') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_usage_errors_are_one_line_with_a_pointer_to_help():
    for args, words in ((["knowledge", "search"], "Missing argument"), (["--bogus"], "No such option: --bogus"),
                        (["wake", "--max-chars", "5"], "--max-chars"), (["msg", "read", "abc"], "Invalid value"),
                        (["knowledge", "nope"], "No such command 'nope'")):
        result = run_cli(args)
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("fleetctl: error: "), result.stderr
        assert words in result.stderr and "--help')" in result.stderr and "Usage:" not in result.stderr
    group = run_cli(["knowledge"])  # a group without a command still shows its help
    assert group.exit_code == 2 and "Commands" in group.stdout + group.stderr



@pytest.mark.slow
def test_local_commands_fail_in_one_clear_line(tmp_path):
    local = run_local
    missing = str(tmp_path / "missing.db")
    for args in (["db", "info", "--db", missing], ["db", "backup", str(tmp_path / "b.db"), "--db", missing]):
        result = local(*args)
        assert result.exit_code == 4 and "no database at" in result.stderr, result.stderr
    assert not os.path.exists(missing)  # reading info creates nothing
    db = str(tmp_path / "f.db")
    assert local("db", "upgrade", "--db", db).exit_code == 0
    nowhere = local("db", "backup", str(tmp_path / "no" / "dir" / "b.db"), "--db", db)
    assert nowhere.exit_code == 1 and "cannot write a backup" in nowhere.stderr
    assert nowhere.stderr.count("\n") == 1 and "unexpected" not in nowhere.stderr
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        served = local("serve", "--port", str(busy.getsockname()[1]), "--db", db)
    assert served.exit_code == 1 and "cannot listen on" in served.stderr, served.stderr
    assert "unexpected" not in served.stderr and "Traceback" not in served.stderr
