"""LocalDesktop on a real virtual screen with real apps: capture, pointer, text, keys, stop."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.actions import Click, Drag, KeyPress, Move, Scroll, TypeText
from agent.desktop.apps import AppLauncher
from agent.desktop.clipboard import read_clipboard
from agent.desktop.local import LocalDesktop
from agent.desktop.virtual_display import VirtualDisplay
from agent.errors import ActionError, Stopped
from agent.geometry import Point, Size
from agent.perception.conditions import FileExists, WindowAppears, wait_for
from agent.stop import StopToken
from tests.helpers import key_presses

pytestmark = pytest.mark.desktop


@pytest.fixture(scope="module")
def desktop(virtual_display: VirtualDisplay) -> Iterator[LocalDesktop]:
    with LocalDesktop(virtual_display.screen) as opened:
        yield opened


def _pointer(display: Any) -> tuple[int, int, int]:
    reply = display.screen().root.query_pointer()
    return reply.root_x, reply.root_y, reply.mask


@pytest.fixture
def xlib_display(virtual_display: VirtualDisplay) -> Iterator[Any]:
    from Xlib.display import Display

    display = Display(virtual_display.display)
    yield display
    display.close()


def _open_mousepad(launcher: AppLauncher, path: Path, text: str = "") -> None:
    path.write_text(text, encoding="utf-8")
    launcher.launch(["mousepad", str(path)])
    wait_for(WindowAppears(f"{path.name} - Mousepad"), 20, StopToken(), launcher.screen)


def _save_and_read(desktop: LocalDesktop, path: Path, before: float) -> str:
    desktop.execute(KeyPress(("ctrl", "s")), StopToken())
    deadline = time.monotonic() + 10
    while path.stat().st_mtime <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.read_text(encoding="utf-8")


def test_capture_is_the_whole_screen_as_a_bgra_view(desktop: LocalDesktop) -> None:
    frame = desktop.capture()
    assert desktop.size == Size(1920, 1080)
    assert frame.pixels.shape == (1080, 1920, 4) and frame.pixels.dtype == np.uint8
    assert desktop.input_scale == (1.0, 1.0)


def test_move_and_click_land_on_the_pixel(desktop: LocalDesktop, xlib_display: Any) -> None:
    stop = StopToken()
    desktop.execute(Move(123, 456), stop)
    assert _pointer(xlib_display)[:2] == (123, 456)
    desktop.execute(Click(1918, 1078, button="right"), stop)
    assert _pointer(xlib_display)[:2] == (1918, 1078)
    desktop.execute(KeyPress(("escape",)), stop)  # close the root menu openbox opened


def test_the_fail_safe_corner_stops(desktop: LocalDesktop, xlib_display: Any) -> None:
    desktop.execute(Move(0, 0), StopToken())  # pyautogui checks before each call, so...
    for _ in range(2):  # ...the next actions stop, for as long as the pointer stays there
        with pytest.raises(Stopped, match="fail-safe"):
            desktop.execute(Move(500, 500), StopToken())
    xlib_display.screen().root.warp_pointer(700, 700)  # the boss moves the mouse away
    xlib_display.sync()
    desktop.execute(Move(500, 500), StopToken())
    assert _pointer(xlib_display)[:2] == (500, 500)


def test_a_point_outside_the_screen_is_refused_before_anything_moves(
    desktop: LocalDesktop, xlib_display: Any
) -> None:
    desktop.execute(Move(10, 20), StopToken())
    with pytest.raises(ActionError, match=r"click at \(1920, 5\) is outside the 1920x1080 screen"):
        desktop.execute(Click(1920, 5), StopToken())
    assert _pointer(xlib_display)[:2] == (10, 20)


def test_non_ascii_text_reads_back_byte_exact(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path
) -> None:
    note = tmp_path / "greeting.txt"
    _open_mousepad(launcher, note)
    text = "こんにちは、社長 — café ✓\nÅngström naïve façade 😀 Привет 你好\n"
    before = note.stat().st_mtime
    desktop.execute(TypeText(text), StopToken())
    assert _save_and_read(desktop, note, before).encode() == text.encode()


def test_typed_parentheses_reach_an_app_that_reads_the_main_keyboard(
    desktop: LocalDesktop, launcher: AppLauncher, app_environment: dict[str, str]
) -> None:
    # galculator ignores "(" sent on Xvfb's extra parenleft key (keycode 187): the expression
    # came out as 2*4 = 8 ... or 10. Typed on the main keyboard's shift+9 it is 14.
    launcher.launch("galculator")
    wait_for(WindowAppears("^galculator$"), 20, StopToken(), launcher.screen)
    desktop.execute(KeyPress(("escape",)), StopToken())
    for part in ("2*", "(", "3+", "4", ")", "="):  # galculator drops a key repeated fast
        desktop.execute(TypeText(part), StopToken())
    desktop.execute(KeyPress(("ctrl", "c")), StopToken())
    deadline = time.monotonic() + 5
    while read_clipboard(app_environment) != "14" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert read_clipboard(app_environment) == "14"


def test_more_distinct_characters_than_spare_keycodes(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path
) -> None:
    note = tmp_path / "kanji.txt"
    _open_mousepad(launcher, note)
    text = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 60)) + "\n"
    before = note.stat().st_mtime
    desktop.execute(TypeText(text), StopToken())
    assert _save_and_read(desktop, note, before) == text


def test_drag_selects_and_key_combination_copies(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path, app_environment: dict[str, str]
) -> None:
    note = tmp_path / "select.txt"
    _open_mousepad(launcher, note, "")
    stop = StopToken()
    desktop.execute(TypeText("alpha beta gamma"), stop)
    desktop.execute(KeyPress(("home",)), stop)
    desktop.execute(KeyPress(("shift", "end")), stop)  # select the line with a combination
    desktop.execute(KeyPress(("ctrl", "c")), stop)
    time.sleep(0.2)
    assert read_clipboard(app_environment) == "alpha beta gamma"
    # Now a real drag across the text: find the text's row on screen from the pixels.
    frame = desktop.capture().pixels
    dark = np.argwhere(frame[:, :, :3].max(axis=2) < 80)
    top_of_text = dark[(dark[:, 0] > 60) & (dark[:, 1] > 40)]
    row = int(np.median(top_of_text[:50, 0])) if len(top_of_text) else 100
    left = int(top_of_text[:, 1].min())
    desktop.execute(Drag((Point(left, row), Point(left + 400, row))), stop)
    desktop.execute(KeyPress(("ctrl", "c")), stop)
    time.sleep(0.2)
    assert read_clipboard(app_environment).startswith("alpha beta")


def test_scroll_moves_a_long_file(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path
) -> None:
    note = tmp_path / "long.txt"
    _open_mousepad(launcher, note, "".join(f"line {n}\n" for n in range(400)))
    before = desktop.capture().pixels.copy()
    desktop.execute(Scroll(960, 540, scroll_y=10), StopToken())
    time.sleep(0.3)
    after = desktop.capture().pixels
    assert not np.array_equal(before, after)


def test_stop_ends_long_typing_at_once(
    desktop: LocalDesktop, launcher: AppLauncher, tmp_path: Path
) -> None:
    note = tmp_path / "long-typing.txt"
    _open_mousepad(launcher, note)
    stop = StopToken()
    with key_presses(os.environ["DISPLAY"]) as presses:
        threading.Timer(0.5, stop.stop).start()
        with pytest.raises(Stopped):
            desktop.execute(TypeText("x" * 5000), stop)
    assert stop.requested_at is not None and presses
    latency = max(presses) - stop.requested_at
    assert latency < 0.1, f"input went on for {latency * 1000:.0f} ms after the stop"
    typed_before_stop = sum(1 for t in presses if t <= stop.requested_at)
    assert 0 < typed_before_stop < 5000


def test_held_modifiers_are_released_on_stop(desktop: LocalDesktop, xlib_display: Any) -> None:
    from Xlib import XK

    shift = xlib_display.keysym_to_keycode(XK.string_to_keysym("Shift_L"))

    def shift_is_down() -> bool:
        return bool(xlib_display.query_keymap()[shift // 8] & (1 << (shift % 8)))

    desktop._gui.keyDown("shift")  # as if a combination was cut short
    desktop._held_keys.append("shift")
    assert shift_is_down()
    stop = StopToken()
    stop.stop()
    with pytest.raises(Stopped):
        desktop.execute(TypeText("never typed"), stop)
    desktop.release_held_keys()
    assert not shift_is_down()


def test_a_drag_stopped_midway_lets_go_of_the_button(
    desktop: LocalDesktop, xlib_display: Any
) -> None:
    from Xlib import X

    stop = StopToken()
    path = tuple(Point(100 + i, 100) for i in range(2000 // 2))
    threading.Timer(0.05, stop.stop).start()
    with pytest.raises(Stopped):
        desktop.execute(Drag(path), stop)
    assert not _pointer(xlib_display)[2] & X.Button1Mask


def test_wait_for_a_file_and_a_window(launcher: AppLauncher, tmp_path: Path) -> None:
    target = tmp_path / "later.txt"
    threading.Timer(0.3, target.write_text, args=("x",)).start()
    assert 0.2 < wait_for(FileExists(str(target)), 5, StopToken()) < 3
    launcher.launch(["xterm", "-title", "waited-for-window"])
    wait_for(WindowAppears("waited-for"), 20, StopToken(), launcher.screen)
    with pytest.raises(Exception, match=r"waited 0.3s for a window titled /nothing-like-this/"):
        wait_for(WindowAppears("nothing-like-this"), 0.3, StopToken(), launcher.screen)


def test_a_chosen_monitor_is_captured_and_addressed_on_its_own(
    virtual_display: VirtualDisplay,
) -> None:
    import subprocess

    environment = virtual_display.child_environment()

    def xrandr(*arguments: str) -> None:
        subprocess.run(["xrandr", *arguments], env=environment, check=True, capture_output=True)

    # Split the screen into two side-by-side monitors, as a two-monitor desk has.
    xrandr("--setmonitor", "shain-left", "960/254x1080/286+0+0", "screen")
    xrandr("--setmonitor", "shain-right", "960/254x1080/286+960+0", "none")
    try:
        with LocalDesktop(virtual_display.screen, monitor=2) as right:
            assert right.size == Size(960, 1080)
            assert right.capture().pixels.shape == (1080, 960, 4)
            right.execute(Move(10, 20), StopToken())
            from Xlib.display import Display

            display = Display(virtual_display.display)
            assert _pointer(display)[:2] == (970, 20)
            display.close()
            with pytest.raises(ActionError, match="outside the 960x1080 screen"):
                right.execute(Click(960, 20), StopToken())
        with pytest.raises(Exception, match="no monitor 3: this screen has monitors 1 to 2"):
            LocalDesktop(virtual_display.screen, monitor=3)
    finally:
        xrandr("--delmonitor", "shain-left")
        xrandr("--delmonitor", "shain-right")


def test_closing_gives_every_borrowed_keycode_back() -> None:
    from agent.desktop.x11_keymap import X11Keymap

    # A screen of its own: the module's desktop holds keycodes on the shared one.
    with VirtualDisplay(Size(320, 240), window_manager=None) as screen:
        first = X11Keymap(screen.display)
        spare = len(first._spare)
        # More distinct characters than spare keycodes: the keycodes are reused in rounds.
        text = "".join(chr(code) for code in range(0x4E00, 0x4E00 + spare * 2 + 3))
        for index, character in enumerate(text):
            first.type_character(character, text[index + 1 :])
        first.close()
        second = X11Keymap(screen.display)
        assert len(second._spare) == spare
        second.close()


def test_shains_own_windows_are_masked_and_never_clicked(
    desktop: LocalDesktop, launcher: AppLauncher, xlib_display: Any
) -> None:
    from agent.desktop.exclusions import MASK_BGRA
    from agent.geometry import Box

    launcher.launch(["xterm", "-geometry", "80x24+0+0", "-title", "under-shain"])
    wait_for(WindowAppears("under-shain"), 20, StopToken(), launcher.screen)
    box = Box(40, 40, 200, 120)  # as if Shain's progress window sat over the terminal
    before = desktop.capture().pixels[
        box.top : box.top + box.height, box.left : box.left + box.width
    ]
    assert not (before == MASK_BGRA).all()  # the terminal is there
    desktop.excluded.set("progress", box)
    try:
        masked = desktop.capture().pixels
        inside = masked[box.top : box.top + box.height, box.left : box.left + box.width]
        assert (inside == MASK_BGRA).all()
        assert not (masked[box.top + box.height + 5, box.left : box.left + 50] == MASK_BGRA).all()
        desktop.execute(Move(500, 500), StopToken())
        with pytest.raises(ActionError, match="would land on Shain's own window"):
            desktop.execute(Click(100, 100), StopToken())
        assert _pointer(xlib_display)[:2] == (500, 500)  # nothing moved
    finally:
        desktop.excluded.set("progress", None)
    desktop.execute(Click(100, 100), StopToken())  # gone: allowed again
