"""Held wake requests (`GET /v1/wake?wait=S`) and the waitress dispatcher that keeps them off the worker threads.

`fleetctl serve` gives waitress a `WaitDispatcher`: requests that ask to wait go to a pool of their
own (at most `--max-waiters` threads, grown on demand), every other request to the usual
`--threads` workers, so a waiting request never takes a thread that serves the others. When the
waiters' pool is full, a wait request goes to the workers and answers at once with what there is.

While a request waits, its connection is parked: taken out of waitress's poll loop, which looks
at every open connection on each turn (200 idle waiters made every other request cost a third
more CPU), and put back when the answer is ready. A parked connection is watched for a hang-up
by the waiter itself (a non-blocking peek at the socket on each tick).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

from flask import g, request
from waitress.task import ThreadedTaskDispatcher

from fleetctl.errors import Unauthorized
from fleetctl.services import tokens, wakeup

MIN_GAP, MAX_GAP = 0.05, 0.5  # between two re-checks of one waiter (bursts of writes coalesce)
WAIT_PATH = "/v1/wake"
_local = threading.local()  # `dedicated` is set in the threads of the waiters' pool


def may_wait() -> bool:
    """Whether this thread may hold a request: always without a WaitDispatcher, only its waiters' threads with one."""
    return not WaitDispatcher.active or getattr(_local, "dedicated", False)


def hold(peek: Callable[[], dict], seconds: int) -> dict:
    """Answer `peek()` once it has news, or after `seconds` (then `empty: true`); at once when over a bound."""
    hub = wakeup.hub
    deadline = time.monotonic() + seconds
    if not may_wait():
        return peek()
    with parked() as disconnected:
        token = _Token(request.headers.get("Authorization", "").partition(" ")[2].strip(), g.token_id)
        with hub.watch(g.member, probe=lambda: disconnected() or token.dropped()) as watcher:
            if watcher is None:
                return peek()
            result = hub.check(peek)  # after registering: any change committed from here on wakes this waiter
            with hub.db_gate.released():
                return _wait_for_news(hub, watcher, peek, result, deadline, token, disconnected)


class _Token:
    """The waiter's token: re-checked in the database when this server dropped it from its cache
    (revoked or rotated here) and once per cache TTL (revoked on another server)."""

    def __init__(self, token: str, token_id: int) -> None:
        self.key, self.token_id = tokens.cache_key(token), token_id
        self.absent_ok = False  # dropped for another reason (a member update) and found live: probe no more
        self.verify_at = time.monotonic() + max(1.0, tokens.cache.ttl)

    def dropped(self) -> bool:
        return not self.absent_ok and not tokens.cache.known(self.key)

    def check(self, hub: wakeup.Hub) -> None:
        """Raise Unauthorized when the token or its member was revoked; otherwise note when to look again."""
        now = time.monotonic()
        if now < self.verify_at and not self.dropped():
            return
        if not hub.check(lambda: tokens.still_live(self.token_id)):
            raise Unauthorized("token revoked while waiting")
        self.absent_ok = not tokens.cache.known(self.key)
        self.verify_at = now + max(1.0, tokens.cache.ttl)


def _wait_for_news(hub: wakeup.Hub, watcher: wakeup.Watcher, peek: Callable[[], dict], result: dict,
                   deadline: float, token: _Token, disconnected: Callable[[], bool]) -> dict:
    """The loop of `hold`: sleep until news, a probe or the deadline; re-check on news (bursts coalesce)."""
    gap = MIN_GAP
    last_check = time.monotonic()
    while result["empty"]:
        now = time.monotonic()
        left = deadline - now
        if left <= 0 or hub.closing.is_set() or disconnected():
            return result
        news = watcher.wait(max(0.0, min(left, token.verify_at - now)))
        if hub.closing.is_set():
            return result
        token.check(hub)
        if not news:
            continue
        pause = last_check + gap - time.monotonic()
        if pause > 0:  # a burst of writes: one re-check for all of it
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            watcher.wait(0)  # the wake-ups of the burst: this re-check covers them
        result = hub.check(peek)
        last_check = time.monotonic()
        gap = min(MAX_GAP, gap * 2)
    return result


