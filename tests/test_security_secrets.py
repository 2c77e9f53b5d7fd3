"""Token secrets are printed once, at minting, and nowhere else: not in the database (SQLite file, WAL and
shared memory; every row of every table on PostgreSQL), the server log, the audit log, or any later
`--json` output or error line."""

from __future__ import annotations

import glob
import secrets
import signal
import subprocess

import pytest
import servers
from conftest import Actor, http_request, run_cli

pytestmark = pytest.mark.slow


def secret_of(token: str) -> str:
    """The secret part of `flt_<fleet>_<id>_<secret>` (the prefix is public by design)."""
    return token.rsplit("_", 1)[1]


def database_text(db_url: str) -> bytes:
    """Everything the database holds, as bytes to grep."""
    if "://" not in db_url:
        # Read by another process: closing any descriptor of a SQLite file drops every POSIX lock this
        # process holds on it, and the session's server (in this process) would then corrupt it.
        paths = sorted(glob.glob(db_url + "*"))  # fleet.db, fleet.db-wal, fleet.db-shm
        return subprocess.run(["cat", *paths], capture_output=True, check=True).stdout
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        rows = [str(r[0]) for t in tables for r in conn.execute(f'SELECT t::text FROM "{t}" t').fetchall()]
    return "\n".join(rows).encode()


def test_token_secrets_never_leave_the_mint(db_url, tmp_path):
    srv = servers.start(db_url)
    cli_env = {"FLEET_URL": srv.url}

    def cli(token: str, *args: str):
        return run_cli([*args, "--json"], {**cli_env, "FLEET_TOKEN": token})

    try:
        made = servers.local(db_url, "fleet", "create", f"sec-{secrets.token_hex(3)}")
        owner_token = made["token"]
        minted = [owner_token]
        registered = cli(owner_token, "agent", "register", "bot", "--domain", "infra")
        assert registered.exit_code == 0, registered.stderr
        minted.append(registered.json()["token"])
        rotated = cli(owner_token, "token", "rotate", "bot")
        minted.append(rotated.json()["token"])
        own = cli(owner_token, "token", "rotate")
        owner_token = own.json()["token"]
        minted.append(owner_token)
        bot = Actor(registered.json()["member"]["address"], minted[2], srv.url)

        # Use every token, dead or alive, the way clients would (good requests, refused ones, mutations).
        outputs = []
        for token in minted:
            outputs.append(http_request(srv.url, "GET", "/v1/whoami", headers={"Authorization": f"Bearer {token}"}))
            outputs.append(http_request(srv.url, "POST", "/v1/knowledge", body={"kind": "tip", "title": "t"},
                                        headers={"Authorization": f"Bearer {token}"}))
        assert [r.status for r in outputs] == [401, 401, 401, 401, 200, 201, 200, 201]  # 2 dead, 2 alive
        assert bot.http("POST", "/v1/messages", {"recipients": ["owner"], "subject": "hi"}).status == 201
        later = [cli(owner_token, "whoami"), cli(owner_token, "agent", "list"),
                 cli(owner_token, "agent", "show", "bot"), cli(owner_token, "audit"),
                 cli(minted[2], "msg", "inbox"), cli(minted[0], "whoami"), cli(minted[1], "knowledge", "list"),
                 run_cli(["login", "--json"], {**cli_env, "FLEET_TOKEN": owner_token,
                                               "FLEET_CONFIG_DIR": str(tmp_path / "cfg")})]
        audit = Actor(made["member"]["address"], owner_token, srv.url).client.get("/v1/audit?limit=200")
        assert {"token.rotate", "agent.register"} <= {r["action"] for r in audit["items"]}
        assert all(r.exit_code == 0 for i, r in enumerate(later) if i not in (5, 6)), [r.stderr for r in later]
        assert later[5].exit_code == 3 and "Traceback" not in later[5].stderr
    finally:
        srv.stop(signal.SIGTERM)

    haystacks = {"server log": srv.log().encode(), "audit": repr(audit).encode(), "database": database_text(db_url)}
    assert b"$2b$" in haystacks["database"] and b"knowledge.publish" in haystacks["database"]  # the scan sees rows
    for i, result in enumerate(later):
        haystacks[f"cli output {i}"] = (result.stdout + result.stderr).encode()
    for i, resp in enumerate(outputs):
        haystacks[f"http answer {i}"] = repr(resp.body).encode()
    for token in minted:
        needle = secret_of(token).encode()
        leaks = [where for where, text in haystacks.items() if needle in text]
        assert leaks == [], f"a token secret leaked into: {leaks}"
    print(f"secrets: {len(minted)} tokens grepped in {len(haystacks)} places, "
          f"{len(haystacks['database'])} bytes of database")
