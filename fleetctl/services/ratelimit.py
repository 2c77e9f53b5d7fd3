"""Sliding-window rate limits (two weighted fixed windows: constant memory per key)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the current window ends

    @property
    def retry_after(self) -> int:
        return max(1, self.reset)


class SlidingWindow:
    """In-memory limiter: `hit(key, limit)` counts one request and says whether it may pass."""

    def __init__(self, window: float = 60.0, clock=time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._state: dict[str, list] = {}  # key -> [window index, current count, previous count]
        self._lock = threading.Lock()
        self._last_prune = 0

    def _estimate(self, key: str, now: float) -> tuple[list, float]:
        index = int(now // self.window)
        state = self._state.get(key)
        if state is None:
            state = self._state[key] = [index, 0, 0]
        elif state[0] != index:
            state[2] = state[1] if state[0] == index - 1 else 0
            state[1] = 0
            state[0] = index
        elapsed = (now % self.window) / self.window
        return state, state[2] * (1.0 - elapsed) + state[1]

    def hit(self, key: str, limit: int, count: bool = True) -> Verdict:
        """Count one request against `key` (unless over the limit) and return the verdict."""
        now = self.clock()
        reset = int(math.ceil(self.window - now % self.window))
        with self._lock:
            self._prune(now)
            state, used = self._estimate(key, now)
            used += self._others(key, state[0], (now % self.window) / self.window)
            if used + 1 > limit:
                return Verdict(False, limit, 0, reset)
            if count:
                state[1] += 1
            return Verdict(True, limit, max(0, int(limit - used - (1 if count else 0))), reset)

    def used(self, key: str) -> float:
        """The weighted count of `key` right now (this process's and, if shared, the others')."""
        now = self.clock()
        with self._lock:
            state, used = self._estimate(key, now)
            return used + self._others(key, state[0], (now % self.window) / self.window)

    def _others(self, key: str, index: int, elapsed: float) -> float:
        """Requests other processes counted against `key` (weighted); none for a lone process."""
        return 0.0

    def _prune(self, now: float) -> None:
        index = int(now // self.window)
        if index - self._last_prune < 2:
            return
        self._last_prune = index
        for key in [k for k, s in self._state.items() if s[0] < index - 1]:
            del self._state[key]
