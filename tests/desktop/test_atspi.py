"""The AT-SPI reader against real GTK apps on a private screen with its own accessibility bus."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.apps import AppLauncher
from agent.conditions import WindowAppears, wait_for
from agent.desktop.virtual_display import VirtualDisplay
from agent.errors import EnvironmentProblem
from agent.geometry import Size
from agent.perception.atspi import AccessibilityReader, Element, bus_address
from agent.stop import StopToken

pytestmark = pytest.mark.desktop

BUS_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"


@pytest.fixture
def accessible_apps(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A screen whose session bus has an accessibility bus before any app starts."""
    if not Path(BUS_LAUNCHER).exists():
        pytest.skip("at-spi2-core is not installed")
    with VirtualDisplay(Size(1600, 900), session_bus=True) as display:
        environment = display.child_environment()
        home = tmp_path / "home"
        environment.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
        environment.update(XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local"))
        environment["GSETTINGS_BACKEND"] = "memory"
        environment.pop("NO_AT_BRIDGE", None)
        apps = AppLauncher(environment)
        try:
            apps.launch([BUS_LAUNCHER, "--launch-immediately"])
            # The apps ask the session bus for it at start-up; wait until it answers.
            deadline = time.monotonic() + 10
            while True:
                try:
                    bus_address(environment)
                    break
                except EnvironmentProblem:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            stop = StopToken()
            # Mousepad first, so galculator is on top where the test clicks it.
            apps.launch("mousepad")
            wait_for(WindowAppears("Mousepad", focused=False), 20, stop, display.display)
            apps.launch("galculator")
            wait_for(WindowAppears("^galculator$"), 20, stop, display.display)
            yield environment
        finally:
            apps.close_all()


def find(elements: list[Element], app: str, name: str, roles: set[str]) -> Element:
    matches = [e for e in elements if e.app == app and e.name == name and e.role in roles]
    assert matches, f"no {roles} named {name!r} in {app}: {[(e.role, e.name) for e in elements]}"
    return matches[0]


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


def test_no_session_bus_is_a_clear_problem() -> None:
    with pytest.raises(EnvironmentProblem, match="session bus"):
        AccessibilityReader({"PATH": "/usr/bin"})
