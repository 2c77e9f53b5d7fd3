"""CLI start-up: `fleetctl --version` and `fleetctl whoami` against a minimal Typer app that prints
JSON (written here, timed in the same run; targets: within 1.5x and 1.15x of the baseline), and
`fleetctl mcp` from spawn to its answer to `initialize` on stdout (target: under 0.6 s)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import harness

BASELINE_APP = '''\
import json

import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    print(json.dumps({"hello": name}))


if __name__ == "__main__":
    app()
'''


def fleetctl_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m fleetctl`."""
    script = Path(sys.executable).parent / "fleetctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "fleetctl"]


def wall_times(cmd: list[str], runs: int, env: dict) -> list[float]:
    """Wall time of `runs` runs of `cmd` (each must exit 0)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return times


TARGETS = {"fleetctl --version": 1.5, "fleetctl whoami": 1.15}  # x the baseline Typer app
MCP_TARGET_MS = 600.0
INITIALIZE = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}) + "\n"


def initialize_time(cmd: list[str], env: dict) -> float:
    """Wall time from spawning the MCP server `cmd` to its answer to `initialize` on stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(INITIALIZE.encode())
    proc.stdin.flush()
    answer = proc.stdout.readline()
    seconds = time.perf_counter() - t0
    _, err = proc.communicate(timeout=30)  # closes stdin: the server ends
    if b'"protocolVersion"' not in answer:
        raise RuntimeError(f"{' '.join(cmd)} answered {answer[:200]!r}: {err.decode()[-500:]}")
    return seconds


def measure(ctx: harness.Context) -> None:
    """Median of N runs each, interleaved so a noisy moment hits every command alike."""
    runs = 5 if ctx.quick else 20
    baseline = ctx.workdir / "baseline_app.py"
    baseline.write_text(BASELINE_APP)
    workdir = ctx.workdir / "cli"
    with harness.FreshDatabase(None, workdir) as fresh:
        setup = harness.bootstrap(fresh.url)
        with harness.Server(fresh.url, workdir) as srv:
            env = {**os.environ, "FLEET_URL": f"http://127.0.0.1:{srv.port}", "FLEET_TOKEN": setup.owner.token,
                   "FLEET_CONFIG_DIR": str(workdir / "config")}
            commands = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "baseline typer app": [sys.executable, str(baseline)],
                "fleetctl --version": [*fleetctl_command(), "--version"],
                "fleetctl whoami": [*fleetctl_command(), "whoami", "--json"],
            }
            mcp = [*fleetctl_command(), "mcp"]
            for cmd in commands.values():  # warm the OS file cache and the server's auth cache
                wall_times(cmd, 1, env)
            initialize_time(mcp, env)
            samples: dict[str, list[float]] = {name: [] for name in [*commands, "fleetctl mcp initialize"]}
            for _ in range(runs):
                for name, cmd in commands.items():
                    samples[name] += wall_times(cmd, 1, env)
                samples["fleetctl mcp initialize"].append(initialize_time(mcp, env))
    medians = {name: statistics.median(t) * 1000 for name, t in samples.items()}
    for name, times in samples.items():
        ctx.report.add("-", f"cli: {name}", {"runs": runs, "median_ms": round(medians[name], 1),
                                              "min_ms": round(min(times) * 1000, 1),
                                              "max_ms": round(max(times) * 1000, 1)})
    base = medians["baseline typer app"]
    for name, target in TARGETS.items():
        ratio = medians[name] / base
        ctx.report.check("-", f"cli start: {name}", f"{medians[name]:.0f} ms = {ratio:.2f}x",
                         f"<= {target}x baseline {base:.0f} ms", ratio <= target)
    mcp_ms = medians["fleetctl mcp initialize"]
    ctx.report.check("-", "mcp start: initialize answered", f"{mcp_ms:.0f} ms", f"< {MCP_TARGET_MS:.0f} ms",
                     mcp_ms < MCP_TARGET_MS, f"python -c pass {medians['python -c pass']:.0f} ms")
