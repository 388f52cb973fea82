"""Waiting for the screen to come to rest, with a scripted screen instead of a display."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from agent.desktop.protocol import Frame
from agent.desktop.settle import SettlePolicy, fingerprint, wait_until_settled
from agent.errors import Stopped
from agent.stop import StopToken

POLICY = SettlePolicy(interval=0.01, quiet_intervals=2, first_change_grace=0.08, ceiling=1.0)


def _frame(value: int, height: int = 64, width: int = 96) -> Frame:
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    pixels[::8, ::8, :3] = value  # on the sampled grid, so the fingerprint sees it
    return Frame(pixels, time.monotonic())


class ScriptedScreen:
    """A screen that shows a new picture on every capture until `changes_for` seconds."""

    def __init__(self, changes_for: float) -> None:
        self.changes_for = changes_for
        self.started = time.monotonic()
        self.captures = 0
        self.last_change: float | None = None

    def capture(self) -> Frame:
        self.captures += 1
        now = time.monotonic()
        if now - self.started < self.changes_for:
            self.last_change = now
            return _frame(1 + self.captures % 250)
        return _frame(0 if self.last_change is None else 255)


def test_settles_after_the_screen_stops_changing() -> None:
    screen = ScriptedScreen(changes_for=0.15)
    reference = fingerprint(_frame(0))
    result = wait_until_settled(screen.capture, reference, StopToken(), POLICY)
    returned = time.monotonic()
    assert result.settled is True
    assert result.changed is True
    assert screen.last_change is not None
    quiet = POLICY.quiet_intervals * POLICY.interval
    after_last_change = returned - screen.last_change
    assert after_last_change >= quiet * 0.9
    assert after_last_change < quiet + 0.25
    assert 0.15 <= result.seconds < 0.15 + quiet + 0.25


def test_a_screen_that_never_changes_returns_after_the_grace() -> None:
    screen = ScriptedScreen(changes_for=0)
    reference = fingerprint(_frame(0))
    started = time.monotonic()
    result = wait_until_settled(screen.capture, reference, StopToken(), POLICY)
    took = time.monotonic() - started
    assert result.settled is True
    assert result.changed is False
    assert POLICY.first_change_grace <= result.seconds < POLICY.first_change_grace + 0.2
    assert took < POLICY.first_change_grace + 0.25


def test_a_change_right_away_settles_before_the_grace() -> None:
    # The screen changes once, at the first sample, then rests: no need to wait the grace.
    slow = SettlePolicy(interval=0.01, quiet_intervals=2, first_change_grace=5.0, ceiling=5.0)
    screen = ScriptedScreen(changes_for=0)
    reference = fingerprint(_frame(7))  # differs from what the screen shows
    result = wait_until_settled(screen.capture, reference, StopToken(), slow)
    assert result.settled is True
    assert result.changed is True
    assert result.seconds < 1.0


def test_a_screen_that_always_changes_hits_the_ceiling() -> None:
    policy = SettlePolicy(interval=0.01, quiet_intervals=2, first_change_grace=0.02, ceiling=0.15)
    screen = ScriptedScreen(changes_for=60)
    result = wait_until_settled(screen.capture, fingerprint(_frame(0)), StopToken(), policy)
    assert result.settled is False
    assert result.changed is True
    assert policy.ceiling <= result.seconds < policy.ceiling + 0.2


def test_a_stop_from_another_thread_ends_the_wait_promptly() -> None:
    policy = SettlePolicy(interval=0.01, quiet_intervals=2, first_change_grace=0.02, ceiling=30)
    screen = ScriptedScreen(changes_for=60)
    stop = StopToken()
    timer = threading.Timer(0.05, stop.stop, kwargs={"reason": "boss pressed stop"})
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Stopped, match="boss pressed stop"):
            wait_until_settled(screen.capture, fingerprint(_frame(0)), stop, policy)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 0.5


def test_a_stop_during_a_long_interval_wakes_at_once() -> None:
    policy = SettlePolicy(interval=10, quiet_intervals=2, first_change_grace=0, ceiling=30)
    stop = StopToken()
    timer = threading.Timer(0.05, stop.stop)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Stopped):
            wait_until_settled(lambda: _frame(0), fingerprint(_frame(0)), stop, policy)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 1.0


def test_already_stopped_raises_before_capturing() -> None:
    stop = StopToken()
    stop.stop()
    captures: list[int] = []

    def capture() -> Frame:
        captures.append(1)
        return _frame(0)

    with pytest.raises(Stopped):
        wait_until_settled(capture, fingerprint(_frame(0)), stop, POLICY)
    assert captures == []


def test_fingerprint_is_a_strided_view_of_a_1080p_frame() -> None:
    pixels = np.zeros((1080, 1920, 4), dtype=np.uint8)
    frame = Frame(pixels, 0.0)
    sample = fingerprint(frame)
    assert sample.shape == (270, 480, 4)
    assert np.shares_memory(sample, pixels)  # a view, not a copy
    pixels[4, 8, 2] = 99
    assert sample[1, 2, 2] == 99


def test_fingerprint_notices_a_change_on_the_grid_only() -> None:
    before = fingerprint(_frame(0)).copy()
    changed = _frame(0)
    changed.pixels[3, 3, 0] = 200  # off the sampled grid
    assert np.array_equal(fingerprint(changed), before)
    changed.pixels[8, 8, 0] = 200
    assert not np.array_equal(fingerprint(changed), before)
