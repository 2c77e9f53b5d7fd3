"""The change sequence behind wake marks, on both engines: a reader that advances its mark never
passes a change that commits late. PostgreSQL: writers draw numbers concurrently (a shared advisory
lock) and readers stop at `changes.horizon()`; SQLite: one writer at a time, no horizon."""

from __future__ import annotations

import random
import threading
import time

WRITERS, WRITES = 8, 12  # concurrent writers, changes each


def _owner(name: str):
    from fleetctl.models.core import Fleet, Member

    return Member.select().join(Fleet).where(Fleet.name == name).get()


def _read(member, mark: int) -> tuple[list[int], int]:
    """What the wake reads for `member`'s messages after `mark` (wake_read, bounded by the horizon as
    wake.peek bounds it): the change numbers read, and the mark once they are handed over."""
    from fleetctl.services import changes, wake_read

    def classify(_member, runs):
        return [wake_read.Item(run.first, {"seqs": [row[0] for row in run.rows]}) for run in runs]

    section = wake_read.read(member, "messages", mark, classify, changes.horizon())
    return [seq for item in section.items for seq in item.data["seqs"]], section.end


def test_a_reader_never_passes_a_change_that_commits_late(make_fleet, server):
    """A change numbered first but committed last: the reader waits for it (PostgreSQL) or the later
    writer does (SQLite); either way no read shows the later change without the earlier one."""
    from fleetctl import db
    from fleetctl.services import changes, wake_streams

    member = _owner(make_fleet("seq").name)
    stream = [wake_streams.to_member("messages", member.id)]
    mark = _read(member, 0)[1]
    inserted, release, fast_done = threading.Event(), threading.Event(), threading.Event()
    seqs, reads = {}, []

    def slow():
        with db.write():
            seqs["slow"] = changes.record("message", 2**30 + 1, member.fleet_id, "received", stream)
            inserted.set()
            release.wait(10)

    def fast():
        inserted.wait(10)
        with db.write():
            seqs["fast"] = changes.record("message", 2**30 + 2, member.fleet_id, "received", stream)
        fast_done.set()

    def reader():
        reads.append(_read(member, mark))

    writers = [threading.Thread(target=slow), threading.Thread(target=fast)]
    for thread in writers:
        thread.start()
    inserted.wait(10)
    if server.engine == "postgres":
        assert fast_done.wait(10)  # writers do not wait for each other: the later number commits first
    else:
        assert not fast_done.wait(0.5)  # one writer at a time
    poller = threading.Thread(target=reader)
    poller.start()
    poller.join(0.5)
    if server.engine == "postgres":
        assert poller.is_alive() and not reads  # the horizon waits for the writer that drew a number
    release.set()
    for thread in [*writers, poller]:
        thread.join(10)
    both = ([seqs["slow"], seqs["fast"]], seqs["fast"])
    assert seqs["slow"] < seqs["fast"]
    # Read while the slow writer was open (SQLite) or once it committed: never the fast change alone.
    assert reads in ([both], [([], mark)], [([seqs["slow"]], seqs["slow"])])
    if server.engine == "postgres":
        assert reads == [both]
    assert _read(member, mark) == both


def test_concurrent_writers_and_a_reader_advancing_its_mark_see_every_change_once(make_fleet, server):
    """Writers that hold their transaction open for a random while after drawing their number, and a
    reader that reads and advances its mark as fast as it can: it sees every change exactly once."""
    from fleetctl import db
    from fleetctl.services import changes, wake_streams

    member = _owner(make_fleet("seqload").name)
    stream = [wake_streams.to_member("messages", member.id)]
    start = _read(member, 0)[1]
    written, seen, stop = [], [], threading.Event()
    lock = threading.Lock()
    open_now, most_open = [0], [0]

    def writer(n: int) -> None:
        rng = random.Random(n)
        for i in range(WRITES):
            with db.write():
                # Ids no real message of the shared test database has.
                seq = changes.record("message", 2**30 + n * 100 + i, member.fleet_id, "received", stream)
                with lock:
                    open_now[0] += 1
                    most_open[0] = max(most_open[0], open_now[0])
                time.sleep(rng.random() * 0.01)  # numbered, not yet committed
                with lock:
                    open_now[0] -= 1
            with lock:
                written.append(seq)

    def reader() -> None:
        mark = start
        while True:
            final = stop.is_set()
            rows, mark = _read(member, mark)
            seen.extend(rows)
            if final:
                return
            time.sleep(0.0005)

    poller = threading.Thread(target=reader)
    poller.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    stop.set()
    poller.join(60)
    assert len(written) == WRITERS * WRITES
    missed, twice = set(written) - set(seen), len(seen) - len(set(seen))
    assert not missed and not twice and sorted(seen) == sorted(written), (sorted(missed), twice)
    if server.engine == "postgres":
        assert most_open[0] > 1  # writers hold numbers at the same time: they no longer queue for each other
