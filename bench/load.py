"""Closed-loop HTTP load: N client threads (optionally in several processes), one keep-alive
connection each, every request timed; the client's and the server's CPU are measured too."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# make(thread_index, n) -> (method, path, body bytes or None, headers)
RequestMaker = Callable[[int, int], tuple[str, str, bytes | None, dict]]

WARMUP_REQUESTS = 3
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    """What one load run saw: latencies (seconds), statuses, CPU seconds used by the client."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    client_cpu: float = 0.0


def server_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process `pid` (all its threads), from /proc."""
    if not pid:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _send(conn: http.client.HTTPConnection, port: int, make: RequestMaker, index: int, n: int):
    """One timed request; returns (connection to reuse, status, seconds)."""
    method, path, body, headers = make(index, n)
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        status: int | str = response.status
    except (OSError, http.client.HTTPException):
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status = "conn-error"
    return conn, status, time.perf_counter() - t0


def _worker(port: int, make: RequestMaker, index: int, duration: float, barrier, sample: Sample,
            lock: threading.Lock, stop: threading.Event) -> None:
    """Warm up (first requests verify tokens with bcrypt), wait for every client, then loop."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for n in range(WARMUP_REQUESTS):
        conn, _, _ = _send(conn, port, make, index, n)
    barrier.wait()
    stop_at = time.perf_counter() + duration
    latencies: list[float] = []
    statuses: Counter = Counter()
    n = WARMUP_REQUESTS
    while time.perf_counter() < stop_at and not stop.is_set():
        conn, status, seconds = _send(conn, port, make, index, n)
        n += 1
        latencies.append(seconds)
        statuses[status] += 1
    conn.close()
    with lock:
        sample.latencies.extend(latencies)
        sample.statuses.update(statuses)


