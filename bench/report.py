"""What a run found: the figures of every measurement, PASS/FAIL against each target, as a table
and as JSON."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Check:
    engine: str
    name: str
    value: str
    target: str
    result: str  # PASS | FAIL | SKIP
    detail: str = ""


@dataclass
class Report:
    meta: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)  # engine -> measurement -> figures
    checks: list[Check] = field(default_factory=list)

    def add(self, engine: str, name: str, figures: dict) -> None:
        """Store the figures of one measurement (and print its line at once)."""
        self.figures.setdefault(engine, {})[name] = figures
        print(f"  {engine:8} {name:28} {_brief(figures)}", flush=True)

    def check(self, engine: str, name: str, value: str, target: str, passed: bool | None,
              detail: str = "") -> None:
        """Record a target: passed True/False, or None when it could not be measured (SKIP)."""
        result = "SKIP" if passed is None else ("PASS" if passed else "FAIL")
        self.checks.append(Check(engine, name, value, target, result, detail))
        print(f"  {engine:8} {name:28} {value:>22}  target {target:24} {result}"
              + (f"  ({detail})" if detail else ""), flush=True)

    def skip(self, engine: str, name: str, why: str) -> None:
        self.check(engine, name, "-", "-", None, why)

    def table(self) -> str:
        """The figures and the checks as two plain-text tables."""
        lines = [f"{'engine':8} {'measurement':30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5} "
                 f"{'client cpu':>10} {'server cpu':>10}"]
        for engine, measurements in self.figures.items():
            for name, fig in measurements.items():
                if "p50_ms" not in fig:
                    continue
                lines.append(f"{engine:8} {name:30} {fig.get('rps', ''):>9} {fig['p50_ms']:>8} "
                             f"{fig['p99_ms']:>8} {fig.get('errors_5xx', ''):>5} "
                             f"{fig.get('client_cpu_cores', ''):>10} {fig.get('server_cpu_cores', ''):>10}")
        lines.append("")
        lines.append(f"{'engine':8} {'check':30} {'value':>24}  {'target':26} result")
        for c in self.checks:
            lines.append(f"{c.engine:8} {c.name:30} {c.value:>24}  {c.target:26} {c.result}"
                         + (f"  ({c.detail})" if c.detail else ""))
        return "\n".join(lines)

    def write_json(self, path: Path) -> None:
        data = {"meta": self.meta, "figures": self.figures, "checks": [asdict(c) for c in self.checks],
                "summary": {r: sum(1 for c in self.checks if c.result == r) for r in ("PASS", "FAIL", "SKIP")}}
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def _brief(fig: dict) -> str:
    if "p50_ms" in fig:
        extra = f" 5xx={fig['errors_5xx']}" if fig.get("errors_5xx") else ""
        return (f"{fig.get('rps', '-'):>8} req/s p50 {fig['p50_ms']} ms p99 {fig['p99_ms']} ms"
                f"{extra} statuses={fig.get('statuses', {})}")
    return json.dumps(fig, default=str)[:160]


def meta(args) -> dict:
    """Where and how the run happened."""
    import os

    return {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": platform.python_version(),
            "machine": platform.machine(), "cpus": os.cpu_count(), "quick": args.quick,
            "duration_s": args.duration, "only": args.only, "postgres": bool(args.db),
            # the machine may be shared: a busy one (load above its CPU count) slows every figure
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}
