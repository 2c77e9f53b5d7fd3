"""The console's cost to the API: another fleet's API latency with no console session, while one session
browses at a very busy human's pace (2 pages a second), and while it browses flat out (no pause at all)."""

from __future__ import annotations

import http.client
import re
import threading
import time
from urllib.parse import urlencode

from bench import load
from bench.harness import UNLIMITED, Context

API_THREADS = 2
SLICE = 0.5  # seconds each condition lasts before the next takes its turn
# condition -> seconds between two console pages (None: no console session at all, 0: no pause)
CONDITIONS = {"no console": None, "console at 2 pages/s": 0.5, "console flat out": 0.0}


def _seed() -> tuple[str, list[str]]:
    """A second fleet with work to review (in the database this process has open); returns its owner's
    token and the console pages the session cycles through."""
    from fleetctl.services import knowledge, members, task_actions, tasks

    _, owner, token = members.create_fleet("console-bench", UNLIMITED)
    members.update(owner, owner.name, {"rate_limit": UNLIMITED})
    members.register(owner, "worker", rate_limit=UNLIMITED)
    agent = members.get_in_fleet(owner, "worker")
    ids = []
    for n in range(20):
        task = tasks.create(owner, f"Task {n}", body="Some **markdown** body.\n\n- a\n- b", priority="high",
                            assign="worker")
        for action in ("accept", "start", "submit"):
            task_actions.act(agent, task["id"], action, note="done" if action == "submit" else None)
        knowledge.publish(agent, "tip", f"Tip {n}", body="text " * 50)
        ids.append(task["id"])
    pages = ["/ui/review", "/ui/tasks", f"/ui/tasks/{ids[0]}", "/ui/knowledge", "/ui/inbox", "/ui/members"]
    return token, pages


def _sign_in(port: int, token: str) -> str:
    """The Cookie header of a fresh console session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/ui/signin")
    page = conn.getresponse()
    pre = re.search(r"fleet_console_signin=([^;]+)", page.headers["Set-Cookie"])[1]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())[1]
    conn.request("POST", "/ui/signin", body=urlencode({"csrf": csrf, "token": token}),
                 headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"fleet_console_signin={pre}"})
    done = conn.getresponse()
    body = done.read().decode(errors="replace")
    conn.close()
    cookie = re.search(r"fleet_console=([^;]+)", done.headers.get("Set-Cookie") or "")
    if cookie is None:
        alert = re.search(r'role="alert">([^<]*)<', body)
        raise RuntimeError(f"console sign-in failed: {done.status} {alert[1] if alert else body[:200]}")
    return "fleet_console=" + cookie[1]


def _api_client(port: int, token: str, conductor: dict, stop: threading.Event, out: dict) -> None:
    """Closed-loop GET /v1/tasks of the benchmark fleet; each latency counts for the condition it ran in."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        mode = conductor["mode"]
        t0 = time.perf_counter()
        conn.request("GET", "/v1/tasks", headers=headers)
        response = conn.getresponse()
        response.read()
        if conductor["mode"] == mode:  # a request that spans a switch belongs to neither condition
            out[mode].append(time.perf_counter() - t0)
            out["statuses"][response.status] = out["statuses"].get(response.status, 0) + 1
    conn.close()


def _browse(port: int, cookie: str, pages: list[str], conductor: dict, stop: threading.Event, seen: dict) -> None:
    """One console session: pages on one keep-alive connection, at the pace the current condition says."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    n = 0
    while not stop.is_set():
        pause = CONDITIONS[conductor["mode"]]
        if pause is None:
            stop.wait(0.01)
            continue
        conn.request("GET", pages[n % len(pages)], headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        seen[response.status] = seen.get(response.status, 0) + 1
        n += 1
        if pause:
            stop.wait(pause)
    conn.close()


def _ms(values: list[float], q: float) -> float:
    return round(load.percentile(sorted(values), q) * 1000, 2)


def measure(ctx: Context) -> None:
    """Another fleet's API latency (2 closed-loop clients, GET /v1/tasks) with no console session, with one
    browsing at a very busy human's pace and with one browsing flat out. The conditions take turns every
    SLICE seconds for the whole run, so the shared machine's load swings weigh on all three alike.
    Target: median latency at human pace within +10% of the median with no console."""
    ctx.use_database()
    token, pages = _seed()
    conductor = {"mode": "no console"}
    samples: dict = {mode: [] for mode in CONDITIONS} | {"statuses": {}}
    seen: dict = {}
    stop = threading.Event()
    with ctx.server() as srv:
        cookie = _sign_in(srv.port, token)
        threads = [threading.Thread(target=_api_client, args=(srv.port, agent.token, conductor, stop, samples))
                   for agent in ctx.setup.agents[:API_THREADS]]
        threads.append(threading.Thread(target=_browse, args=(srv.port, cookie, pages, conductor, stop, seen)))
        for thread in threads:
            thread.start()
        for n in range(max(3, int(3 * ctx.duration / SLICE))):
            conductor["mode"] = list(CONDITIONS)[n % len(CONDITIONS)]
            time.sleep(SLICE)
        stop.set()
        for thread in threads:
            thread.join()
    figures = {mode: {"requests": len(samples[mode]), "p50_ms": _ms(samples[mode], 50),
                      "p99_ms": _ms(samples[mode], 99)} for mode in CONDITIONS}
    for mode, fig in figures.items():
        ctx.report.add(ctx.engine, f"API, {mode}", fig)
    base, busy, flat = (figures[mode]["p50_ms"] for mode in CONDITIONS)
    ok = set(seen) == {200} and set(samples["statuses"]) == {200}
    ctx.report.check(ctx.engine, "API p50, busy console", f"{busy / base - 1:+.0%} ({busy:.1f} ms)", "<= +10%",
                     busy <= base * 1.10 and ok,
                     f"no console {base:.1f} ms; console flat out {flat / base - 1:+.0%} ({flat:.1f} ms); "
                     f"console pages {seen}; API statuses {samples['statuses']}")
