"""Authentication under load: the auth cache (whoami vs healthz), whether the client is the
bottleneck, and a flood of bad tokens from the legitimate clients' own IP."""

from __future__ import annotations

import secrets
import threading
import time

from bench import load
from bench.harness import Context, call, headers

THREADS = 8
ENGAGE_TIMEOUT = 20.0
SHORT_TTL = 2.0


def getter(path: str, tokens: list[str | None]):
    """A request maker: GET `path`, thread i using tokens[i % len(tokens)] (keep-alive)."""
    prepared = [headers(t) for t in tokens]

    def make(index: int, _n: int):
        return "GET", path, None, prepared[index % len(prepared)]

    return make


def whoami(ctx: Context) -> None:
    """Authenticated whoami vs unauthenticated healthz at 8 threads; target >= 70%."""
    tokens = [a.token for a in ctx.setup.agents]
    with ctx.server() as srv:
        both = load.alternate(srv.port, {"healthz (8 threads)": getter("/healthz", [None]),
                                         "whoami (8 threads)": getter("/v1/whoami", tokens)},
                              THREADS, 2 * ctx.duration, server_pid=srv.pid)
        for name, fig in both.items():
            ctx.report.add(ctx.engine, name, fig)
        health, who = both.values()
        if ctx.engine == "sqlite":
            _client_check(ctx, srv, health)
    ratio = who["ok_rps"] / max(health["ok_rps"], 1e-9)
    ctx.report.check(ctx.engine, "whoami/healthz throughput", f"{ratio:.0%} ({who['ok_rps']:.0f}/s)",
                     ">= 70%", ratio >= 0.7 and who["ok"] == who["requests"])


def _client_check(ctx: Context, srv, single: dict) -> None:
    """Same healthz load from 2 processes x 4 threads: if that is much faster, one client process
    (its GIL) was the bottleneck and the figures above understate the server."""
    multi = load.run(srv.port, getter("/healthz", [None]), THREADS, ctx.duration, procs=2, server_pid=srv.pid)
    ctx.report.add(ctx.engine, "healthz (2 procs x 4 threads)", multi)
    gain = multi["ok_rps"] / max(single["ok_rps"], 1e-9)
    ctx.report.check(ctx.engine, "client not the bottleneck", f"2 procs = {gain:.2f}x 1 proc",
                     "<= 1.15x", gain <= 1.15,
                     f"client {single['client_cpu_cores']} cores, server {single['server_cpu_cores']} cores")


def forged_tokens(real_tokens: list[str], count: int = 64) -> list[str]:
    """Well-formed tokens (right prefix, valid checksum) naming real token rows with wrong secrets:
    without a per-IP limit each of them would cost a database lookup and a bcrypt check."""
    from fleetctl.services import tokens as tk

    out = []
    for i in range(count):
        _, fleet_id, token_id, _ = real_tokens[i % len(real_tokens)].split("_", 3)
        body = "".join(secrets.choice(tk.BASE62) for _ in range(tk.SECRET_LEN))
        out.append(f"flt_{fleet_id}_{token_id}_{body}{tk._checksum(int(fleet_id), int(token_id), body)}")
    return out


