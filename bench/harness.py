"""A fresh database (SQLite file or a new PostgreSQL database), a real `fleetctl serve` subprocess
on loopback, and the fleet and agents the measurements use."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

AGENTS = 8
UNLIMITED = 1_000_000  # the highest rate limit the API accepts: the benchmark measures the server, not 429s


class FreshDatabase:
    """A database that exists only for one benchmark run: created on enter, removed on exit."""

    def __init__(self, pg_url: str | None, workdir: Path) -> None:
        self.pg_url = pg_url
        self.workdir = workdir
        self.url = ""
        self._pg_name = ""

    @property
    def engine(self) -> str:
        return "postgres" if self.pg_url else "sqlite"

    def __enter__(self) -> FreshDatabase:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.pg_url:
            import psycopg

            self._pg_name = f"fleetctl_bench_{os.getpid()}_{secrets.token_hex(3)}"
            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self._pg_name}"')
            parts = urlsplit(self.pg_url)
            self.url = urlunsplit(parts._replace(path="/" + self._pg_name))
        else:
            self.url = str(self.workdir / "bench.db")
        return self

    def __exit__(self, *exc) -> None:
        from fleetctl import db

        if db.database.obj is not None:
            db.database.close()
        if self.pg_url:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')


@dataclass
class Agent:
    address: str
    token: str


@dataclass
class Setup:
    """The fleet every measurement runs in: an owner, AGENTS agents and a reader (domain `d1`)."""

    fleet: str
    owner: Agent
    agents: list[Agent] = field(default_factory=list)
    reader: Agent | None = None
    spare: Agent | None = None  # a valid token never used before the flood measurement


def bootstrap(db_url: str) -> Setup:
    """Open the database in this process (running migrations) and create the fleet and members
    through the service layer, before the server starts."""
    from fleetctl import db
    from fleetctl.services import members

    db.open_database(db_url)
    fleet, owner, token = members.create_fleet("bench", UNLIMITED)
    setup = Setup(fleet.name, Agent(owner.address, token))

    def register(name: str, domains: list[str]) -> Agent:
        minted = members.register(owner, name, "agent", domains, rate_limit=UNLIMITED)
        return Agent(minted["member"]["address"], minted["token"])

    setup.agents = [register(f"agent-{i}", ["bench"]) for i in range(AGENTS)]
    setup.reader = register("reader", ["d1"])
    setup.spare = register("spare", ["bench"])
    return setup


class Server:
    """`python -m fleetctl serve` on 127.0.0.1 with a free port; its log goes to a file."""

    def __init__(self, db_url: str, workdir: Path, threads: int = 8, env: dict | None = None,
                 wrapper: list[str] | None = None) -> None:
        self.db_url = db_url
        self.workdir = workdir
        self.threads = threads
        self.env = env or {}
        self.wrapper = wrapper or []
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = workdir / f"server-{secrets.token_hex(2)}.log"

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def __enter__(self) -> Server:
        env = {**os.environ, "FLEET_DATA_DIR": str(self.workdir / "data"),
               "FLEET_CONFIG_DIR": str(self.workdir / "config"), **self.env}
        cmd = [*self.wrapper, sys.executable, "-m", "fleetctl", "serve", "--host", "127.0.0.1",
               "--port", "0", "--db", self.db_url, "--threads", str(self.threads)]
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, env=env, text=True)
        deadline = time.time() + 30
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match[1])
                break
            if not line and self.proc.poll() is not None:
                break
        if not self.port:
            self.__exit__()
            raise RuntimeError(f"server did not start: {line!r}; log: {self.log_text()[-2000:]}")
        return self

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def count_in_log(self, needle: str) -> int:
        return self.log_text().count(needle)

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_log", None):
            self._log.close()


def headers(token: str | None, body: bool = False) -> dict:
    """Request headers for a keep-alive JSON call, with the bearer token when given."""
    out = {"Accept": "application/json", "Connection": "keep-alive"}
    if token:
        out["Authorization"] = f"Bearer {token}"
    if body:
        out["Content-Type"] = "application/json"
    return out


def call(port: int, method: str, path: str, token: str | None = None, body=None) -> tuple[int, object]:
    """One request on a fresh connection; returns (status, decoded JSON or None)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    payload = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=payload, headers=headers(token, payload is not None))
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, raw.decode(errors="replace")


def catch_up(port: int, token: str, limit: int = 5000) -> bool:
    """Ack the member's wake until nothing is pending (each wake hands over one page per section)."""
    for _ in range(limit):
        status, data = call(port, "POST", "/v1/wake", token, {"max_chars": 1_000_000})
        if status != 200 or not isinstance(data, dict):
            return False
        if data.get("empty"):
            return True
    return False


def routes(port: int) -> set[str]:
    """'METHOD /path' of every route the server's OpenAPI describes (to skip what is not built yet)."""
    status, spec = call(port, "GET", "/v1/openapi.json")
    if status != 200 or not isinstance(spec, dict):
        return set()
    return {f"{m.upper()} {p}" for p, ops in spec.get("paths", {}).items() for m in ops}


def workdir() -> Path:
    """A temporary directory for the database, logs and the baseline CLI app."""
    return Path(tempfile.mkdtemp(prefix="fleetctl-bench-"))


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Context:
    """Everything a measurement needs: the engine's database and members, run settings, the report."""

    engine: str
    db_url: str
    setup: Setup
    workdir: Path
    duration: float
    quick: bool
    report: object
    pg_url: str | None = None  # the admin URL new PostgreSQL databases are created through
    server_env: dict = field(default_factory=dict)

    def use_database(self) -> None:
        """Point this process's models at this context's database: a measurement before may have left
        them on a database of its own (scale and wake seed theirs in this process)."""
        from fleetctl import db

        if db.database.obj is not None:
            db.database.close()
        db.open_database(self.db_url)

    def server(self, wrapper: list[str] | None = None, env: dict | None = None) -> Server:
        """A fresh server process on this engine's database (fresh in-memory caches and limits)."""
        return Server(self.db_url, self.workdir, env={**self.server_env, **(env or {})}, wrapper=wrapper)
