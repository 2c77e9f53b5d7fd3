"""Read latency against data size: the wake prompt (peek) and the knowledge list of a member with
domains, at 100 knowledge entries and at 100,000 (plus 10,000 messages and 5,000 tasks, seeded in
bulk); target: at the large size within 3x of the small one (median latency)."""

from __future__ import annotations

import time

from bench import harness, load, seed
from bench.auth import getter
from bench.harness import Context, call, routes

SMALL = {"knowledge": 100, "messages": 10, "tasks": 5}
LARGE = {"knowledge": 100_000, "messages": 10_000, "tasks": 5_000}
QUICK_LARGE = {"knowledge": 10_000, "messages": 1_000, "tasks": 500}
TARGET_RATIO = 3.0
# search is timed for information: a query every entry matches is ranked over all of them
CHECKED = ("wake peek (backlog)", "wake peek (caught up)", "knowledge list", "knowledge list --domain d3")


def _grow(fleet: str, have: dict, want: dict) -> None:
    """Seed up to `want` rows of each kind (tables that are not built yet are left alone)."""
    for kind, count in want.items():
        extra = count - have.get(kind, 0)
        if extra > 0:
            getattr(seed, kind)(fleet, extra)
            have[kind] = count


def _reads(ctx: Context, port: int, available: set[str]) -> dict[str, load.RequestMaker]:
    """The reads to time, as the reader (domain d1): wake with its whole backlog, the feed."""
    token = ctx.setup.reader.token
    out = {}
    if "GET /v1/wake" in available:
        out["wake peek (backlog)"] = getter("/v1/wake", [token])
    if "GET /v1/knowledge" in available:
        out["knowledge list"] = getter("/v1/knowledge", [token])
        out["knowledge list --domain d3"] = getter("/v1/knowledge?domain=d3", [token])
    if "GET /v1/knowledge/search" in available:
        out["knowledge search"] = getter("/v1/knowledge/search?q=restart", [token])
    return out


def _time_reads(ctx: Context, size: str, calls: int) -> dict[str, dict]:
    """A fresh server per size (no warm caches carried over), each read timed `calls` times."""
    out = {}
    with ctx.server() as srv:
        reads = _reads(ctx, srv.port, routes(srv.port))
        for name, make in reads.items():
            fig = load.timed_calls(srv.port, make, calls)
            ctx.report.add(ctx.engine, f"{name} @ {size}", fig)
            out[name] = fig
        if "wake peek (backlog)" in reads:
            out.update(_caught_up(ctx, srv.port, size, calls))
    return out


def _caught_up(ctx: Context, port: int, size: str, calls: int) -> dict[str, dict]:
    """Wake peek of a member that acknowledged everything: the steady-state cost of a wake."""
    token = ctx.setup.reader.token
    status, data = call(port, "GET", "/v1/wake", token)
    if status != 200 or not isinstance(data, dict):
        return {}
    status, _ = call(port, "POST", "/v1/wake/ack", token, {"cursor": data.get("cursor")})
    if status >= 300:
        return {}
    fig = load.timed_calls(port, getter("/v1/wake", [token]), calls)
    ctx.report.add(ctx.engine, f"wake peek (caught up) @ {size}", fig)
    return {"wake peek (caught up)": fig}


def measure(ctx: Context) -> None:
    """Seed the small size, time the reads; grow to the large size, time them again; compare."""
    large = QUICK_LARGE if ctx.quick else LARGE
    calls = 15 if ctx.quick else 40
    with harness.FreshDatabase(ctx.pg_url, ctx.workdir / "scale") as fresh:
        setup = harness.bootstrap(fresh.url)
        sized = harness.Context(ctx.engine, fresh.url, setup, fresh.workdir, ctx.duration, ctx.quick,
                                ctx.report, pg_url=ctx.pg_url)
        have: dict = {}
        _grow(setup.fleet, have, SMALL)
        seed.analyze()
        small_figs = _time_reads(sized, "100", calls)
        if not small_figs:
            ctx.report.skip(ctx.engine, "scale", "no wake or knowledge routes yet")
            return
        t0 = time.perf_counter()
        _grow(setup.fleet, have, large)
        seed.analyze()
        label = f"{large['knowledge'] // 1000}k"
        ctx.report.add(ctx.engine, f"seed {label}", {**have, "seconds": round(time.perf_counter() - t0, 1)})
        large_figs = _time_reads(sized, label, calls)
    for name, small in small_figs.items():
        big = large_figs.get(name)
        if not big or name not in CHECKED:
            continue
        ratio = big["p50_ms"] / max(small["p50_ms"], 1e-6)
        ok = small["ok"] == small["requests"] and big["ok"] == big["requests"]
        ctx.report.check(ctx.engine, f"{name} {label}/100", f"{big['p50_ms']:.1f} ms = {ratio:.1f}x",
                         f"<= {TARGET_RATIO:.0f}x ({small['p50_ms']:.1f} ms)", ratio <= TARGET_RATIO and ok,
                         "" if ok else f"statuses {small['statuses']} / {big['statuses']}")
