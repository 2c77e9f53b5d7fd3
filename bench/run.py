"""The fleetctl benchmark: a real `fleetctl serve` on loopback with a fresh database, loaded by
concurrent keep-alive clients; prints a table with PASS/FAIL per target and writes JSON.

    python bench/run.py                      # full run on SQLite (a few minutes)
    python bench/run.py --quick              # short run (under a minute)
    python bench/run.py --db postgresql://postgres@127.0.0.1:5432/postgres   # + PostgreSQL
    python bench/run.py --only whoami,cli    # a subset
    python bench/run.py --only console       # the console's cost to another fleet's API latency
    python bench/run.py --profile            # py-spy profiles of the server under load
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import auth, clistart, console, harness, lists, livewake, profiling, report, scale, wake, writes  # noqa: E402

# name -> (function, runs once per engine?)
MEASUREMENTS = {
    "whoami": (auth.whoami, True),
    "flood": (auth.flood, True),
    "write": (writes.measure, True),
    "scale": (scale.measure, True),
    "lists": (lists.measure, True),
    "handoff": (livewake.handoff, True),
    "waiters": (livewake.idle_waiters, True),
    "wake": (wake.measure, True),
    "cli": (clistart.measure, False),
    "console": (console.measure, True),
    "profile": (profiling.measure, True),  # only with --profile or --only profile
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="Short run: 1 s per load, smaller seed.")
    parser.add_argument("--db", metavar="URL", help="Also run the server figures on PostgreSQL: a fresh "
                        "database is created through this URL and dropped after.")
    parser.add_argument("--only", default="", help=f"Comma-separated subset of: {', '.join(MEASUREMENTS)}.")
    parser.add_argument("--duration", type=float, help="Seconds per load run (default 8, --quick 1).")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json",
                        help="Where to write the results (default bench/results.json).")
    parser.add_argument("--profile", action="store_true",
                        help="Also profile the server with py-spy under the auth and write loads.")
    parser.add_argument("--no-sqlite", action="store_true", help="With --db: skip the SQLite run.")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1.0 if args.quick else 8.0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or [n for n in MEASUREMENTS if n != "profile"]
    if args.profile and "profile" not in names:
        names.append("profile")
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown:
        parser.error(f"unknown measurement(s) {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}")
    args.names = names
    return args


def run_engine(args, rep: report.Report, pg_url: str | None, names: list[str], workdir: Path) -> None:
    """Every per-engine measurement on one fresh database."""
    with harness.FreshDatabase(pg_url, workdir) as fresh:
        print(f"[{fresh.engine}] fresh database, bootstrapping the fleet", flush=True)
        setup = harness.bootstrap(fresh.url)
        ctx = harness.Context(fresh.engine, fresh.url, setup, workdir, args.duration, args.quick, rep,
                              pg_url=pg_url)
        for name in names:
            func, per_engine = MEASUREMENTS[name]
            if per_engine:
                func(ctx)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rep = report.Report(meta=report.meta(args))
    started = time.time()
    workdir = harness.workdir()
    try:
        engines = ([] if args.db and args.no_sqlite else [None]) + ([args.db] if args.db else [])
        per_engine = [n for n in args.names if MEASUREMENTS[n][1]]
        if per_engine:
            for pg_url in engines:
                run_engine(args, rep, pg_url, per_engine, workdir / ("pg" if pg_url else "sqlite"))
        for name in args.names:
            func, once_per_engine = MEASUREMENTS[name]
            if not once_per_engine:
                func(harness.Context("-", "", None, workdir, args.duration, args.quick, rep))
    finally:
        harness.cleanup(workdir)
    rep.meta["elapsed_s"] = round(time.time() - started, 1)
    rep.meta["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print()
    print(rep.table())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    rep.write_json(args.json)
    failed = sum(1 for c in rep.checks if c.result == "FAIL")
    print(f"\n{len(rep.checks)} checks: {failed} failed; {rep.meta['elapsed_s']} s; load average "
          f"{rep.meta['loadavg_at_start'][0]} -> {rep.meta['loadavg_at_end'][0]} on {os.cpu_count()} CPUs; "
          f"JSON in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
