"""CLI start-up: a run loads only its command's module, `fleetctl mcp` builds no Typer app, and neither
imports pydantic (Typer's coercion, deferred) nor changes what the commands print."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from fleetctl.cli import fastpath

PROBE = ("import atexit, sys; atexit.register(lambda: print('LOADED', sorted(m for m in sys.modules if m in {names}), "
         "file=sys.stderr)); sys.argv = ['fleetctl', *{args}]; from fleetctl.cli.main import main; main()")
WATCHED = ["typer", "pydantic", "fleetctl.cli.root", "fleetctl.cli.session", "fleetctl.cli.knowledge",
           "fleetctl.cli.tasks", "fleetctl.cli.mcp"]


def _probe(args: list[str], env: dict, stdin: str = "") -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `fleetctl ARGS` in a subprocess; returns its result and which WATCHED modules it loaded."""
    code = PROBE.format(names=set(WATCHED), args=args)
    done = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})
    line = [x for x in done.stderr.splitlines() if x.startswith("LOADED")][-1]
    return done, ast.literal_eval(line.removeprefix("LOADED "))


def test_command_modules_name_what_each_module_registers():
    from fleetctl.cli.main import COMMAND_MODULES, MODULES, app, build

    for module in MODULES:
        alone = build((module,))
        names = [i.name for i in [*alone.registered_commands, *alone.registered_groups]]
        assert names and all(COMMAND_MODULES[n] == module for n in names), (module, names)
    everything = {i.name for i in [*app.registered_commands, *app.registered_groups]}
    assert everything == set(COMMAND_MODULES)


@pytest.mark.parametrize(("argv", "split"), [
    (["whoami"], ({}, ["whoami"])),
    (["--json", "--url", "http://h:1", "--token=t", "knowledge", "list"],
     ({"--json": True, "--url": "http://h:1", "--token": "t"}, ["knowledge", "list"])),
    (["--profile", "whoami", "mcp"], ({"--profile": "whoami"}, ["mcp"])),
    ([], ({}, [])),
    (["--help"], None), (["-h", "whoami"], None), (["--version"], None), (["--bogus", "whoami"], None),
    (["--url"], None), (["--json=1", "whoami"], None), (["--", "whoami"], None),
])
def test_root_options_are_split_from_the_command(argv, split):
    assert fastpath.split_root(argv) == split


def test_whoami_loads_only_its_module_and_no_pydantic(make_fleet):
    fleet = make_fleet()
    done, loaded = _probe(["whoami", "--json"], {"FLEET_URL": fleet.owner.url, "FLEET_TOKEN": fleet.owner.token})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["member"]["address"] == fleet.owner.address
    assert loaded == ["fleetctl.cli.root", "fleetctl.cli.session", "typer"]


def test_a_value_still_goes_through_typer_coercion(make_fleet):
    fleet = make_fleet()
    env = {"FLEET_URL": fleet.owner.url, "FLEET_TOKEN": fleet.owner.token}
    done, loaded = _probe(["knowledge", "list", "--limit", "2", "--json"], env)
    assert done.returncode == 0 and json.loads(done.stdout)["items"] == [], done.stderr
    assert "pydantic" in loaded  # an int option's value: Typer's own coercion
    bad, _ = _probe(["knowledge", "list", "--limit", "two"], env)
    assert bad.returncode == 2 and "fleetctl: error: Invalid value for '--limit'" in bad.stderr


def test_mcp_answers_initialize_without_building_the_app(make_fleet):
    fleet = make_fleet()
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}
    done, loaded = _probe(["--timeout", "5", "mcp"], {"FLEET_URL": fleet.owner.url, "FLEET_TOKEN": fleet.owner.token},
                          stdin=json.dumps(request) + "\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["protocolVersion"] == "2025-06-18"
    assert loaded == []


def test_mcp_settings_errors_are_reported_by_the_usual_boundary():
    empty, loaded = _probe(["mcp"], {"FLEET_TOKEN": "", "FLEET_URL": "http://127.0.0.1:9"})
    assert empty.returncode == 3 and "fleetctl: error: FLEET_TOKEN is set but empty" in empty.stderr
    assert "fleetctl.cli.mcp" in loaded  # it went the normal way
    bad, _ = _probe(["--timeout", "0", "mcp"], {"FLEET_TOKEN": "x"})
    assert bad.returncode == 2 and "--timeout" in bad.stderr
