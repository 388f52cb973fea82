"""X11Input, the office's hands on an employee's screen, on a real Xvfb with the target app:
clicks land on the pixel asked for with the button asked for, text in any script arrives as
typed (more distinct characters than the screen has spare keycodes), a shortcut acts as one,
and a keymap another program changed meanwhile (the employee's own typing) is followed."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.desktop.apps import AppLauncher
from agent.desktop.screen import Screen
from agent.desktop.x11_input import X11Input
from agent.desktop.x11_keymap import X11Keymap

pytestmark = pytest.mark.desktop

TARGET_APP = Path(__file__).resolve().parent.parent / "apps" / "target_app.py"
# 30 distinct characters the keymap lacks: the 14 spare keycodes are reused twice over.
LONG_JAPANESE = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"


def _events(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]


def _wait_for(out: Path, kind: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    """The app's events of this kind, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [event for event in _events(out) if event["event"] == kind]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} {kind!r} events in {timeout:g}s: {_events(out)}")


@pytest.fixture
def target(launcher: AppLauncher, tmp_path: Path) -> Path:
    """The target app, up and focused; its events file."""
    out = tmp_path / "events.jsonl"
    launcher.launch(
        [sys.executable, str(TARGET_APP), "--x", "300", "--y", "200", "--out", str(out)]
    )
    (ready,) = _wait_for(out, "ready")
    assert ready["focused"], ready
    return out


@pytest.fixture
def hands(app_screen: Screen) -> Iterator[X11Input]:
    assert app_screen.display is not None
    with X11Input(app_screen.display) as opened:
        yield opened


def _click_entry(hands: X11Input, out: Path) -> None:
    clicks = len(_wait_for(out, "click", 0))
    (ready,) = _wait_for(out, "ready")
    left, top, width, height = ready["entry"]
    hands.click(left + width // 2, top + height // 2)
    # The window manager replays a click to the app while keys go straight there: wait for
    # the app to have it before typing (a boss's hand is slower than that anyway).
    _wait_for(out, "click", clicks + 1)


def test_clicks_land_on_the_pixel_with_the_button_asked_for(hands: X11Input, target: Path) -> None:
    # At machine speed, one after the other: the window manager replays each press to the
    # app, and what comes right after a press must not overtake it.
    hands.click(1234, 567)
    hands.click(77, 1001, button=3)
    hands.move(400, 300)
    hands.button(2, True)
    hands.button(2, False)
    hands.click(900, 800, count=2)
    hands.scroll(500, 600, down=1)
    hands.move(10, 10)
    clicks = [(e["x"], e["y"], e["button"]) for e in _wait_for(target, "click", 6)]
    assert clicks == [
        (1234, 567, 1), (77, 1001, 3), (400, 300, 2), (900, 800, 1), (900, 800, 1), (500, 600, 5),
    ]  # fmt: skip


def test_text_in_any_script_and_a_shortcut_arrive_as_typed(hands: X11Input, target: Path) -> None:
    _click_entry(hands, target)
    hands.type_text("café, naïve: ~`|{}!")
    hands.press_combination(("ctrl", "a"))  # Tk's entry: to the start of the line
    hands.type_text(LONG_JAPANESE + " Ünïcødé € ")
    hands.press_combination(("enter",))
    (entry,) = _wait_for(target, "entry")
    assert entry["text"] == LONG_JAPANESE + " Ünïcødé € café, naïve: ~`|{}!"


def test_clicks_right_after_typing_land_where_sent(hands: X11Input, target: Path) -> None:
    """Typing what the keymap lacks changes the keymap, and the window manager is busy with
    that for a while: a press it holds meanwhile must not be overtaken by what comes next."""
    _click_entry(hands, target)
    hands.type_text("吾輩は猫である")
    hands.press_combination(("enter",))
    hands.click(300, 700, button=3)
    hands.click(1500, 700, count=2)
    hands.scroll(500, 500, down=1)
    _wait_for(target, "entry")
    clicks = [(e["x"], e["y"], e["button"]) for e in _wait_for(target, "click", 5)][1:]
    assert clicks == [(300, 700, 3), (1500, 700, 1), (1500, 700, 1), (500, 500, 5)]


def _spare_keycodes(display: str) -> int:
    from Xlib.display import Display

    connection = Display(display)
    try:
        first = connection.display.info.min_keycode
        count = connection.display.info.max_keycode - first + 1
        return sum(not any(syms) for syms in connection.get_keyboard_mapping(first, count))
    finally:
        connection.close()


def test_a_keymap_another_program_changed_is_followed(
    hands: X11Input, target: Path, app_screen: Screen
) -> None:
    """The employee's own typing maps characters on spare keycodes too; a character that was
    on a keycode when this connection read the map may have moved since."""
    display = app_screen.display or ""
    spare = _spare_keycodes(display)
    employee = X11Keymap(display)
    try:
        _click_entry(hands, target)
        employee.type_character("é")  # on the first spare keycode
        late = X11Input(display)  # its copy of the map has é there
        try:
            # The employee types on: once every spare keycode is used, it starts again at the
            # first, and ü takes é's keycode.
            others = "".join(chr(0x4E00 + n) for n in range(spare - 1))
            for character in others + "ü":
                employee.type_character(character)
            time.sleep(0.2)
            # Every spare keycode is the employee's now: the office borrows one of them for
            # the time it types, and gives it back as it was.
            late.type_text("é")
        finally:
            late.close()
        employee.type_character("ü")
        hands.press_combination(("enter",))
    finally:
        employee.close()
    (entry,) = _wait_for(target, "entry")
    assert entry["text"] == "é" + others + "üéü"