@contextlib.contextmanager
def parked() -> Iterator[Callable[[], bool]]:
    """Take this request's connection out of waitress's poll loop for the block; yields `hung_up()`.

    Only under the WaitDispatcher (which names the channel); elsewhere the connection stays and
    `hung_up` is waitress's own check (it works when waitress reads ahead)."""
    channel = getattr(_local, "channel", None)
    if channel is None:
        yield request.environ.get("waitress.client_disconnected", lambda: False)
        return
    fd, polled = channel._fileno, channel._map  # waitress's asyncore channel: its descriptor and loop map
    if polled.get(fd) is channel:
        del polled[fd]
    try:
        yield lambda: not channel.connected or _hung_up(channel.socket)
    finally:
        polled[fd] = channel
        channel.server.pull_trigger()  # the loop sends the answer on its next turn


def _hung_up(sock: socket.socket) -> bool:
    """Whether the client closed its end (a peek that reads end-of-file); never consumes a byte."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def is_wait(channel) -> bool:
    """Whether the request a waitress channel is about to serve is a `GET /v1/wake?wait=...`."""
    requests = getattr(channel, "requests", None)
    if not requests:
        return False
    req = requests[0]
    if getattr(req, "command", None) != "GET" or not (getattr(req, "path", "") or "").endswith(WAIT_PATH):
        return False
    return "wait" in parse_qs(getattr(req, "query", "") or "")


class _Gated:
    """A waiters' pool task: served holding a database slot, which the wait gives back while it blocks."""

    def __init__(self, channel) -> None:
        self.channel = channel

    def service(self) -> None:
        _local.channel = self.channel
        try:
            with wakeup.hub.db_gate.held():
                self.channel.service()
        finally:
            _local.channel = None

    def cancel(self) -> None:
        self.channel.cancel()

    def __repr__(self) -> str:
        return repr(self.channel)


class WaitDispatcher:
    """A waitress task dispatcher with two pools: `threads` workers, and up to `max_waiters` waiters."""

    active = False  # set once a server runs with it: from then on only the waiters' pool may hold requests

    def __init__(self, threads: int, max_waiters: int) -> None:
        self.workers = ThreadedTaskDispatcher()
        self.waiters = ThreadedTaskDispatcher()
        self.waiters.start_new_thread = self._start_waiter
        self.max_waiters = max_waiters
        self.workers.set_thread_count(threads)
        WaitDispatcher.active = True

    def _start_waiter(self, target, thread_no: int) -> None:
        def run(number: int) -> None:
            _local.dedicated = True
            target(number)

        threading.Thread(target=run, name=f"fleetctl-waiter-{thread_no}", args=(thread_no,), daemon=True).start()

    def set_thread_count(self, count: int) -> None:
        self.workers.set_thread_count(count)

    def add_task(self, task) -> None:
        """Route a wait request to a free waiter thread (started if needed), anything else to the workers."""
        if self.max_waiters > 0 and is_wait(task):
            pool = self.waiters
            with pool.lock:
                running = len(pool.threads) - pool.stop_count
                idle = running - pool.active_count - len(pool.queue)
            if idle > 0 or running < self.max_waiters:
                if idle <= 0:
                    pool.set_thread_count(running + 1)
                pool.add_task(_Gated(task))
                return
        self.workers.add_task(task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        """Release every waiter at once, then stop both pools (within `timeout` together)."""
        wakeup.hub.close()
        started = time.monotonic()
        done = self.waiters.shutdown(cancel_pending, timeout / 2)
        left = max(0.5, timeout - (time.monotonic() - started))
        return self.workers.shutdown(cancel_pending, left) and done