def _wait_for_limiter(port: int, bad_token: str, timeout: float) -> float | None:
    """Seconds until a forged token from this IP is answered 429 (the limiter engaged), or None."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if call(port, "GET", "/v1/whoami", bad_token)[0] == 429:
            return time.perf_counter() - t0
        time.sleep(0.2)
    return None


def flood(ctx: Context) -> None:
    """Legitimate whoami clients alone, then alongside as many threads flooding forged tokens from
    the same IP (127.0.0.1): at the flood's start (before the per-IP failure limit engages, every
    forged token costs a bcrypt check) and in its steady state; target: legitimate throughput in
    the steady state stays above 50% of normal, every legitimate request answered 200."""
    legit = getter("/v1/whoami", [a.token for a in ctx.setup.agents[:4]])
    bad = forged_tokens([a.token for a in ctx.setup.agents])
    with ctx.server() as srv:
        alone = load.run(srv.port, legit, 4, ctx.duration, server_pid=srv.pid)
        ctx.report.add(ctx.engine, "whoami alone (4 threads)", alone)
        attack: dict = {}
        done = threading.Event()
        attacker = threading.Thread(target=lambda: attack.update(load.run(
            srv.port, getter("/v1/whoami", bad), 4, 2 * ctx.duration + ENGAGE_TIMEOUT + 5, stop=done)))
        attacker.start()
        start = load.run(srv.port, legit, 4, ctx.duration, server_pid=srv.pid)
        ctx.report.add(ctx.engine, "whoami at flood start", start)
        engaged = _wait_for_limiter(srv.port, bad[0], ENGAGE_TIMEOUT)
        steady = load.run(srv.port, legit, 4, ctx.duration, server_pid=srv.pid)
        ctx.report.add(ctx.engine, "whoami in flood steady state", steady)
        fresh_status, _ = call(srv.port, "GET", "/v1/whoami", ctx.setup.spare.token)
        done.set()
        attacker.join()
        ctx.report.add(ctx.engine, "flood (4 threads, bad tokens)", attack)
    checked, refused = attack["statuses"].get("401", 0), attack["statuses"].get("429", 0)
    ratio = steady["ok_rps"] / max(alone["ok_rps"], 1e-9)
    ctx.report.add(ctx.engine, "flood outcome", {
        "start_ratio": round(start["ok_rps"] / max(alone["ok_rps"], 1e-9), 3), "steady_ratio": round(ratio, 3),
        "limiter_engaged_after_s": None if engaged is None else round(engaged, 2),
        "attack_reached_bcrypt": checked, "attack_429": refused,
        "legit_non_200": start["requests"] - start["ok"] + steady["requests"] - steady["ok"],
        "uncached_valid_token_status": fresh_status})
    ctx.report.check(ctx.engine, "legit throughput in flood", f"{ratio:.0%} ({steady['ok_rps']:.0f}/s)",
                     "> 50%, all 200", ratio > 0.5 and steady["ok"] == steady["requests"],
                     f"at flood start {start['ok_rps'] / max(alone['ok_rps'], 1e-9):.0%}; limiter engaged "
                     f"after {engaged if engaged is None else round(engaged, 1)} s; {checked} forged tokens "
                     f"reached bcrypt, {refused} got 429; an uncached valid token from the same IP got "
                     f"{fresh_status}")
    _flood_past_ttl(ctx, legit, bad)


def _flood_past_ttl(ctx: Context, legit, bad: list[str]) -> None:
    """The same flood outlasting the auth cache: with FLEET_AUTH_CACHE_TTL=2 the legitimate tokens
    are verified again while their IP is over its failure limit, as happens to any flood longer
    than the default 30 s TTL; target: every legitimate request still answered 200."""
    with ctx.server(env={"FLEET_AUTH_CACHE_TTL": str(SHORT_TTL)}) as srv:
        load.run(srv.port, legit, 4, 0.3)  # every legitimate token verified once before the flood
        done = threading.Event()
        attacker = threading.Thread(target=lambda: load.run(
            srv.port, getter("/v1/whoami", bad), 4, ctx.duration + ENGAGE_TIMEOUT + SHORT_TTL + 5, stop=done))
        attacker.start()
        engaged = _wait_for_limiter(srv.port, bad[0], ENGAGE_TIMEOUT)
        time.sleep(SHORT_TTL + 0.2)
        steady = load.run(srv.port, legit, 4, ctx.duration, server_pid=srv.pid)
        done.set()
        attacker.join()
    ctx.report.add(ctx.engine, "whoami, flood past cache TTL", steady)
    ctx.report.check(ctx.engine, "flood past auth cache TTL", f"{steady['ok']}/{steady['requests']} ok",
                     "all 200", steady["ok"] == steady["requests"] and steady["requests"] > 0,
                     f"FLEET_AUTH_CACHE_TTL={SHORT_TTL:g}; limiter engaged after "
                     f"{engaged if engaged is None else round(engaged, 1)} s; statuses {steady['statuses']}")
