"""Waiting for the screen to come to rest, with a scripted screen and scripted drawing reports
instead of a display (tests/desktop/test_settle_on_drawing.py has the real X server's)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from agent.actions import Action, Click, KeyPress, TypeText
from agent.desktop.protocol import Frame
from agent.desktop.settle import QuietRule, SettlePolicy, fingerprint, wait_until_settled
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


@pytest.mark.parametrize("on_drawing", [False, True], ids=["sampling", "drawing reports"])
def test_a_stop_during_a_long_wait_wakes_at_once(on_drawing: bool) -> None:
    policy = SettlePolicy(
        interval=10, quiet_intervals=2, first_change_grace=0, quiet=5.0, ceiling=30
    )
    drawing = ScriptedDrawing(0.01) if on_drawing else None
    stop = StopToken()
    timer = threading.Timer(0.05, stop.stop)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Stopped):
            wait_until_settled(lambda: _frame(0), fingerprint(_frame(0)), stop, policy, drawing)
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


# ---- settling on drawing reports (the X server's DAMAGE events on a real screen)

DRAWING_POLICY = SettlePolicy(quiet=0.05, first_change_grace=0.05, ceiling=1.0)


class ScriptedDrawing:
    """Drawing reported at the given seconds after it was made, as ScreenDrawing reports it."""

    def __init__(self, *moments: float) -> None:
        self.started = time.monotonic()
        self.moments = sorted(moments)
        self.latest: float | None = None
        self.waits = 0

    def forget(self) -> None:
        self.latest = None

    def wait(self, timeout: float) -> float | None:
        self.waits += 1
        now = time.monotonic()
        upcoming = [self.started + m for m in self.moments if self.started + m > now]
        if upcoming and upcoming[0] <= now + timeout:
            time.sleep(max(0.0, upcoming[0] - now))
            self.latest = upcoming[0]
        else:
            time.sleep(max(0.0, timeout))
        return self.latest


def _counting(value: int) -> tuple[list[int], Callable[[], Frame]]:
    captures: list[int] = []

    def capture() -> Frame:
        captures.append(1)
        return _frame(value)

    return captures, capture


def test_at_rest_a_quiet_period_after_the_last_drawing_with_one_capture() -> None:
    drawing = ScriptedDrawing(0.02, 0.06, 0.11)
    captures, capture = _counting(9)
    result = wait_until_settled(
        capture, fingerprint(_frame(0)), StopToken(), DRAWING_POLICY, drawing
    )
    assert result.settled and result.changed
    # (the reports were scripted from just before the settle began: a few ms of slack)
    assert 0.11 + 0.05 - 0.01 <= result.seconds < 0.11 + 0.05 + 0.1
    assert captures == [1]  # nothing captured while waiting: only to tell change from redraw


def test_drawing_that_changed_nothing_is_no_change() -> None:
    drawing = ScriptedDrawing(0.01)
    _, capture = _counting(0)  # the same picture as before the action
    result = wait_until_settled(
        capture, fingerprint(_frame(0)), StopToken(), DRAWING_POLICY, drawing
    )
    assert result.settled and not result.changed


def test_nothing_drawn_is_at_rest_after_the_grace_without_a_capture() -> None:
    drawing = ScriptedDrawing()
    captures, capture = _counting(0)
    result = wait_until_settled(
        capture, fingerprint(_frame(0)), StopToken(), DRAWING_POLICY, drawing
    )
    assert result.settled and not result.changed
    assert 0.05 <= result.seconds < 0.15
    assert captures == []


def test_a_shortcut_waits_for_the_dialog_it_opens_to_draw() -> None:
    # ctrl+s: the app builds its Save dialog and draws nothing for a quarter of a second.
    drawing = ScriptedDrawing(0.25)
    _, capture = _counting(5)
    policy = SettlePolicy(ceiling=2.0)
    result = wait_until_settled(
        capture, fingerprint(_frame(0)), StopToken(), policy, drawing, KeyPress(("ctrl", "s"))
    )
    assert result.changed
    assert 0.25 + policy.quiet - 0.01 <= result.seconds < 0.25 + policy.quiet + 0.1


def test_an_enter_waits_out_gtks_activation_pause() -> None:
    # Enter on a dialog: the default button is drawn pressed at once and acts 250 ms later.
    drawing = ScriptedDrawing(0.01, 0.26)
    _, capture = _counting(5)
    result = wait_until_settled(
        capture, fingerprint(_frame(0)), StopToken(), SettlePolicy(), drawing, KeyPress(("enter",))
    )
    assert result.seconds >= 0.25 + SettlePolicy().activating_quiet


def test_drawing_without_end_hits_the_ceiling() -> None:
    drawing = ScriptedDrawing(*(0.01 * n for n in range(1, 200)))
    _, capture = _counting(3)
    policy = SettlePolicy(quiet=0.05, ceiling=0.3)
    result = wait_until_settled(capture, fingerprint(_frame(0)), StopToken(), policy, drawing)
    assert not result.settled and result.changed
    assert 0.3 <= result.seconds < 0.45


@pytest.mark.parametrize(
    ("action", "quiet", "first_drawing"),
    [
        (Click(10, 10), 0.08, 0.1),
        (KeyPress(("end",)), 0.08, 0.1),
        (KeyPress(("shift", "end")), 0.08, 0.1),
        (TypeText("drafts"), 0.2, 0.2),
        (TypeText("\n"), 0.3, 0.3),
        (TypeText("hunter2\n"), 0.3, 0.3),
        (KeyPress(("escape",)), 0.2, 0.2),
        (KeyPress(("enter",)), 0.3, 0.3),
        (KeyPress(("Return",)), 0.3, 0.3),
        (KeyPress(("space",)), 0.3, 0.3),
        (KeyPress(("alt", "r")), 0.3, 0.3),
        (KeyPress(("ctrl", "s")), 0.08, 0.35),
        (KeyPress(("ctrl", "shift", "s")), 0.08, 0.35),
        (KeyPress(("f2",)), 0.08, 0.35),
        (None, 0.08, 0.1),
    ],
    ids=str,
)
def test_the_quiet_period_fits_what_the_action_can_set_off(
    action: Action | None, quiet: float, first_drawing: float
) -> None:
    assert SettlePolicy().rule_for(action) == QuietRule(quiet, first_drawing)
