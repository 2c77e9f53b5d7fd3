"""The sliding-window limiter on a fake clock: fixed-window counts, the weighted previous window, resets."""

from __future__ import annotations

import pytest

from fleetctl.services.ratelimit import SlidingWindow, Verdict


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limiter(now: float = 600.0, window: float = 60.0) -> tuple[SlidingWindow, Clock]:
    clock = Clock(now)
    return SlidingWindow(window, clock=clock), clock


def test_a_limit_passes_exactly_that_many_then_refuses():
    win, _ = limiter()
    verdicts = [win.hit("k", 5) for _ in range(7)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 2
    assert [v.remaining for v in verdicts] == [4, 3, 2, 1, 0, 0, 0]
    assert all(v.limit == 5 for v in verdicts)


def test_a_refused_hit_is_not_counted():
    win, clock = limiter()
    for _ in range(3):
        win.hit("k", 3)
    for _ in range(10):
        assert not win.hit("k", 3).allowed
    assert win.used("k") == 3
    clock.now += 120  # two windows later nothing of it is left
    assert win.hit("k", 3).allowed


def test_keys_are_counted_apart():
    win, _ = limiter()
    assert all(win.hit("a", 2).allowed for _ in range(2))
    assert not win.hit("a", 2).allowed
    assert win.hit("b", 2).allowed


def test_the_previous_window_weighs_by_the_part_of_it_still_inside_the_sliding_window():
    win, clock = limiter(now=600.0)  # the start of a window
    for _ in range(10):
        win.hit("k", 100)
    clock.now = 660.0 + 15  # a quarter into the next window: 3/4 of the previous one still counts
    assert win.used("k") == pytest.approx(7.5)
    clock.now = 660.0 + 45  # three quarters in: a quarter counts
    assert win.used("k") == pytest.approx(2.5)
    win.hit("k", 100)
    assert win.used("k") == pytest.approx(3.5)


def test_a_full_previous_window_refuses_early_in_the_next_and_frees_up_as_it_slides_out():
    win, clock = limiter(now=600.0)
    for _ in range(10):
        assert win.hit("k", 10).allowed
    clock.now = 660.0 + 6  # 10 * 0.9 = 9 still count: one more passes, the next does not
    assert win.hit("k", 10).allowed
    assert not win.hit("k", 10).allowed
    clock.now = 660.0 + 30  # 10 * 0.5 + 1 = 6: four more pass
    assert [win.hit("k", 10).allowed for _ in range(5)] == [True] * 4 + [False]


def test_a_window_skipped_entirely_leaves_nothing_behind():
    win, clock = limiter(now=600.0)
    for _ in range(10):
        win.hit("k", 10)
    clock.now = 600.0 + 2 * 60 + 1  # the window after next: the old count is two windows back
    assert win.used("k") == 0
    assert win.hit("k", 10).remaining == 9


def test_reset_counts_the_seconds_to_the_end_of_the_window_and_retry_after_is_at_least_one():
    win, clock = limiter(now=600.0)
    assert win.hit("k", 1).reset == 60
    clock.now = 600.0 + 45.5
    refused = win.hit("k", 1)
    assert not refused.allowed and refused.reset == 15 and refused.retry_after == 15
    assert Verdict(False, 1, 0, 0).retry_after == 1


def test_count_false_asks_without_counting():
    win, _ = limiter()
    for _ in range(5):
        assert win.hit("k", 2, count=False).allowed
    assert win.used("k") == 0
    win.hit("k", 2)
    win.hit("k", 2)
    assert not win.hit("k", 2, count=False).allowed


def test_old_keys_are_pruned_so_memory_stays_bounded():
    win, clock = limiter(now=600.0)
    for n in range(100):
        win.hit(f"key-{n}", 10)
    assert len(win._state) == 100
    clock.now += 3 * 60  # three windows later the next hit prunes every key not seen for two windows
    win.hit("fresh", 10)
    assert set(win._state) == {"fresh"}


def test_a_shorter_window_slides_faster():
    win, clock = limiter(now=10.0, window=1.0)
    assert [win.hit("k", 2).allowed for _ in range(3)] == [True, True, False]
    clock.now = 11.5  # half of the previous second still counts: 2 * 0.5 = 1
    assert [win.hit("k", 2).allowed for _ in range(2)] == [True, False]
