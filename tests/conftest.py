"""Fixtures: a real waitress server per engine (SQLite file, PostgreSQL database), fleets, actors, the CLI."""

from __future__ import annotations

import functools
import itertools
import json
import os
import secrets
import threading
from dataclasses import dataclass, field

import pytest

os.environ.setdefault("FLEET_BCRYPT_ROUNDS", "4")

PG_ADMIN_URL = os.environ.get("FLEET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ENGINES = [e for e in os.environ.get("FLEET_TEST_ENGINES", "sqlite,postgres").split(",") if e]
# The fast loop (`pytest -m "not slow"`) runs on the first engine only: the others' parametrisations are `slow`.
ENGINE_PARAMS = [engine if n == 0 else pytest.param(engine, marks=pytest.mark.slow) for n, engine in enumerate(ENGINES)]


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.engine("postgres")` keeps a test to the engines it is about (deselected, not skipped,
    on the others)."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("engine")
        engine = item.callspec.params.get("db_url") if hasattr(item, "callspec") else None
        (drop if marker and engine and engine not in marker.args else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Every test gets its own config and data dirs and no ambient credentials."""
    monkeypatch.setenv("FLEET_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FLEET_DATA_DIR", str(tmp_path / "data"))
    for var in ("FLEET_URL", "FLEET_TOKEN", "FLEET_PROFILE", "FLEET_OUTPUT", "FLEET_DB", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def create_pg_database() -> str:
    """A fresh PostgreSQL database for this test run; returns its URL."""
    name = f"fleetctl_test_{os.getpid()}_{secrets.token_hex(3)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    from fleetctl import db

    if db.database.obj is not None:
        db.database.close()
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_available() -> bool:
    try:
        with _pg_admin():
            return True
    except Exception:
        return False


@pytest.fixture(scope="session", params=ENGINE_PARAMS)
def db_url(request, tmp_path_factory):
    """The database URL of one engine for the whole session (created here, dropped after)."""
    if request.param == "postgres":
        if not pg_available():
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not reachable at " + PG_ADMIN_URL)
            pytest.skip("PostgreSQL not reachable (set FLEET_TEST_ENGINES=sqlite to silence)")
        url = create_pg_database()
        yield url
        drop_pg_database(url)
    else:
        yield str(tmp_path_factory.mktemp("sqlite") / "fleet.db")


@dataclass
class LiveServer:
    url: str
    app: object
    db_url: str
    engine: str


@pytest.fixture(scope="session")
def server(db_url):
    """A real waitress server on a free loopback port, in this process, on `db_url`."""
    import waitress

    from fleetctl.server.app import close_app, create_app

    app = create_app(db_url)
    srv = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{srv.effective_port}", app, db_url,
                     "postgres" if "://" in db_url else "sqlite")
    srv.task_dispatcher.shutdown(timeout=2)
    # Its threads stop and its database closes before the database is dropped under them. The serving
    # thread is a daemon: closing its sockets under its select() loop only races it.
    close_app(app)


_counter = itertools.count(1)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@dataclass
class Actor:
    """A member with its token, an HTTP client and a CLI runner bound to both."""

    address: str
    token: str
    url: str
    member: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.address.split("/", 1)[1]

    @property
    def client(self):
        from fleetctl.client import Client

        return Client(self.url, self.token)

    def cli(self, *args: str, input: str | None = None, env: dict | None = None) -> Result:
        return run_cli(list(args), {"FLEET_URL": self.url, "FLEET_TOKEN": self.token, **(env or {})}, input)

    def http(self, method: str, path: str, body=None, raw: bytes | None = None, headers: dict | None = None):
        """A raw HTTP request (status, decoded body) for tests that inspect statuses and headers."""
        return http_request(self.url, method, path, body=body, raw=raw,
                            headers={"Authorization": f"Bearer {self.token}", **(headers or {})})


def http_request(url: str, method: str, path: str, body=None, raw: bytes | None = None,
                 headers: dict | None = None):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=payload, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    try:
        decoded = json.loads(data) if data else None
    except ValueError:
        decoded = data.decode(errors="replace")
    resp.body = decoded
    return resp


def run_local(*args: str) -> Result:
    """Run a local command (`fleet create`, `db ...`, `serve`) in a subprocess: in-process it would
    re-point this process's database, which the session's live server is using."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "fleetctl", *args], capture_output=True, text=True,
                          env={**os.environ, "FLEET_BCRYPT_ROUNDS": "4"}, timeout=60)
    return Result(done.returncode, done.stdout, done.stderr)


@functools.cache
def cli_command():
    """`fleetctl`'s click command, built once: building it from the Typer app (as `CliRunner.invoke(app)`
    does on every call) costs more than most commands it runs."""
    import typer

    from fleetctl.cli.main import app

    return typer.main.get_command(app)


def run_cli(args: list[str], env: dict | None = None, input: str | None = None) -> Result:
    """Run `fleetctl ARGS` in-process, isolated as Typer's CliRunner isolates it (streams, env, width); an
    exception other than an exit propagates."""
    import sys

    from typer.testing import CliRunner

    runner = CliRunner()
    with runner.isolation(input=input, env=env, color=False) as (stdout, stderr, _):
        try:
            cli_command().main(args=list(args), prog_name="fleetctl")
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
            if not isinstance(code, int):  # sys.exit("a message"): printed, exit 1
                sys.stdout.write(f"{code}\n")
                code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            out, err = (s.getvalue().decode(runner.charset, "replace").replace("\r\n", "\n") for s in (stdout, stderr))
    return Result(code, out, err)


@dataclass
class FleetHandle:
    name: str
    owner: Actor
    url: str

    def member(self, name: str, role: str = "agent", domains=(), cross_fleet: bool = False,
               allow_fleets=(), rate_limit: int | None = None) -> Actor:
        """Register a member through the API with the owner's token."""
        body = {"name": name, "role": role, "domains": list(domains), "cross_fleet": cross_fleet,
                "allow_fleets": list(allow_fleets)}
        if rate_limit is not None:
            body["rate_limit"] = rate_limit
        data = self.owner.client.post("/v1/agents", body)
        return Actor(data["member"]["address"], data["token"], self.url, data["member"])


@pytest.fixture
def make_fleet(server):
    """Create a fleet with a unique name (prefix kept readable) directly in the database."""
    from fleetctl.services import members

    def make(prefix: str = "fleet", rate_limit: int | None = None) -> FleetHandle:
        name = f"{prefix}-{next(_counter)}-{secrets.token_hex(2)}"
        fleet, owner, token = members.create_fleet(name, rate_limit)
        return FleetHandle(name, Actor(owner.address, token, server.url, members.to_dict(owner)), server.url)

    return make


@pytest.fixture(autouse=True)
def database_stays_put():
    """No test may re-point the process's database (the session's live server uses it)."""
    from fleetctl import db

    before = db.database.obj
    yield
    assert db.database.obj is before or before is None, "a test re-pointed the database; use run_local"


@pytest.fixture(params=ENGINE_PARAMS)
def fresh_db(request, tmp_path):
    """A database of this test's own (not the session's): a SQLite file, or a new PostgreSQL database."""
    if request.param == "postgres":
        if not pg_available():
            pytest.skip("PostgreSQL not reachable")
        url = create_pg_database()
        yield url
        drop_pg_database(url)
    else:
        yield str(tmp_path / "own.db")


def sql(url: str, statement: str) -> list:
    """Run one statement outside fleetctl (as an operator's psql/sqlite3 would); returns its rows."""
    if "://" in url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []
    import sqlite3

    conn = sqlite3.connect(url)
    try:
        rows = conn.execute(statement).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()
