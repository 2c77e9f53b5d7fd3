"""`fleetctl wake --wait S`: wait for news from the CLI, then wake (or only peek) as usual."""

from __future__ import annotations

import threading
import time

import pytest


def quiet(fleet, name):
    actor = fleet.member(name)
    actor.client.post("/v1/wake")
    return actor


def test_wake_wait_returns_when_news_arrives_and_advances_the_cursor(make_fleet):
    fleet = make_fleet()
    scout = quiet(fleet, "scout")
    timer = threading.Timer(0.8, lambda: fleet.owner.client.post(
        "/v1/messages", {"recipients": ["scout"], "subject": "arrived while waiting"}))
    timer.start()
    started = time.monotonic()
    result = scout.cli("wake", "--wait", "20", "--json")
    timer.join()
    assert result.exit_code == 0, result.stderr
    assert 0.7 < time.monotonic() - started < 5
    data = result.json()
    assert data["empty"] is False and data["sections"]["messages"][0]["subject"] == "arrived while waiting"
    assert scout.client.get("/v1/wake")["empty"] is True  # without --peek the wake advanced the cursor


@pytest.mark.slow  # waits out a timeout
def test_wake_wait_peek_times_out_with_nothing_new(make_fleet):
    scout = quiet(make_fleet(), "scout")
    started = time.monotonic()
    result = scout.cli("wake", "--wait", "1", "--peek")
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started >= 0.9 and "nothing new" in result.stdout


def test_wake_wait_with_news_answers_at_once_and_peek_keeps_it(make_fleet):
    fleet = make_fleet()
    scout = quiet(fleet, "scout")
    fleet.owner.client.post("/v1/messages", {"recipients": ["scout"], "subject": "already here"})
    started = time.monotonic()
    result = scout.cli("wake", "--wait", "30", "--peek", "--json")
    assert result.exit_code == 0 and time.monotonic() - started < 2
    assert result.json()["empty"] is False and scout.client.get("/v1/wake")["empty"] is False


def test_wake_wait_out_of_range_is_a_usage_error(make_fleet):
    scout = quiet(make_fleet(), "scout")
    for bad in ("0", "61", "-1", "abc"):
        result = scout.cli("wake", "--wait", bad)
        assert result.exit_code == 2 and "--wait" in result.stderr and "Traceback" not in result.stderr
