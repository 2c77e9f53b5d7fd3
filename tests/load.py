"""Load for the reliability tests: writer threads that record every acknowledged (2xx) request.

    load = Load(url, tokens, lambda i, n: ("POST", "/v1/knowledge", {...}))
    load.start(); load.wait(acked=200, timeout=10); load.stop()
    load.acked[i] -> [(request body, response body), ...] for writer i

A writer stops at its first connection error (the server went away) unless `keep_going`.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable

from conftest import http_request


class Load:
    """`len(tokens)` writer threads, writer i sending `request(i, n)` as tokens[i] until stopped."""

    def __init__(self, url: str, tokens: list[str], request: Callable[[int, int], tuple],
                 per_writer: int | None = None, keep_going: bool = False) -> None:
        self.url = url
        self.tokens = tokens
        self.request = request
        self.per_writer = per_writer
        self.keep_going = keep_going
        self.acked: list[list[tuple]] = [[] for _ in tokens]
        self.statuses: Counter = Counter()
        self.bodies_5xx: list = []
        self.connection_errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(len(tokens))]

    def _run(self, i: int) -> None:
        n = 0
        while not self._stop.is_set() and (self.per_writer is None or n < self.per_writer):
            method, path, body = self.request(i, n)
            n += 1
            try:
                resp = http_request(self.url, method, path, body=body,
                                    headers={"Authorization": f"Bearer {self.tokens[i]}"})
            except (OSError, http.client.HTTPException):
                with self._lock:
                    self.connection_errors += 1
                if not self.keep_going:
                    return
                time.sleep(0.01)
                continue
            with self._lock:
                self.statuses[resp.status] += 1
                if resp.status >= 500:
                    self.bodies_5xx.append(resp.body)
            if 200 <= resp.status < 300:
                self.acked[i].append((body, resp.body))

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def total_acked(self) -> int:
        return sum(len(a) for a in self.acked)

    def start(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def wait(self, acked: int, timeout: float, min_seconds: float = 0.0) -> None:
        """Block until at least `acked` requests were acknowledged and `min_seconds` passed (or timeout)."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if self.total_acked >= acked and time.monotonic() - began >= min_seconds:
                return
            if not any(t.is_alive() for t in self._threads):
                return
            time.sleep(0.02)

    def join(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self.join()
