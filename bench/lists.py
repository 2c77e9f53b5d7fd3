"""Bounded answers under load: four clients list 100 knowledge entries of 1 MiB each, over and over;
the server's resident memory (sampled from /proc) must stay under 300 MB while another fleet's
whoami stays fast. Lists carry a 280-character preview, so the bodies never leave the database."""

from __future__ import annotations

import json
import threading
import time

from bench import load
from bench.auth import getter
from bench.harness import Context, call, headers

CLIENTS = 4
ENTRY_CHARS = 1024 * 1024 - 64  # just under the 1 MiB body limit
TARGET_MB = 300


def _rss_kb(pid: int, key: str = "VmRSS") -> int:
    """A line of /proc/PID/status in kB (VmRSS now, VmHWM the peak so far)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def seed(ctx: Context, entries: int) -> str:
    """`entries` knowledge entries of 1 MiB in the bench fleet, and a token of another fleet."""
    from fleetctl.models.core import Fleet, Member
    from fleetctl.services import knowledge, members

    name, _, bare = ctx.setup.owner.address.partition("/")
    owner = Member.select(Member, Fleet).join(Fleet).where(Fleet.name == name, Member.name == bare).get()
    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * (ENTRY_CHARS // 56 + 1))[:ENTRY_CHARS]
    for n in range(entries):
        knowledge.publish(owner, "tip", f"big entry {n}", body=words)
    _, _, token = members.create_fleet(f"lists-other-{int(time.time())}")
    return token


def measure(ctx: Context) -> None:
    """Peak server RSS while CLIENTS threads list 100 entries of 1 MiB; target < 300 MB."""
    entries = 25 if ctx.quick else 100
    ctx.use_database()
    other = seed(ctx, entries)
    tokens = [a.token for a in ctx.setup.agents[:CLIENTS]]
    path = f"/v1/knowledge?limit={entries}"
    with ctx.server() as srv:
        status, page = call(srv.port, "GET", path, tokens[0])
        size = len(json.dumps(page).encode())
        assert status == 200 and len(page["items"]) == entries, (status, str(page)[:200])
        before = _rss_kb(srv.pid)
        peak, stop = [before], threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                peak.append(_rss_kb(srv.pid))

        whoami: dict = {}
        sampler = threading.Thread(target=sample)
        other_fleet = threading.Thread(target=lambda: whoami.update(load.timed_calls(
            srv.port, lambda _i, _n: ("GET", "/v1/whoami", None, headers(other)), 20)))
        sampler.start()
        other_fleet.start()
        lists = load.run(srv.port, getter(path, tokens), CLIENTS, ctx.duration, server_pid=srv.pid)
        other_fleet.join()
        stop.set()
        sampler.join()
        hwm = _rss_kb(srv.pid, "VmHWM")
    figures = {"entries": entries, "entry_chars": ENTRY_CHARS, "response_bytes": size,
               "rss_before_mb": round(before / 1024, 1), "rss_peak_mb": round(max(peak) / 1024, 1),
               "vmhwm_mb": round(hwm / 1024, 1), "lists_ok": lists["ok"], "list_p50_ms": lists["p50_ms"],
               "list_p99_ms": lists["p99_ms"], "other_fleet_whoami_p99_ms": whoami.get("p99_ms")}
    ctx.report.add(ctx.engine, f"{CLIENTS} clients listing {entries} entries of 1 MiB", figures)
    peak_mb = max(max(peak), hwm) / 1024
    ctx.report.check(ctx.engine, "server memory while listing large entries", f"{peak_mb:.0f} MB peak",
                     f"< {TARGET_MB} MB", peak_mb < TARGET_MB and lists["ok"] == lists["requests"] > 0,
                     f"{lists['ok']} lists of {size} bytes each, p50 {lists['p50_ms']} ms; another fleet's "
                     f"whoami p99 {whoami.get('p99_ms')} ms")
