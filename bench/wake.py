"""The wake's cost grows with the member's own news only. Two targets, each timed on two databases
served side by side with the requests alternating (so a busy moment of a shared machine slows both
alike):

- a reader's wake (peek, the same pending news on both sides) with 100,000 changes of another fleet
  written after its mark, against none: within 1.5x (median latency);
- a knowledge publish in a fleet of 1,000 members against one of 10: within 2x (median latency).
"""

from __future__ import annotations

import json
import time

from bench import harness, seed
from bench.auth import getter
from bench.harness import Context, headers
from bench.scale import _paired

NOISE = 100_000
QUICK_NOISE = 20_000
WAKE_TARGET = 1.5
PUBLISH_TARGET = 2.0
MEMBERS = (10, 1000)


def _noisy_fleet(count: int) -> None:
    """Another fleet with its own agents, writing `count` changes (half entries in the reader's own
    domain names, half messages between its members)."""
    from fleetctl.services import members

    fleet, owner, _ = members.create_fleet("noise", harness.UNLIMITED)
    for i in range(harness.AGENTS):
        members.register(owner, f"agent-{i}", "agent", ["d1"], rate_limit=harness.UNLIMITED)
    members.register(owner, "reader", "agent", ["d1"], rate_limit=harness.UNLIMITED)
    seed.knowledge("noise", count // 2)
    seed.messages("noise", count - count // 2)


def _reader_news() -> None:
    """The same pending news for the bench fleet's reader on both sides: messages, tasks, entries."""
    seed.knowledge("bench", 200)
    seed.messages("bench", 90)
    seed.tasks("bench", 20)


def _crowd(total: int) -> None:
    """Members of the bench fleet up to `total`, written in bulk (they need no tokens to be woken)."""
    from fleetctl import db
    from fleetctl.models.core import Fleet, Member
    from fleetctl.models.wake import WakeMarks
    from fleetctl.wake_layout import MARKED

    fleet = Fleet.get(Fleet.name == "bench")
    have = Member.select().where(Member.fleet == fleet.id).count()
    rows = [{"fleet": fleet.id, "name": f"crowd-{i}", "role": "agent", "domains": [f"d{i % 20}"]}
            for i in range(max(total - have, 0))]
    with db.write():
        for start in range(0, len(rows), 400):
            Member.insert_many(rows[start:start + 400]).execute()
        ids = [m.id for m in Member.select(Member.id).where(Member.fleet == fleet.id, Member.name.startswith("crowd-"))]
        for start in range(0, len(ids), 400):
            WakeMarks.insert_many([{"member": i, **dict.fromkeys(MARKED, 0)} for i in ids[start:start + 400]]) \
                .on_conflict_ignore().execute()


def _publisher(token: str):
    """A request maker: POST a new tip in domain d1 each time."""
    prepared = headers(token, body=True)

    def make(_index: int, n: int):
        body = json.dumps({"kind": "tip", "title": f"bench tip {n}", "domains": ["d1"]})
        return "POST", "/v1/knowledge", body, prepared

    return make


def _pair(ctx: Context, name: str, prepare_a, prepare_b):
    """Two fresh databases prepared by `prepare_a` / `prepare_b`, served side by side."""
    sides = []
    with harness.FreshDatabase(ctx.pg_url, ctx.workdir / f"{name}-a") as a_db, \
            harness.FreshDatabase(ctx.pg_url, ctx.workdir / f"{name}-b") as b_db:
        for fresh, prepare in ((a_db, prepare_a), (b_db, prepare_b)):
            setup = harness.bootstrap(fresh.url)
            t0 = time.perf_counter()
            prepare()
            seed.analyze()
            sides.append((harness.Context(ctx.engine, fresh.url, setup, fresh.workdir, ctx.duration, ctx.quick,
                                          ctx.report), time.perf_counter() - t0))
        yield sides


def _check(ctx: Context, name: str, a: dict, b: dict, target: float, labels: tuple[str, str]) -> None:
    ctx.report.add(ctx.engine, f"{name} @ {labels[0]}", a)
    ctx.report.add(ctx.engine, f"{name} @ {labels[1]}", b)
    ratio = b["p50_ms"] / max(a["p50_ms"], 1e-6)
    ok = a["ok"] == a["requests"] and b["ok"] == b["requests"]
    ctx.report.check(ctx.engine, f"{name} {labels[1]}/{labels[0]}", f"{b['p50_ms']:.1f} ms = {ratio:.2f}x",
                     f"<= {target}x ({a['p50_ms']:.1f} ms)", ratio <= target and ok,
                     "" if ok else f"statuses {a['statuses']} / {b['statuses']}")


def measure(ctx: Context) -> None:
    """Both targets: the wake against other fleets' traffic, the publish against the fleet's size."""
    noise = QUICK_NOISE if ctx.quick else NOISE
    calls = 15 if ctx.quick else 40
    for sides in _pair(ctx, "wake", _reader_news, lambda: (_reader_news(), _noisy_fleet(noise))):
        (quiet, _), (loud, seconds) = sides
        ctx.report.add(ctx.engine, f"seed {noise // 1000}k other-fleet changes", {"seconds": round(seconds, 1)})
        with quiet.server() as srv_a, loud.server() as srv_b:
            a, b = _paired(srv_a.port, getter("/v1/wake", [quiet.setup.reader.token]),
                           srv_b.port, getter("/v1/wake", [loud.setup.reader.token]), calls)
        _check(ctx, "wake peek, other fleets", a, b, WAKE_TARGET, ("none", f"{noise // 1000}k"))
    for sides in _pair(ctx, "publish", lambda: _crowd(MEMBERS[0]), lambda: _crowd(MEMBERS[1])):
        (small, _), (large, _) = sides
        with small.server() as srv_a, large.server() as srv_b:
            a, b = _paired(srv_a.port, _publisher(small.setup.agents[0].token),
                           srv_b.port, _publisher(large.setup.agents[0].token), calls)
        _check(ctx, "knowledge publish", a, b, PUBLISH_TARGET, tuple(f"{n} members" for n in MEMBERS))
