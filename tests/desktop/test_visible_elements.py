"""What a user can see of two overlapping real apps: the accessibility tree against the window
stack, on the shared screen."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from agent.desktop.apps import AppLauncher
from agent.desktop.screen import Screen
from agent.desktop.virtual_display import VirtualDisplay
from agent.desktop.windows import WindowInfo, list_windows, window_stack
from agent.perception.atspi import Element, snapshot
from agent.perception.conditions import WindowAppears, wait_for
from agent.perception.visibility import visible_elements
from agent.stop import StopToken

pytestmark = pytest.mark.desktop

KEYS = {"push button", "toggle button"}  # galculator's keys are toggle buttons


@dataclass(frozen=True)
class TwoApps:
    screen: Screen
    mousepad: WindowInfo
    galculator: WindowInfo

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.screen.environment)

    def run(self, *command: str) -> None:
        subprocess.run(command, env=self.environment, check=True, timeout=10)

    def place(self, window: WindowInfo, left: int, top: int, width: int, height: int) -> None:
        self.run(
            "wmctrl", "-i", "-r", hex(window.window_id), "-e", f"0,{left},{top},{width},{height}"
        )

    def raise_(self, window: WindowInfo) -> None:
        self.run("wmctrl", "-i", "-a", hex(window.window_id))

    def click(self, element: Element) -> None:
        centre = element.box.center
        self.run("xdotool", "mousemove", "--sync", str(centre.x), str(centre.y), "click", "1")


@pytest.fixture
def two_apps(virtual_display: VirtualDisplay, launcher: AppLauncher) -> TwoApps:
    """Mousepad and, over it, galculator, both in the accessibility tree."""
    stop = StopToken()
    launcher.launch("mousepad")
    wait_for(WindowAppears("Mousepad", focused=False), 20, stop, virtual_display.screen)
    launcher.launch("galculator")
    wait_for(WindowAppears("^galculator$"), 20, stop, virtual_display.screen)
    windows = {w.title: w for w in list_windows(virtual_display.display)}
    mousepad = next(w for title, w in windows.items() if title.endswith("Mousepad"))
    apps = TwoApps(launcher.screen, mousepad, windows["galculator"])
    registered = until(apps, lambda seen: list({"mousepad", "galculator"} - {e.app for e in seen}))
    assert {"mousepad", "galculator"} <= {e.app for e in registered}
    return apps


def until(apps: TwoApps, problems: Callable[[list[Element]], list[str]]) -> list[Element]:
    """The visible elements once they show no problems (windows move, and apps tell AT-SPI,
    a moment after being told to), or as they are after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        seen = visible_elements(apps.screen)
        if not problems(seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def named(elements: list[Element], app: str, name: str, roles: set[str] | None = None) -> bool:
    return any(
        e.app == app and e.name.strip() == name and (roles is None or e.role in roles)
        for e in elements
    )


def test_a_window_on_top_hides_what_it_covers_until_the_other_is_raised(two_apps: TwoApps) -> None:
    # Galculator's frame (x 50-383) over mousepad's top-left corner (from x 100): its menus File
    # to Document are under it, Help (x 372-418) mostly sticks out.
    two_apps.place(two_apps.mousepad, 100, 100, 800, 600)
    two_apps.place(two_apps.galculator, 50, 50, -1, -1)
    two_apps.raise_(two_apps.galculator)

    covered = ("File", "Edit", "Search", "View", "Document")

    def galculator_on_top(seen: list[Element]) -> list[str]:
        return [
            *[f"covered {m} seen" for m in covered if named(seen, "mousepad", m)],
            *([] if named(seen, "mousepad", "Help") else ["Help not seen"]),
            *[f"key {k} not seen" for k in "0123456789+=" if not named(seen, "galculator", k)],
        ]

    assert not galculator_on_top(until(two_apps, galculator_on_top))
    everything = snapshot(two_apps.environment)
    assert named(everything, "mousepad", "File")  # AT-SPI itself says it is showing

    two_apps.raise_(two_apps.mousepad)

    def mousepad_on_top(seen: list[Element]) -> list[str]:
        menus = (*covered, "Help")
        # Galculator's left column of keys (x 57-116) sticks out left of mousepad (x from 100).
        return [
            *[f"{m} not seen" for m in menus if not named(seen, "mousepad", m)],
            *[f"key {k} not seen" for k in "0147" if not named(seen, "galculator", k)],
            *[f"covered key {k} seen" for k in "235689+=" if named(seen, "galculator", k)],
        ]

    assert not mousepad_on_top(until(two_apps, mousepad_on_top))


def test_an_open_menu_is_seen_over_another_app(two_apps: TwoApps) -> None:
    # A short mousepad with galculator below it: mousepad's File menu drops over galculator's.
    two_apps.place(two_apps.mousepad, 100, 100, 400, 120)
    two_apps.place(two_apps.galculator, 50, 300, -1, -1)
    two_apps.raise_(two_apps.mousepad)

    def side_by_side(seen: list[Element]) -> list[str]:
        return [
            f"{app} {menu} not seen"
            for app in ("mousepad", "galculator")
            for menu in ("File", "View")
            if not named(seen, app, menu, {"menu"})
        ]

    seen = until(two_apps, side_by_side)
    assert not side_by_side(seen)
    two_apps.click(next(e for e in seen if e.app == "mousepad" and e.name == "File"))

    def menu_open(seen: list[Element]) -> list[str]:
        items = ("New", "Open...", "Save", "Quit")
        return [
            *[f"{item} not seen" for item in items if not named(seen, "mousepad", item)],
            # Galculator's own menus under the popup are hidden, though they are menus too.
            *(
                ["galculator View seen under the popup"]
                if named(seen, "galculator", "View")
                else []
            ),
            *([] if named(seen, "galculator", "File") else ["galculator File (left) not seen"]),
        ]

    try:
        assert not menu_open(until(two_apps, menu_open))
    finally:
        two_apps.run("xdotool", "key", "Escape")


def test_window_boxes_match_the_accessibility_tree(two_apps: TwoApps) -> None:
    two_apps.place(two_apps.mousepad, 400, 150, 700, 500)
    two_apps.place(two_apps.galculator, 1200, 200, -1, -1)

    def frames_in_place(seen: list[Element]) -> list[str]:
        lefts = {e.app: e.box.left for e in seen if e.role == "frame"}
        return [f"{app} not moved" for app, left in lefts.items() if left < 400] or (
            [] if len(lefts) == 2 else ["a frame missing"]
        )

    seen = until(two_apps, frames_in_place)
    assert not frames_in_place(seen)
    stack = window_stack(two_apps.environment["DISPLAY"])
    framed = {w.client.title: w for w in stack.windows if w.client is not None}
    for frame in (e for e in seen if e.role == "frame"):
        window = framed[frame.name]
        # GTK gives the frame's box (decorations included); the client area lies within it.
        assert frame.box == window.box
        assert window.client is not None
        assert window.box.encloses(window.client.box)
        assert window.client.box.top > window.box.top  # below the title bar
    mousepad = framed[next(e.name for e in seen if e.app == "mousepad" and e.role == "frame")]
    assert mousepad.client is not None
    assert (mousepad.client.box.width, mousepad.client.box.height) == (700, 500)
    # Bottom first: galculator started last, so it is on top.
    assert [w.client.title for w in stack.windows if w.client][-1] == "galculator"


def test_timings(two_apps: TwoApps) -> None:
    display = two_apps.environment["DISPLAY"]
    timings = {
        "visible elements (snapshot + stack + filter)": lambda: visible_elements(two_apps.screen),
        "AT-SPI snapshot": lambda: snapshot(two_apps.environment),
        "window stack": lambda: window_stack(display),
    }
    medians = {}
    for label, read in timings.items():
        times = []
        for _ in range(7):
            started = time.perf_counter()
            read()
            times.append(time.perf_counter() - started)
        medians[label] = statistics.median(times)
        print(f"{label}: median {medians[label] * 1000:.1f} ms")
    assert medians["window stack"] < 0.1


def test_a_tooltip_over_a_button_does_not_hide_it(two_apps: TwoApps) -> None:
    """GTK shows a tooltip where the pointer rests, over the keys below it; it goes as soon as
    the pointer moves, so the keys under it still count as seen."""
    keys = {e.name: e for e in until(two_apps, lambda seen: []) if e.role in KEYS}
    one, zero = keys["1"].box.center, keys["0"].box.center
    two_apps.raise_(two_apps.galculator)
    two_apps.run("xdotool", "mousemove", "--sync", str(one.x), str(one.y), "click", "1")
    two_apps.run("xdotool", "mousemove", str(one.x + 2), str(one.y + 1))  # rests: a tooltip

    def tooltip_over_zero() -> bool:
        window = window_stack(two_apps.environment["DISPLAY"]).windows[-1]
        return window.tooltip and window.box.contains(zero)

    deadline = time.monotonic() + 5
    while not tooltip_over_zero():
        assert time.monotonic() < deadline, "no tooltip came up over the 0 key"
        time.sleep(0.1)
    seen = {e.name for e in visible_elements(two_apps.screen) if e.role in KEYS}
    assert "0" in seen
