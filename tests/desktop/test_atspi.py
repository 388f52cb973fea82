"""The AT-SPI reader against real GTK apps on the shared screen with its own accessibility bus."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

import pytest

from agent.desktop.apps import AppLauncher
from agent.desktop.virtual_display import VirtualDisplay
from agent.errors import EnvironmentProblem
from agent.perception.atspi import TEXT_LIMIT, TEXT_ROLES, AccessibilityReader, Element
from agent.perception.conditions import WindowAppears, wait_for
from agent.stop import StopToken

pytestmark = pytest.mark.desktop


@pytest.fixture
def accessible_apps(
    virtual_display: VirtualDisplay, launcher: AppLauncher, app_environment: dict[str, str]
) -> dict[str, str]:
    """Mousepad and galculator on the shared screen, which has its own accessibility bus."""
    stop = StopToken()
    # Mousepad first, so galculator is on top where the test clicks it.
    launcher.launch("mousepad")
    wait_for(WindowAppears("Mousepad", focused=False), 20, stop, virtual_display.screen)
    launcher.launch("galculator")
    wait_for(WindowAppears("^galculator$"), 20, stop, virtual_display.screen)
    return app_environment


def find(elements: list[Element], app: str, name: str, roles: set[str]) -> Element:
    matches = [e for e in elements if e.app == app and e.name == name and e.role in roles]
    assert matches, f"no {roles} named {name!r} in {app}: {[(e.role, e.name) for e in elements]}"
    return matches[0]


def calculator_display(elements: list[Element]) -> str | None:
    displays = [e.text for e in elements if e.app == "galculator" and e.role == "text"]
    assert len(displays) == 1, displays
    return displays[0]


def snapshot_until(reader: AccessibilityReader, ready: set[str]) -> list[Element]:
    """Apps register their tree a moment after their window maps."""
    deadline = time.monotonic() + 10
    while True:
        elements = reader.snapshot()
        if ready <= {e.app for e in elements} or time.monotonic() > deadline:
            return elements
        time.sleep(0.1)


def test_reads_and_clicks_real_apps(accessible_apps: dict[str, str]) -> None:
    environment = accessible_apps
    with AccessibilityReader(environment) as reader:
        elements = snapshot_until(reader, {"galculator", "mousepad"})
        buttons = {"push button", "toggle button"}  # galculator's keys are toggle buttons
        keys = {name: find(elements, "galculator", name, buttons) for name in "7+8="}
        assert all("Click" in key.actions for key in keys.values())
        for menu in ("File", "Edit"):
            find(elements, "mousepad", menu, {"menu", "menu item"})
        assert all(e.box.width > 0 and e.box.height > 0 for e in elements)
        assert all({"showing", "visible"} <= e.states for e in elements)
        # Each element knows its window, and lies in it.
        frame = find(elements, "galculator", "galculator", {"frame"})
        assert all(key.window_name == "galculator" for key in keys.values())
        assert all(key.window_box == frame.box for key in keys.values())
        assert all(frame.box.encloses(key.box) for key in keys.values())
        assert calculator_display(elements) == "0"

        times = []
        for _ in range(5):
            started = time.perf_counter()
            reader.snapshot()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(f"AT-SPI snapshot of {len(elements)} elements: median {median:.4f} s")

    def xdotool(*arguments: str) -> None:
        subprocess.run(["xdotool", *arguments], env=environment, check=True, timeout=10)

    for name in "7+8=":
        centre = keys[name].box.center
        xdotool("mousemove", "--sync", str(centre.x), str(centre.y), "click", "1")
    xdotool("key", "ctrl+c")
    deadline = time.monotonic() + 5
    while True:
        result = subprocess.run(
            ["xclip", "-o", "-selection", "clipboard"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if result.stdout.strip() == "15" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert result.stdout.strip() == "15", (result.stdout, result.stderr)
    with AccessibilityReader(environment) as reader:
        assert calculator_display(reader.snapshot()) == "15"


def test_text_widgets_give_their_text_up_to_a_limit(
    virtual_display: VirtualDisplay, launcher: AppLauncher, app_environment: dict[str, str]
) -> None:
    document = Path(app_environment["HOME"]) / "long.txt"
    content = "".join(f"line {number}: the quick brown fox\n" for number in range(40))
    document.write_text(content, encoding="utf-8")
    launcher.launch(["mousepad", str(document)])
    wait_for(WindowAppears("long.txt"), 20, StopToken(), virtual_display.screen)
    with AccessibilityReader(app_environment) as reader:
        elements = snapshot_until(reader, {"mousepad"})
    texts = [e.text for e in elements if e.app == "mousepad" and e.role == "text"]
    assert len(content) > TEXT_LIMIT
    assert texts == [content[:TEXT_LIMIT]]
    # Labels, buttons and menus are not text widgets: their name is what they say.
    assert all(e.text is None for e in elements if e.role not in TEXT_ROLES)


def test_a_password_is_never_read(
    virtual_display: VirtualDisplay, launcher: AppLauncher, app_environment: dict[str, str]
) -> None:
    secret = "hunter2-secret"
    answer = Path(app_environment["HOME"]) / "answer.txt"
    launcher.launch(["sh", "-c", f"zenity --password --title=Login > {answer}"])
    wait_for(WindowAppears("^Login$"), 20, StopToken(), virtual_display.screen)
    with AccessibilityReader(app_environment) as reader:
        before = snapshot_until(reader, {"zenity"})
        assert [e for e in before if e.role == "password text"]
        subprocess.run(
            ["xdotool", "type", "--delay", "5", secret], env=app_environment, check=True, timeout=10
        )
        elements = reader.snapshot()
    passwords = [e for e in elements if e.role == "password text"]
    assert passwords and all(e.text is None for e in passwords)
    assert not [e for e in elements if secret in f"{e.name} {e.text}"]
    # The secret was in the field all along: zenity hands it over on Return.
    subprocess.run(["xdotool", "key", "Return"], env=app_environment, check=True, timeout=10)
    deadline = time.monotonic() + 5
    while not (answer.exists() and answer.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert answer.read_text().strip() == secret


def test_no_session_bus_is_a_clear_problem() -> None:
    with pytest.raises(EnvironmentProblem, match="session bus"):
        AccessibilityReader({"PATH": "/usr/bin"})
