"""Write throughput: message send and knowledge publish by 1 and 8 concurrent agents; targets with
8 agents: at least 0.35x of `/healthz` at 8 threads on the same server (the two loads alternate, so a
busy moment of the machine weighs on both), p99 < 25 ms, no 5xx and no "database is locked" in the
server log."""

from __future__ import annotations

import json
import secrets

from bench import load
from bench.auth import getter
from bench.harness import Context, headers, routes

TARGET_RATIO = 0.35  # of healthz on the same server
TARGET_P99_MS = 25.0


def sender(agents: list) -> load.RequestMaker:
    """Agent i sends a short message to agent i+1 (same fleet, domain `bench`)."""
    prepared = [headers(a.token, body=True) for a in agents]
    names = [a.address.split("/", 1)[1] for a in agents]

    def make(index: int, n: int):
        i = index % len(agents)
        body = {"recipients": [names[(i + 1) % len(names)]], "subject": f"bench {i}-{n}",
                "body": "status: all green; nothing to do", "domains": ["bench"]}
        return "POST", "/v1/messages", json.dumps(body).encode(), prepared[i]

    return make


def publisher(agents: list) -> load.RequestMaker:
    """Agent i publishes a tip in domain `bench`."""
    prepared = [headers(a.token, body=True) for a in agents]

    def make(index: int, n: int):
        i = index % len(agents)
        body = {"kind": "tip", "title": f"bench tip {i}-{n}", "body": "Use `fleetctl wake --peek` first.",
                "domains": ["bench"]}
        return "POST", "/v1/knowledge", json.dumps(body).encode(), prepared[i]

    return make


def keyed_sender(agents: list) -> load.RequestMaker:
    """`sender` with a fresh Idempotency-Key on every request, as the CLI, daemon and MCP send them."""
    send = sender(agents)

    def make(index: int, n: int):
        method, path, body, hdrs = send(index, n)
        return method, path, body, {**hdrs, "Idempotency-Key": secrets.token_urlsafe(16)}

    return make


WORKLOADS = {"msg send": ("POST /v1/messages", sender), "knowledge publish": ("POST /v1/knowledge", publisher),
             "msg send with Idempotency-Key": ("POST /v1/messages", keyed_sender)}


def measure(ctx: Context, wrapper: list[str] | None = None) -> None:
    """Each workload with 1 agent, then with 8 alternating with healthz at 8 threads (a fresh server
    for them all)."""
    with ctx.server(wrapper) as srv:
        available = routes(srv.port)
        for name, (route, maker) in WORKLOADS.items():
            if route not in available:
                ctx.report.skip(ctx.engine, f"{name} x8", f"{route} not built yet")
                continue
            locked_before = srv.count_in_log("database is locked")
            one = load.run(srv.port, maker(ctx.setup.agents[:1]), 1, ctx.duration, server_pid=srv.pid)
            ctx.report.add(ctx.engine, f"{name} (1 agent)", one)
            both = load.alternate(srv.port, {"healthz": getter("/healthz", [None]), name: maker(ctx.setup.agents)},
                                  8, 2 * ctx.duration, server_pid=srv.pid)
            health, eight = both["healthz"], both[name]
            ctx.report.add(ctx.engine, f"healthz (8 threads, with {name})", health)
            ctx.report.add(ctx.engine, f"{name} (8 agents)", eight)
            locked = srv.count_in_log("database is locked") - locked_before
            failed = one["requests"] - one["ok"] + eight["requests"] - eight["ok"]
            ratio = eight["ok_rps"] / max(health["ok_rps"], 1e-9)
            ctx.report.check(ctx.engine, f"{name} x8 / healthz",
                             f"{ratio:.2f}x ({eight['ok_rps']:.0f}/s)", f">= {TARGET_RATIO}x", ratio >= TARGET_RATIO,
                             f"healthz {health['ok_rps']:.0f}/s; server CPU per request "
                             f"{eight['server_cpu_ms_per_req']} ms vs {health['server_cpu_ms_per_req']} ms")
            ctx.report.check(ctx.engine, f"{name} x8 p99", f"{eight['p99_ms']:.1f} ms",
                             f"< {TARGET_P99_MS:.0f} ms", eight["p99_ms"] < TARGET_P99_MS)
            ctx.report.check(ctx.engine, f"{name} errors", f"{failed} non-2xx, {locked} locked",
                             "0 5xx, 0 locked", one["errors_5xx"] + eight["errors_5xx"] == 0 and locked == 0
                             and failed == 0, f"statuses {eight['statuses']}" if failed else "")
