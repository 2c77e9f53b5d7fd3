"""Read latency against data size: the wake prompt (peek) and the knowledge list of a member with
domains, and knowledge search, at 100 knowledge entries and at 100,000 (plus 10,000 messages and 5,000
tasks, seeded in bulk); target: at the large size within 3x of the small one (median latency), and a
search that matches every entry under 50 ms at the large size.

Two databases and two servers run side by side and the reads alternate between them, so a busy
moment of a shared machine slows both sizes alike and the ratio stays meaningful."""

from __future__ import annotations

import http.client
import time

from bench import harness, load, seed
from bench.auth import getter
from bench.harness import Context, routes

SMALL = {"knowledge": 100, "messages": 10, "tasks": 5}
LARGE = {"knowledge": 100_000, "messages": 10_000, "tasks": 5_000}
QUICK_LARGE = {"knowledge": 10_000, "messages": 1_000, "tasks": 500}
TARGET_RATIO = 3.0
TARGET_ALL_MATCH_MS = 50.0
SEARCH_ALL = "knowledge search, all match"
CHECKED = ("wake peek (backlog)", "wake peek (caught up)", "knowledge list", "knowledge list --domain d3",
           "knowledge search, 1% match")
READS = {
    "wake peek (backlog)": ("GET /v1/wake", "/v1/wake"),
    "knowledge list": ("GET /v1/knowledge", "/v1/knowledge"),
    "knowledge list --domain d3": ("GET /v1/knowledge", "/v1/knowledge?domain=d3"),
    # every seeded title says "service {k % 97}": one entry in 97 (1 at 100 entries, 1,031 at 100k)
    "knowledge search, 1% match": ("GET /v1/knowledge/search", "/v1/knowledge/search?q=service+5"),
    SEARCH_ALL: ("GET /v1/knowledge/search", "/v1/knowledge/search?q=restart"),  # in every seeded body
}


def _seeded(fresh: harness.FreshDatabase, size: dict) -> harness.Setup:
    """Bootstrap the fleet in `fresh` and seed it to `size`."""
    setup = harness.bootstrap(fresh.url)
    for kind, count in size.items():
        getattr(seed, kind)(setup.fleet, count)
    seed.analyze()
    return setup


def _paired(port_a: int, make_a, port_b: int, make_b, calls: int) -> tuple[dict, dict]:
    """`calls` requests to each server, alternating A, B, A, B on one keep-alive connection each."""
    conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=120) for p in (port_a, port_b)]
    samples = [load.Sample(), load.Sample()]
    makers, ports = (make_a, make_b), (port_a, port_b)
    for n in range(load.WARMUP_REQUESTS + calls):
        for side in (0, 1):
            conns[side], status, seconds = load._send(conns[side], ports[side], makers[side], 0, n)
            if n >= load.WARMUP_REQUESTS:
                samples[side].latencies.append(seconds)
                samples[side].statuses[status] += 1
    for conn in conns:
        conn.close()
    return tuple(load.summarize(s, sum(s.latencies), 1, 1, 0.0) for s in samples)


def measure(ctx: Context) -> None:
    """Seed a small and a large database, serve both, time each read alternately; compare."""
    large = QUICK_LARGE if ctx.quick else LARGE
    label = f"{large['knowledge'] // 1000}k"
    calls = 15 if ctx.quick else 40
    figures: dict[str, tuple[dict, dict]] = {}
    with harness.FreshDatabase(ctx.pg_url, ctx.workdir / "small") as small_db, \
            harness.FreshDatabase(ctx.pg_url, ctx.workdir / "large") as large_db:
        small = _seeded(small_db, SMALL)
        t0 = time.perf_counter()
        big = _seeded(large_db, large)
        ctx.report.add(ctx.engine, f"seed {label}", {**large, "seconds": round(time.perf_counter() - t0, 1)})
        sides = (harness.Context(ctx.engine, small_db.url, small, small_db.workdir, ctx.duration, ctx.quick,
                                 ctx.report),
                 harness.Context(ctx.engine, large_db.url, big, large_db.workdir, ctx.duration, ctx.quick,
                                 ctx.report))
        with sides[0].server() as srv_a, sides[1].server() as srv_b:
            available = routes(srv_a.port)
            reads = {name: path for name, (route, path) in READS.items() if route in available}
            if not reads:
                ctx.report.skip(ctx.engine, "scale", "no wake or knowledge routes yet")
                return
            tokens = (small.reader.token, big.reader.token)
            for name, path in reads.items():
                figures[name] = _paired(srv_a.port, getter(path, [tokens[0]]), srv_b.port,
                                        getter(path, [tokens[1]]), calls)
            if "wake peek (backlog)" in reads and all(
                    harness.catch_up(p, t) for p, t in zip((srv_a.port, srv_b.port), tokens, strict=True)):
                figures["wake peek (caught up)"] = _paired(srv_a.port, getter("/v1/wake", [tokens[0]]),
                                                           srv_b.port, getter("/v1/wake", [tokens[1]]), calls)
    for name, (at_small, at_large) in figures.items():
        ctx.report.add(ctx.engine, f"{name} @ 100", at_small)
        ctx.report.add(ctx.engine, f"{name} @ {label}", at_large)
        ok = at_small["ok"] == at_small["requests"] and at_large["ok"] == at_large["requests"]
        if name == SEARCH_ALL:
            ctx.report.check(ctx.engine, f"{name} @ {label}", f"{at_large['p50_ms']:.1f} ms",
                             f"< {TARGET_ALL_MATCH_MS:.0f} ms", at_large["p50_ms"] < TARGET_ALL_MATCH_MS and ok,
                             f"p99 {at_large['p99_ms']:.1f} ms" if ok else f"statuses {at_large['statuses']}")
        if name not in CHECKED:
            continue
        ratio = at_large["p50_ms"] / max(at_small["p50_ms"], 1e-6)
        ctx.report.check(ctx.engine, f"{name} {label}/100", f"{at_large['p50_ms']:.1f} ms = {ratio:.1f}x",
                         f"<= {TARGET_RATIO:.0f}x ({at_small['p50_ms']:.1f} ms)", ratio <= TARGET_RATIO and ok,
                         "" if ok else f"statuses {at_small['statuses']} / {at_large['statuses']}")

