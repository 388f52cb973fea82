"""Settle on the X server's drawing reports (DAMAGE), on a real screen with a real app: what
it observes is what the screen still shows a second later, and an idle screen costs nothing."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from agent.actions import Action, KeyPress, TypeText
from agent.desktop.apps import AppLauncher
from agent.desktop.current_frame import CurrentFrame
from agent.desktop.damage import ScreenDrawing
from agent.desktop.exclusions import MASK_BGRA
from agent.desktop.local import LocalDesktop
from agent.desktop.settle import SettleResult, fingerprint, wait_until_settled
from agent.desktop.virtual_display import VirtualDisplay
from agent.desktop.windows import list_windows
from agent.geometry import Box
from agent.perception.conditions import WindowAppears, wait_for
from agent.stop import StopToken

pytestmark = pytest.mark.desktop


@pytest.fixture(scope="module")
def desktop(virtual_display: VirtualDisplay) -> Iterator[LocalDesktop]:
    with LocalDesktop(virtual_display.screen) as opened:
        yield opened


def _act_and_settle(desktop: LocalDesktop, action: Action) -> SettleResult:
    """What the run loop does around one action."""
    drawing = desktop.drawing
    assert drawing is not None, "Xvfb has DAMAGE: the desktop must settle on its reports"
    screen_now = CurrentFrame(desktop)
    reference = fingerprint(screen_now()).copy()
    drawing.forget()
    desktop.execute(action, StopToken())
    return wait_until_settled(screen_now, reference, StopToken(), drawing=drawing, action=action)


def _still_the_same_a_second_later(desktop: LocalDesktop) -> None:
    # The next step's observation, as the loop takes it (the settle's capture, given again
    # when nothing was drawn since).
    observed = CurrentFrame(desktop)().pixels.copy()
    time.sleep(1.0)
    later = desktop.capture().pixels
    changed = np.argwhere((observed != later).any(axis=2))
    assert changed.size == 0, f"the observation was stale: {len(changed)} pixels changed after it"


def test_the_observation_after_each_action_is_what_stays(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path
) -> None:
    note = tmp_path / "memo.txt"
    note.write_text("", encoding="utf-8")
    launcher.launch(["mousepad", str(note)])
    wait_for(WindowAppears("memo.txt - Mousepad"), 20, StopToken(), launcher.screen)
    _act_and_settle(desktop, KeyPress(("ctrl", "end")))  # let it take the focus and rest

    typed = _act_and_settle(desktop, TypeText("quarterly figures"))
    assert typed.settled and typed.changed
    _still_the_same_a_second_later(desktop)

    # A shortcut that opens a dialog draws nothing until the dialog is built.
    opened = _act_and_settle(desktop, KeyPress(("ctrl", "shift", "s")))
    assert opened.settled and opened.changed
    assert any("Save As" in window.title for window in list_windows(launcher.screen.display))
    _still_the_same_a_second_later(desktop)

    # Escape closes it; the settle sees the editor again, not the dialog going.
    closed = _act_and_settle(desktop, KeyPress(("escape",)))
    assert closed.settled and closed.changed
    assert not any("Save As" in window.title for window in list_windows(launcher.screen.display))
    _still_the_same_a_second_later(desktop)


def test_an_action_that_draws_nothing_is_at_rest_at_once_and_unchanged(
    desktop: LocalDesktop,
) -> None:
    started = time.monotonic()
    result = _act_and_settle(desktop, KeyPress(("shift",)))  # nothing reacts to a lone shift
    assert result.settled and not result.changed
    assert time.monotonic() - started < 1.0


@contextlib.contextmanager
def _a_white_window(display_name: str) -> Iterator[None]:
    """A white 120x80 window at (40, 40), drawn by another client, while the block runs."""
    from Xlib import X
    from Xlib.display import Display

    display = Display(display_name)
    screen = display.screen()
    window = screen.root.create_window(
        40, 40, 120, 80, 0, screen.root_depth, X.InputOutput, background_pixel=screen.white_pixel
    )
    window.change_attributes(override_redirect=True)  # no window manager frame, no moving
    window.map()
    display.sync()
    try:
        yield
    finally:
        window.destroy()
        display.sync()
        display.close()


def _show_a_window(display_name: str) -> None:
    with _a_white_window(display_name):
        time.sleep(0.3)


def _white_inside(frame_pixels: np.ndarray) -> bool:
    return bool((frame_pixels[60:100, 60:140, :3] == 255).all())


def test_a_look_is_the_last_capture_until_something_is_drawn(
    virtual_display: VirtualDisplay, desktop: LocalDesktop
) -> None:
    """Looking again costs a round trip, not a capture, while the X server reports no
    drawing; any drawing, by any client, makes the next look a new capture."""
    screen_now = CurrentFrame(desktop)
    time.sleep(0.3)  # let whatever the tests before drew be reported
    first = screen_now()
    again = screen_now()
    assert screen_now.reused == 1
    assert again.pixels is first.pixels and again.captured_at > first.captured_at
    assert np.array_equal(again.pixels, desktop.capture().pixels)
    assert not _white_inside(again.pixels)

    with _a_white_window(virtual_display.display):
        shown = screen_now()
        assert screen_now.reused == 1, "a window was drawn: the look must capture again"
        assert _white_inside(shown.pixels)
    gone = screen_now()
    assert screen_now.reused == 1
    assert not _white_inside(gone.pixels)
    assert np.array_equal(gone.pixels, first.pixels)


def test_a_look_after_shains_own_window_moved_paints_it_over(desktop: LocalDesktop) -> None:
    """A box of Shain's placed while nothing is drawn: the next look is a new capture with
    the box painted over, never the last capture, which showed what is under it."""
    screen_now = CurrentFrame(desktop)
    time.sleep(0.3)
    screen_now()
    box = Box(300, 200, 50, 40)
    desktop.excluded.set("progress", box)
    try:
        masked = screen_now()
        assert screen_now.reused == 0
        assert (masked.pixels[200:240, 300:350] == MASK_BGRA).all()
        assert screen_now().pixels is masked.pixels  # and then it is the screen still
    finally:
        desktop.excluded.set("progress", None)
    assert not (screen_now().pixels[200:240, 300:350] == MASK_BGRA).all()


def test_an_idle_screen_reports_no_drawing_and_costs_no_cpu(
    virtual_display: VirtualDisplay, desktop: LocalDesktop
) -> None:
    drawing = ScreenDrawing(virtual_display.screen)
    try:
        drawing.forget()
        cpu_before, started = time.process_time(), time.monotonic()
        while time.monotonic() - started < 1.0:
            drawing.wait(0.05)
        idle_cpu = time.process_time() - cpu_before
        assert drawing.latest is None
        _show_a_window(virtual_display.display)  # another client draws
        deadline = time.monotonic() + 5
        while drawing.latest is None and time.monotonic() < deadline:
            drawing.wait(0.1)
        assert drawing.latest is not None
    finally:
        drawing.close()
    # Waiting a second on reports, with nothing drawn: a blocked select, not a polling loop.
    assert idle_cpu < 0.05, f"{idle_cpu * 1000:.0f} ms of CPU in a second of waiting"


def test_a_screen_with_a_compositing_manager_is_sampled_instead(
    virtual_display: VirtualDisplay,
) -> None:
    """Under a compositor the root is not told of the windows' drawing: waiting on its reports
    would look too soon, so the desktop samples the screen there."""
    from Xlib import X
    from Xlib.display import Display

    compositor = Display(virtual_display.display)
    try:
        screen = compositor.screen()
        window = screen.root.create_window(0, 0, 1, 1, 0, screen.root_depth)
        selection = compositor.intern_atom(f"_NET_WM_CM_S{compositor.get_default_screen()}")
        window.set_selection_owner(selection, X.CurrentTime)
        compositor.sync()
        with LocalDesktop(virtual_display.screen) as sampled:
            assert sampled.drawing is None
        window.destroy()
        compositor.sync()
    finally:
        compositor.close()
    with LocalDesktop(virtual_display.screen) as reported:
        assert reported.drawing is not None


def test_on_a_private_screen_a_waiting_text_field_draws_nothing(
    virtual_display: VirtualDisplay, launcher: AppLauncher
) -> None:
    """GTK's caret blinks and its buttons fade unless told not to: on a private screen they
    are told, so an app waiting for input leaves the screen at rest (and its caret shown)."""
    launcher.launch(["zenity", "--entry", "--title=Rest", "--text=Name:"])
    wait_for(WindowAppears("^Rest$"), 20, StopToken(), launcher.screen)
    drawing = ScreenDrawing(virtual_display.screen)
    try:
        time.sleep(1.5)  # GTK starts blinking 1.2 s after the last input
        drawing.forget()
        started = time.monotonic()
        while time.monotonic() - started < 2.5:  # two blink periods (1.2 s each)
            drawing.wait(0.1)
        assert drawing.latest is None, f"{drawing.rectangles} rectangles drawn while waiting"
    finally:
        drawing.close()
