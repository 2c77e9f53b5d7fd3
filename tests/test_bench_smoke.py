"""The benchmark still runs: a tiny `bench/run.py` subset as a subprocess, checked for its JSON shape
(no timing targets are asserted here; they belong to the benchmark's own report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_quick_whoami_writes_results_json(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "whoami", "--duration", "0.3",
         "--json", str(out)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "FLEET_BCRYPT_ROUNDS": "4"})
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(out.read_text())
    assert set(data) == {"meta", "figures", "checks", "summary"}
    assert data["meta"]["quick"] is True
    figures = data["figures"]["sqlite"]
    for name in ("healthz (8 threads)", "whoami (8 threads)"):
        fig = figures[name]
        assert fig["requests"] > 0 and fig["ok"] == fig["requests"]
        assert {"rps", "p50_ms", "p99_ms", "errors_5xx", "client_cpu_cores", "server_cpu_cores"} <= set(fig)
    names = {c["name"] for c in data["checks"]}
    assert "whoami/healthz throughput" in names
    assert all(c["result"] in ("PASS", "FAIL", "SKIP") and c["engine"] == "sqlite" for c in data["checks"])
    assert sum(data["summary"].values()) == len(data["checks"])
    assert "whoami/healthz throughput" in done.stdout  # the table is printed too


def test_bench_rejects_unknown_measurement():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--only", "nope"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "unknown measurement" in done.stderr
