"""Commands that run on the server machine against the database directly: serve, fleet, db."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from fleetctl import settings
from fleetctl.cli import output
from fleetctl.cli.app import FleetTyper
from fleetctl.config import shown
from fleetctl.errors import FleetError
from fleetctl.settings import default


def setting_option(name: str, **extra) -> typer.models.OptionInfo:
    """The option of setting `name` as the settings list declares it: flag, help, env var and bounds."""
    setting = settings.BY_NAME[name]
    bounds = {key: value for key, value in (("min", setting.low), ("max", setting.high)) if value is not None}
    text = setting.help if setting.shown_default is None else f"{setting.help[:-1]} (default: {setting.shown_default})."
    return typer.Option(setting.option, help=text, envvar=setting.env, show_envvar=True, **bounds, **extra)


DbOpt = Annotated[str | None, setting_option("db")]

RELEASE_GRACE = 0.3  # seconds a stopping server keeps sending the answers of the waiters it released

fleet_app = FleetTyper(help="Create fleets and set their storage quota (local: runs against the database, "
                            "no network).")
db_app = FleetTyper(help="Database maintenance (local): upgrade, backup, info, prune.")
QuotaOpt = Annotated[str, typer.Option("--quota", metavar="SIZE", help="Storage quota for the fleet's content: "
                                       "a size such as 1GiB, 500MiB or 2GB (KiB/MiB/GiB/TiB, KB/MB/GB/TB).")]
RetentionOpt = Annotated[str, typer.Option(
    "--older-than", metavar="DURATION", help="Delete what is older than this: 90d, 12h, 2w (s, m, h, d, w).")]


def database_url(db: str | None) -> str:
    """The database `serve` and every local command use: --db, else FLEET_DB, else the default file; a
    SQLite path is made absolute so the same file is named the same way from any directory."""
    from fleetctl import config

    url = db or config.default_db()
    return url if "://" in url else os.path.abspath(os.path.expanduser(url))


def _open(db: str | None, migrate: bool = True, must_exist: bool = False) -> str:
    from fleetctl import db as database
    from fleetctl.errors import NotFound

    url = database_url(db)
    if must_exist and "://" not in url and not os.path.exists(url):
        raise NotFound(f"no database at {url} (fleetctl db upgrade or fleetctl serve creates one)")
    database.open_database(url, migrate_now=migrate)
    return url


def serve(
    host: Annotated[str, setting_option("host")] = default("host"),
    port: Annotated[int, setting_option("port")] = default("port"),
    db: DbOpt = None,
    threads: Annotated[int, setting_option("threads")] = default("threads"),
    trusted_proxy: Annotated[str | None, setting_option("trusted_proxy")] = None,
    retention: Annotated[str, setting_option("retention", metavar="DURATION")] = default("retention"),
    connection_limit: Annotated[int, setting_option("connection_limit", metavar="N")] = default("connection_limit"),
    request_timeout: Annotated[float, setting_option("request_timeout", metavar="S")] = default("request_timeout"),
    max_waiters: Annotated[int, setting_option("max_waiters", metavar="N")] = default("max_waiters"),
) -> None:
    """Run the fleet server (waitress) on the database; migrations run at start. Humans sign in to the
    web console at /ui (e.g. http://127.0.0.1:8700/ui) with their token.

    GET /healthz is liveness; GET /readyz is readiness (503 while the database is unreachable, and so
    is every request that needs it; the server recovers by itself when the database is back).
    """
    import logging
    import signal

    from fleetctl.server.app import MAX_BODY, close_app, create_app
    from fleetctl.server.connections import create_server
    from fleetctl.server.waiting import WaitDispatcher
    from fleetctl.services import prune, wakeup

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    url = database_url(db)
    chosen = settings.server_settings(db=url, host=host, port=port, threads=threads, trusted_proxy=trusted_proxy,
                                       retention=retention, connection_limit=connection_limit,
                                       request_timeout=request_timeout, max_waiters=max_waiters)
    pruner = None if retention == "off" else prune.Pruner(retention, first_delay=chosen.prune_delay)  # exit 2
    app = create_app(chosen)
    # waitress would otherwise spool bodies of up to 1 GB to disk before the app can refuse them; the
    # margin lets the app answer the usual > 1 MiB body with its own problem+json 413.
    # X-Forwarded-Proto tells the console that the browser used https (its session cookie is then Secure).
    proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
             "trusted_proxy_count": 1} if trusted_proxy else {}
    try:
        # Waiting requests get threads of their own (WaitDispatcher); the connection limit counts them
        # too (keep it well above --max-waiters). poll() has no 1024-descriptor ceiling.
        wakeup.hub.configure(max_waiters, db_slots=threads)
        server = create_server(app, host, port, threads, connection_limit, request_timeout,
                               ident="fleetctl", clear_untrusted_proxy_headers=True,
                               max_request_body_size=MAX_BODY + 65536, asyncore_use_poll=True,
                               _dispatcher=WaitDispatcher(threads, max_waiters), **proxy)
    except OSError as exc:
        close_app(app)
        raise FleetError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def leave(_signum=None, _frame=None):
        raise SystemExit(0)

    interrupted = []

    def interrupt(_signum, _frame):  # waitress swallows the KeyboardInterrupt: remember it for the exit code
        interrupted.append(True)
        raise KeyboardInterrupt

    def stop(_signum, _frame):
        if wakeup.hub.close():  # release every waiter now; keep serving a moment so their answers go out
            signal.signal(signal.SIGALRM, leave)
            signal.setitimer(signal.ITIMER_REAL, RELEASE_GRACE)
            return
        leave()

    if pruner:  # before the signal handlers: a Ctrl-C never lands inside Thread.start()
        pruner.start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, interrupt)
    try:  # a Ctrl-C right after the first line still stops cleanly
        print(f"fleetctl serving on http://{host}:{server.effective_port} (db: {shown(url)}, pid {os.getpid()})",
              flush=True)
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if pruner:
            pruner.stop()
        server.close()
        close_app(app)
        print("fleetctl server stopped", flush=True)
    if interrupted:  # Ctrl-C: a clean stop, then exit 130 like every command
        raise typer.Exit(130)


@fleet_app.command("create")
def fleet_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Fleet name (lowercase slug).", metavar="NAME")],
    rate_limit: Annotated[int, typer.Option("--rate-limit", help="Requests/min for the whole fleet.",
                                            min=1, max=1_000_000)] = 1000,
    owner: Annotated[str, typer.Option("--owner", help="Name of the first owner.")] = "owner",
    quota: QuotaOpt = "1GiB",
    db: DbOpt = None,
) -> None:
    """Create a fleet and its first owner; prints the owner token once."""
    from fleetctl.services import members
    from fleetctl.services.quota import parse_size

    size = parse_size(quota)
    url = _open(db)
    fleet, member, token = members.create_fleet(name, rate_limit, owner, quota_bytes=size)
    data = {"token": token, "fleet": members.fleet_to_dict(fleet, storage=True), "member": members.to_dict(member),
            "db": shown(url)}

    def human(_):
        print(f"Created fleet {fleet.name} (id {fleet.id}) with owner {member.address} in database {shown(url)}.")
        output.secret_notice(token, member.address)
        print(f"Next: fleetctl login --url URL --profile {fleet.name}   (paste the token when asked)")
        print(f"  URL is the address `fleetctl serve` printed for this database (serve --db {shown(url)}); "
              "a server on another database will not know this token.")

    output.emit(ctx, data, human)


@fleet_app.command("update")
def fleet_update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Fleet name.", metavar="NAME")],
    quota: QuotaOpt,
    db: DbOpt = None,
) -> None:
    """Change a fleet's storage quota (the server operator's decision, so local, not over HTTP)."""
    from fleetctl.services import members
    from fleetctl.services.quota import format_size, parse_size

    size = parse_size(quota)
    _open(db, must_exist=True)
    fleet = members.set_quota(name, size)
    output.emit(ctx, members.fleet_to_dict(fleet, storage=True), lambda f: print(
        f"Fleet {f['name']}: quota {format_size(f['quota'])}, {format_size(f['usage'])} used."))


@db_app.command("prune")
def db_prune(
    ctx: typer.Context,
    older_than: RetentionOpt = "90d",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")] = False,
    db: DbOpt = None,
) -> None:
    """Delete audit records, delivered change-log entries and read message deliveries older than
    --older-than; never anything still pending for a member. Safe while the server runs (small
    batches, short transactions); on SQLite the freed space goes back to the file system."""
    from fleetctl.services import prune

    prune.retention(older_than)
    _open(db, must_exist=True)
    report = prune.run(older_than, dry_run)

    def human(r: dict) -> None:
        verb = "would delete" if dry_run else "deleted"
        for table, count in r["deleted"].items():
            print(f"{table:20} {verb} {count}")
        if not dry_run:
            print(f"space given back: {r['reclaimed_bytes']} bytes (vacuum: {r['vacuum']})")

    output.emit(ctx, report, human)


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
    data = {"url": shown(url), "engine": database.engine(),
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
