"""The change sequence behind wake cursors, on both engines: sequence order is commit order, so a
reader of `seq > cursor` never skips a change that commits late (PostgreSQL: an advisory lock in
changes.record; SQLite: one writer at a time)."""

from __future__ import annotations

import random
import threading
import time


def test_change_sequence_never_lets_a_cursor_skip_a_late_commit(make_fleet, server):
    """Sequence order is commit order: a reader of `seq > cursor` never passes an uncommitted change."""
    from fleetctl import db
    from fleetctl.models.core import Change, Fleet
    from fleetctl.services import changes

    fleet_id = Fleet.get(Fleet.name == make_fleet("seq").name).id
    cursor = Change.select(Change.seq).order_by(Change.seq.desc()).scalar() or 0
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()
    seqs = {}

    def slow():
        with db.write():
            seqs["slow"] = changes.record("task", 1, fleet_id, "slow", ["test:slow"])
            inserted.set()
            release.wait(10)

    def fast():
        inserted.wait(10)
        with db.write():
            seqs["fast"] = changes.record("task", 2, fleet_id, "fast", ["test:fast"])
        done.set()

    threads = [threading.Thread(target=slow), threading.Thread(target=fast)]
    for thread in threads:
        thread.start()
    inserted.wait(10)
    # The fast transaction must wait for the slow one instead of committing a later sequence number
    # first: a reader advancing its cursor to that number would never see the slow change.
    assert not done.wait(0.5)
    assert list(Change.select().where(Change.seq > cursor, Change.fleet == fleet_id)) == []
    release.set()
    for thread in threads:
        thread.join(10)
    seen = [(c.seq, c.event) for c in Change.select().where(Change.seq > cursor, Change.fleet == fleet_id)
            .order_by(Change.seq)]
    assert [event for _, event in seen] == ["slow", "fast"] and seqs["slow"] < seqs["fast"]


def test_concurrent_writers_and_a_polling_reader_never_skip_a_change(make_fleet, server):
    from fleetctl import db
    from fleetctl.models.core import Change, Fleet
    from fleetctl.services import changes

    fleet_id = Fleet.get(Fleet.name == make_fleet("seqload").name).id
    start = Change.select(Change.seq).order_by(Change.seq.desc()).scalar() or 0
    written, seen, stop = [], [], threading.Event()
    lock = threading.Lock()

    def writer(n: int) -> None:
        rng = random.Random(n)
        for i in range(8):
            with db.write():
                # Ids no real task of the shared test database has (a test reading a task's changes would see these).
                seq = changes.record("task", 2**30 + n * 100 + i, fleet_id, "load", ["test:load"])
                time.sleep(rng.random() * 0.004)  # hold the transaction open a little
            with lock:
                written.append(seq)

    def reader() -> None:
        cursor = start
        while True:
            final = stop.is_set()
            rows = [c.seq for c in Change.select(Change.seq).where(Change.seq > cursor, Change.fleet == fleet_id)
                    .order_by(Change.seq)]
            seen.extend(rows)
            cursor = rows[-1] if rows else cursor
            if final:
                return
            time.sleep(0.001)

    poller = threading.Thread(target=reader)
    poller.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(30)
    stop.set()
    poller.join(30)
    assert sorted(seen) == sorted(written) and len(seen) == 48  # nothing skipped, nothing twice