def _meter(barrier, duration: float, reading: Callable[[], float], out: list,
           stop: threading.Event) -> threading.Thread:
    """A thread that reads a CPU counter when the clients start and when they stop; `out` gets
    (counter difference, seconds elapsed)."""

    def body():
        barrier.wait()
        first, t0 = reading(), time.perf_counter()
        stop.wait(duration)
        out.append((reading() - first, time.perf_counter() - t0))

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def _run_threads(port: int, make: RequestMaker, threads: int, first_index: int, duration: float,
                 barrier, stop: threading.Event | None = None) -> Sample:
    sample = Sample()
    lock = threading.Lock()
    stop = stop or threading.Event()
    cpu: list[tuple[float, float]] = []
    meter = _meter(barrier, duration, _cpu_self, cpu, stop)
    workers = [threading.Thread(target=_worker, args=(port, make, first_index + i, duration, barrier,
                                                      sample, lock, stop), daemon=True)
               for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    meter.join()
    sample.client_cpu = cpu[0][0] if cpu else 0.0
    return sample


def _child(conn, port, make, threads, first_index, duration, barrier) -> None:
    sample = _run_threads(port, make, threads, first_index, duration, barrier)
    conn.send((sample.latencies, dict(sample.statuses), sample.client_cpu))
    conn.close()


def run(port: int, make: RequestMaker, threads: int, duration: float, procs: int = 1,
        server_pid: int | None = None, stop: threading.Event | None = None) -> dict:
    """Run `threads` closed-loop clients for `duration` seconds (after each has warmed up; or until
    `stop` is set, with one process) and return throughput, latency percentiles, statuses and the
    CPU use of both sides."""
    sample, elapsed, cpu = _measure(port, make, threads, duration, procs, server_pid, stop)
    return summarize(sample, elapsed, threads, procs, cpu)


def alternate(port: int, makers: dict[str, RequestMaker], threads: int, duration: float, rounds: int = 3,
              server_pid: int | None = None) -> dict[str, dict]:
    """Several loads compared with each other: run in turn, `rounds` times, `duration / rounds` each,
    so a busy moment of a shared machine weighs on all of them alike."""
    totals = {name: [Sample(), 0.0, 0.0] for name in makers}
    for _ in range(rounds):
        for name, make in makers.items():
            sample, elapsed, cpu = _measure(port, make, threads, duration / rounds, 1, server_pid, None)
            total = totals[name]
            total[0].latencies += sample.latencies
            total[0].statuses.update(sample.statuses)
            total[0].client_cpu += sample.client_cpu
            total[1] += elapsed
            total[2] += cpu
    return {name: summarize(sample, elapsed, threads, 1, cpu) for name, (sample, elapsed, cpu) in totals.items()}


def _measure(port: int, make: RequestMaker, threads: int, duration: float, procs: int,
             server_pid: int | None, stop: threading.Event | None) -> tuple[Sample, float, float]:
    """One load run: the sample, the seconds it lasted and the server's CPU seconds meanwhile."""
    ctx = multiprocessing.get_context("fork")
    procs = max(1, procs)
    # every client thread, one CPU meter per client process and the server's meter start together
    barrier = ctx.Barrier(threads + procs + 1, timeout=120)
    stop = stop or threading.Event()
    srv_cpu: list[tuple[float, float]] = []
    srv_meter = _meter(barrier, duration, lambda: server_cpu_seconds(server_pid), srv_cpu, stop)
    if procs == 1:
        sample = _run_threads(port, make, threads, 0, duration, barrier, stop)
    else:
        per = [threads // procs + (1 if i < threads % procs else 0) for i in range(procs)]
        pipes, children, first = [], [], 0
        for count in per:
            parent, child = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_child, args=(child, port, make, count, first, duration, barrier))
            p.start()
            pipes.append(parent)
            children.append(p)
            first += count
        sample = Sample()
        for parent, p in zip(pipes, children, strict=True):
            lat, statuses, cpu = parent.recv()
            sample.latencies.extend(lat)
            sample.statuses.update(statuses)
            sample.client_cpu += cpu
            p.join()
    stop.set()
    srv_meter.join()
    cpu, elapsed = srv_cpu[0] if srv_cpu else (0.0, duration)
    return sample, elapsed, cpu if server_pid else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank of already-sorted values."""
    if not values:
        return 0.0
    rank = max(0, min(len(values) - 1, int(round(q / 100 * len(values) + 0.5)) - 1))
    return values[rank]


def summarize(sample: Sample, duration: float, threads: int, procs: int, srv_cpu: float) -> dict:
    """Turn a Sample into the figures the report shows (ms, requests/s, CPU in cores)."""
    lat = sorted(sample.latencies)
    statuses = {str(k): v for k, v in sorted(sample.statuses.items(), key=lambda kv: str(kv[0]))}
    ok = sum(v for k, v in sample.statuses.items() if isinstance(k, int) and k < 400)
    errors_5xx = sum(v for k, v in sample.statuses.items() if not isinstance(k, int) or k >= 500)
    return {
        "threads": threads, "procs": procs, "duration_s": round(duration, 2),
        "requests": len(lat), "ok": ok, "rps": round(len(lat) / duration, 1),
        "ok_rps": round(ok / duration, 1),
        "p50_ms": round(percentile(lat, 50) * 1000, 2), "p99_ms": round(percentile(lat, 99) * 1000, 2),
        "max_ms": round((lat[-1] if lat else 0) * 1000, 2),
        "statuses": statuses, "errors_5xx": errors_5xx,
        "client_cpu_cores": round(sample.client_cpu / duration, 2),
        "server_cpu_cores": round(srv_cpu / duration, 2),
        # CPU the server spent per request: steadier than throughput on a shared, busy machine
        "server_cpu_ms_per_req": round(1000 * srv_cpu / len(lat), 3) if lat and srv_cpu else None,
    }


def timed_calls(port: int, make: RequestMaker, count: int) -> dict:
    """`count` sequential requests on one connection, after a warm-up (latency, not throughput)."""
    sample = Sample()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for n in range(WARMUP_REQUESTS):
        conn, _, _ = _send(conn, port, make, 0, n)
    t0 = time.perf_counter()
    for n in range(WARMUP_REQUESTS, WARMUP_REQUESTS + count):
        conn, status, seconds = _send(conn, port, make, 0, n)
        sample.latencies.append(seconds)
        sample.statuses[status] += 1
    conn.close()
    return summarize(sample, time.perf_counter() - t0, 1, 1, 0.0)
