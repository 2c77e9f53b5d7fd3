"""Commands that run on the server machine against the database directly: serve, fleet, db."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper
from fleetctl.errors import FleetError

DbOpt = Annotated[str | None, typer.Option("--db", help="SQLite path or postgresql:// URL "
                                           "(default: FLEET_DB, else fleet.db in the user data dir).",
                                           envvar="FLEET_DB", show_envvar=True)]

WAITRESS_CONNECTIONS = 100  # waitress's default connection limit, for the requests that do not wait
RELEASE_GRACE = 0.3  # seconds a stopping server keeps sending the answers of the waiters it released

fleet_app = FleetTyper(help="Create fleets (local: runs against the database, no network).")
db_app = FleetTyper(help="Database maintenance (local): upgrade, backup, info.")


def _open(db: str | None, migrate: bool = True, must_exist: bool = False) -> str:
    from fleetctl import config
    from fleetctl import db as database
    from fleetctl.errors import NotFound

    url = db or config.default_db()
    if must_exist and "://" not in url and not os.path.exists(url):
        raise NotFound(f"no database at {url} (fleetctl db upgrade or fleetctl serve creates one)")
    database.open_database(url, migrate_now=migrate)
    return url


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0 picks a free one).",
                                      min=0, max=65535)] = 8700,
    db: DbOpt = None,
    threads: Annotated[int, typer.Option("--threads", help="Worker threads.", min=1, max=256)] = 8,
    trusted_proxy: Annotated[str | None, typer.Option(
        "--trusted-proxy", help="Address of a load balancer whose X-Forwarded-For names the client "
                                "(for the audit log and the per-address limit on failed logins).")] = None,
    max_waiters: Annotated[int, typer.Option(
        "--max-waiters", min=0, max=10_000, metavar="N",
        help="Live wake: at most N requests held waiting for news (GET /v1/wake?wait=S), on threads of "
             "their own; over the bound a wait answers at once. 0 turns waiting off.")] = 256,
) -> None:
    """Run the fleet server (waitress) on the database; migrations run at start."""
    import logging
    import signal

    import waitress

    from fleetctl import config
    from fleetctl.server.app import MAX_BODY, create_app
    from fleetctl.server.waiting import WaitDispatcher
    from fleetctl.services import audit, wakeup

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    url = db or config.default_db()
    app = create_app(url)
    # waitress would otherwise spool bodies of up to 1 GB to disk before the app can refuse them; the
    # margin lets the app answer the usual > 1 MiB body with its own problem+json 413.
    proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for"},
             "trusted_proxy_count": 1} if trusted_proxy else {}
    try:
        # Waiting requests get threads of their own (WaitDispatcher) and connections on top of
        # waitress's usual 100; poll() has no 1024-descriptor ceiling.
        wakeup.hub.configure(max_waiters, db_slots=threads)
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="fleetctl",
                                        clear_untrusted_proxy_headers=True,
                                        max_request_body_size=MAX_BODY + 65536,
                                        connection_limit=WAITRESS_CONNECTIONS + max_waiters,
                                        asyncore_use_poll=True,
                                        _dispatcher=WaitDispatcher(threads, max_waiters), **proxy)
    except OSError as exc:
        audit.writer.stop()
        getattr(app.config["LIMITER"], "stop", lambda: None)()
        getattr(app.config["WAKE_LISTENER"], "stop", lambda: None)()
        raise FleetError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def leave(_signum=None, _frame=None):
        raise SystemExit(0)

    def stop(_signum, _frame):
        if wakeup.hub.close():  # release every waiter now; keep serving a moment so their answers go out
            signal.signal(signal.SIGALRM, leave)
            signal.setitimer(signal.ITIMER_REAL, RELEASE_GRACE)
            return
        leave()

    signal.signal(signal.SIGTERM, stop)
    shown = url if "://" not in url else url.split("@")[-1]
    print(f"fleetctl serving on http://{host}:{server.effective_port} (db: {shown}, pid {os.getpid()})",
          flush=True)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        audit.writer.stop()
        getattr(app.config["LIMITER"], "stop", lambda: None)()
        getattr(app.config["WAKE_LISTENER"], "stop", lambda: None)()
        print("fleetctl server stopped", flush=True)


@fleet_app.command("create")
def fleet_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Fleet name (lowercase slug).", metavar="NAME")],
    rate_limit: Annotated[int, typer.Option("--rate-limit", help="Requests/min for the whole fleet.",
                                            min=1)] = 1000,
    owner: Annotated[str, typer.Option("--owner", help="Name of the first owner.")] = "owner",
    db: DbOpt = None,
) -> None:
    """Create a fleet and its first owner; prints the owner token once."""
    from fleetctl.services import members

    _open(db)
    fleet, member, token = members.create_fleet(name, rate_limit, owner)
    data = {"token": token, "fleet": members.fleet_to_dict(fleet), "member": members.to_dict(member)}

    def human(_):
        print(f"Created fleet {fleet.name} (id {fleet.id}) with owner {member.address}.")
        output.secret_notice(token, member.address)
        print(f"Next: fleetctl login --url http://127.0.0.1:8700 --profile {fleet.name}   (paste the token when asked)")

    output.emit(ctx, data, human)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, db: DbOpt = None) -> None:
    """Apply pending schema migrations."""
    from fleetctl import db as database

    _open(db, migrate=False)
    ran = database.migrate()
    output.emit(ctx, {"applied": ran, "version": max(database.applied_versions(), default=0)},
                lambda d: print(f"applied {len(ran)} migration(s); schema version {d['version']}"))


@db_app.command("backup")
def db_backup(ctx: typer.Context,
              file: Annotated[str, typer.Argument(help="Target file (must not exist).", metavar="FILE")],
              db: DbOpt = None) -> None:
    """Consistent online copy of the SQLite database, safe while the server writes."""
    from fleetctl import db as database

    _open(db, migrate=False, must_exist=True)
    database.backup(file)
    output.emit(ctx, {"backup": file, "bytes": os.path.getsize(file)},
                lambda d: print(f"backed up to {file} ({d['bytes']} bytes)"))


@db_app.command("info")
def db_info(ctx: typer.Context, db: DbOpt = None) -> None:
    """Show the engine, schema version and row counts."""
    from fleetctl import db as database
    from fleetctl.models.core import Fleet, Member

    url = _open(db, migrate=False, must_exist=True)
    versions = database.applied_versions()
    data = {"url": url if "://" not in url else url.split("@")[-1], "engine": database.engine(),
            "schema_version": max(versions, default=0),
            "pending": [n for v, n, _ in __import__("fleetctl.migrations").migrations.MIGRATIONS
                        if v not in versions]}
    if versions:
        data.update(fleets=Fleet.select().count(), members=Member.select().count())
    output.emit(ctx, data)


def register(app: typer.Typer) -> None:
    from fleetctl.cli.app import with_json

    app.command("serve")(with_json(serve))
    app.add_typer(fleet_app, name="fleet")
    app.add_typer(db_app, name="db")
