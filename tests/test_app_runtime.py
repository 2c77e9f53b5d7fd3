"""create_app(settings) owns its database, limiter, audit writer, token cache and wake listener; close_app stops them.

The app runs in a subprocess: in this process the session's live server holds the database.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys, threading
from fleetctl import db
from fleetctl.errors import FleetError
from fleetctl.server.app import close_app, create_app
from fleetctl.services import audit, members, tokens
from fleetctl.settings import server_settings

url, other = sys.argv[1], sys.argv[2]
before = sorted(t.name for t in threading.enumerate())
app = create_app(server_settings(db=url, auth_cache_ttl=5, auth_failures_per_minute=7, rate_sync_ms=200))
runtime = app.extensions["fleet"]
during = sorted(t.name for t in threading.enumerate())
out = {"before": before, "during": during, "ttl": tokens.cache.ttl, "limit": tokens.cache.failure_limit,
       "bound": audit.writer is runtime.audit and tokens.cache is runtime.tokens,
       "sync": getattr(runtime.limiter, "interval", None)}
fleet, owner, token = members.create_fleet("rt", None)
client = app.test_client()
out["whoami"] = client.post("/v1/agents", json={"name": "bee"},
                            headers={"Authorization": f"Bearer {token}"}).status_code
out["forged"] = client.get("/v1/whoami", headers={"Authorization": "Bearer nope"}).status_code
try:
    create_app(other)
except FleetError as exc:
    out["second"] = str(exc)
close_app(app)
close_app(app)  # twice is harmless
out["after"] = sorted(t.name for t in threading.enumerate())
out["closed"] = db.database.obj is None
out["unbound"] = audit.writer is not runtime.audit and tokens.cache is not runtime.tokens
db.open_database(url, migrate_now=False)  # the records queued before close were written by it
from fleetctl.models.core import AuditEntry
out["audited"] = sorted(f"{r.status} {r.member or '-'}" for r in AuditEntry.select())
db.close_database()
print(json.dumps(out))
"""


def test_a_created_app_owns_its_state_and_close_stops_it(fresh_db, tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, fresh_db, str(tmp_path / "other.db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert (out["ttl"], out["limit"], out["bound"]) == (5.0, 7, True)
    assert out["sync"] == (0.2 if "://" in fresh_db else None)  # the shared limiter exists on PostgreSQL only
    started = set(out["during"]) - set(out["before"])
    postgres = {"fleetctl-ratelimit-sync", "fleetctl-wake-listener"} if "://" in fresh_db else set()
    assert started == {"fleetctl-audit"} | postgres, started
    assert out["after"] == out["before"], "close_app left threads running"
    assert out["closed"] and out["unbound"]
    assert (out["whoami"], out["forged"]) == (201, 401)
    assert "already serves the database" in out["second"]
    assert "201 rt/owner" in out["audited"] and "401 -" in out["audited"], out["audited"]
