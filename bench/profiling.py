"""Where the server spends its time under load: py-spy samples the `fleetctl serve` process while
the whoami, message-send and knowledge-publish loads run; the summary lists the hottest functions
(own time and inclusive time) and the share of each library. Raw stacks go to bench/profiles/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench import auth, load, writes
from bench.harness import Context, routes

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
AREAS = (("fleetctl/", "fleetctl"), ("flask/", "flask"), ("werkzeug/", "werkzeug"), ("waitress/", "waitress"),
         ("peewee", "peewee"), ("psycopg", "psycopg"), ("sqlite3", "sqlite3"), ("bcrypt", "bcrypt"),
         ("json/", "json"), ("logging/", "logging"), ("threading", "threading"), ("queue", "queue"))


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter or on PATH (pip install py-spy)."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def _frame(text: str) -> tuple[str, str]:
    match = FRAME.match(text.strip())
    if not match:
        return text.strip(), ""
    path = match["file"]
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return match["func"], path.split("/work/main/", 1)[-1]


def _area(path: str) -> str:
    return next((name for marker, name in AREAS if marker in path), "other")


def summarize(raw: Path, top: int = 12) -> dict:
    """Own and inclusive sample shares per function (file:function), and own share per library."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    ours: Counter = Counter()  # inclusive, fleetctl's own functions only: which of our calls cost
    areas: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        func, path = frames[-1]
        own[f"{path}:{func}"] += n
        areas[_area(path)] += n
        for key in {f"{p}:{f}" for f, p in frames}:
            inclusive[key] += n
            if key.startswith("fleetctl/"):
                ours[key] += n

    def share(counter: Counter) -> list[list]:
        return [[key, round(100 * n / max(total, 1), 1)] for key, n in counter.most_common(top)]

    return {"samples": total, "own_pct": share(own), "fleetctl_inclusive_pct": share(ours),
            "inclusive_pct": share(inclusive), "library_own_pct": share(areas)}


def profile_load(ctx: Context, srv, name: str, make, threads: int, idle: bool) -> dict:
    """Run one load while py-spy records the server; returns the summary."""
    PROFILE_DIR.mkdir(exist_ok=True)
    raw = PROFILE_DIR / f"{ctx.engine}-{name.replace(' ', '_')}{'-wall' if idle else ''}.txt"
    seconds = max(3, int(ctx.duration) + 1)
    # --gil: only the thread holding the GIL is sampled (the server is one GIL-bound process);
    # --idle: every thread, waiting or not (where a request's wall time goes)
    cmd = [py_spy(), "record", "--pid", str(srv.pid), "--format", "raw", "--rate", "250", "--duration",
           str(seconds), "--nonblocking", "-o", str(raw), "--idle" if idle else "--gil"]
    load.run(srv.port, make, threads, 0.5)  # warm up first: token checks (bcrypt) are not the subject
    spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    figures = load.run(srv.port, make, threads, seconds - 0.5, server_pid=srv.pid)
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0 or not raw.exists():
        return {"error": err.decode(errors="replace")[-300:]}
    return {"load": {k: figures[k] for k in ("rps", "p50_ms", "p99_ms", "server_cpu_cores")},
            "raw": str(raw), **summarize(raw)}


def measure(ctx: Context) -> None:
    """GIL profiles (what runs Python code) of whoami and of both writes at 8 agents, plus a
    wall-clock profile (idle threads included: waits on locks and the database) of message send."""
    if not py_spy():
        ctx.report.skip(ctx.engine, "profile", "py-spy not installed (pip install py-spy)")
        return
    agents = ctx.setup.agents
    with ctx.server() as srv:
        available = routes(srv.port)
        jobs = [("whoami", auth.getter("/v1/whoami", [a.token for a in agents]), False)]
        for name, (route, maker) in writes.WORKLOADS.items():
            if route in available:
                jobs.append((name, maker(agents), False))
        if "POST /v1/messages" in available:
            jobs.append(("msg send", writes.sender(agents), True))
        for name, make, idle in jobs:
            summary = profile_load(ctx, srv, name, make, 8, idle)
            ctx.report.add(ctx.engine, f"profile {name}{' (wall)' if idle else ''}", summary)
            for label in ("library_own_pct", "own_pct", "fleetctl_inclusive_pct"):
                print(f"      {label}: " + "; ".join(f"{key} {pct}%" for key, pct in summary.get(label, [])[:8]))
