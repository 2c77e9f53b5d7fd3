"""Real `fleetctl serve` subprocesses on free ports, for tests that need several servers or a kill -9.

    from servers import start     # tests/ is on sys.path under pytest
    a = start(db_url, {"FLEET_AUTH_CACHE_TTL": "2"})
    ... a.url, a.pid ...
    a.stop()                      # SIGTERM, waits; a.stop(signal.SIGKILL) for a crash

Each server listens on 127.0.0.1 with --port 0 (the kernel picks a free port; the server prints
the one it got), writes its output to a log file (`server.log()` reads it, for failure messages),
and runs with cheap bcrypt unless the caller's env says otherwise. `local(db_url, *args)` runs a
local command (`fleet create`, `db upgrade`) in a subprocess against the same database, without
touching this process's database connection.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

READY = re.compile(r"fleetctl serving on (http://[0-9.]+:\d+)")


def _env(extra: dict | None) -> dict:
    env = {**os.environ, "FLEET_BCRYPT_ROUNDS": os.environ.get("FLEET_BCRYPT_ROUNDS", "4"), "NO_COLOR": "1"}
    env.pop("FLEET_DB", None)  # only an explicit env or --db names the database
    env.update(extra or {})
    return env


@dataclass
class ServerProcess:
    """One running `fleetctl serve`: its base URL, pid and log file."""

    url: str
    pid: int
    process: subprocess.Popen = field(repr=False)
    log_path: str

    def log(self) -> str:
        """Everything the server printed so far."""
        with open(self.log_path, errors="replace") as fh:
            return fh.read()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send `sig` (SIGTERM by default, SIGKILL for a crash), wait, and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _db_args(db_url: str | None) -> list[str]:
    return ["--db", db_url] if db_url else []  # None: the database comes from FLEET_DB in env


def spawn(db_url: str | None, env: dict | None = None, threads: int = 8, args: tuple = ()) -> subprocess.Popen:
    """Launch `fleetctl serve` without waiting for it (see `wait_ready`); output goes to a log file."""
    fd, log_path = tempfile.mkstemp(prefix="fleetctl-serve-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fleetctl", "serve", "--host", "127.0.0.1", "--port", "0",
             "--threads", str(threads), *_db_args(db_url), *args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_env(env))
    process.log_path = log_path
    return process


def wait_ready(process: subprocess.Popen, timeout: float = 30.0) -> ServerProcess:
    """Wait until the spawned server prints its URL and answers /healthz."""
    deadline = time.monotonic() + timeout
    server = None
    while time.monotonic() < deadline:
        with open(process.log_path, errors="replace") as fh:
            text = fh.read()
        if process.poll() is not None:
            raise RuntimeError(f"fleetctl serve exited with {process.returncode}:\n{text}")
        match = READY.search(text)
        if match and server is None:
            server = ServerProcess(match[1], process.pid, process, process.log_path)
        if server is not None:
            try:
                with urllib.request.urlopen(server.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return server
            except OSError:
                pass
        time.sleep(0.05)
    process.kill()
    with open(process.log_path, errors="replace") as fh:
        raise RuntimeError(f"fleetctl serve not ready after {timeout}s:\n{fh.read()}")


def start(db_url: str | None, env: dict | None = None, threads: int = 8, timeout: float = 30.0,
          args: tuple = ()) -> ServerProcess:
    """Start `fleetctl serve [args]` on `db_url` on a free port and return once it answers."""
    return wait_ready(spawn(db_url, env, threads, args), timeout)


def local(db_url: str | None, *args: str, env: dict | None = None) -> dict:
    """Run a local command (`fleet create NAME`, `db upgrade`) with --db and --json; returns its JSON."""
    result = subprocess.run([sys.executable, "-m", "fleetctl", *args, *_db_args(db_url), "--json"],
                            capture_output=True, text=True, env=_env(env), timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"fleetctl {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return json.loads(result.stdout)
