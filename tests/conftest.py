"""Fixtures shared by the suites: a real virtual screen, apps launched on it, run folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.desktop.apps import AppLauncher, private_profile
from agent.desktop.screen import Screen
from agent.desktop.virtual_display import VirtualDisplay
from tests.decided_three_ways import run_decided_three_ways


@pytest.fixture(scope="session")
def virtual_display() -> Iterator[VirtualDisplay]:
    """One private virtual screen for the in-process desktop tests, with its own accessibility
    bus, so the apps on it publish their accessibility tree.

    pyautogui binds the display named by DISPLAY when first imported, so this process
    points DISPLAY at the virtual screen before any test opens a LocalDesktop.
    """
    with VirtualDisplay(accessibility=True) as display:
        previous = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = display.display
        try:
            yield display
        finally:
            if previous is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = previous


@pytest.fixture
def app_screen(virtual_display: VirtualDisplay, tmp_path: Path) -> Screen:
    """The virtual screen, with apps started in a private profile for this one test."""
    # (Settings in memory too: the bus's shared dconf-service would carry mousepad's session,
    # and its restored windows, from one test to the next.)
    profile = private_profile(virtual_display.child_environment(), tmp_path / "profile")
    return virtual_display.screen.with_environment(profile)


@pytest.fixture
def app_environment(app_screen: Screen) -> dict[str, str]:
    """The environment for apps in one test: the virtual screen and a private profile."""
    return dict(app_screen.environment)


@pytest.fixture
def launcher(app_screen: Screen) -> Iterator[AppLauncher]:
    apps = AppLauncher(app_screen)
    yield apps
    apps.close_all()


@pytest.fixture(scope="session")
def decided_three_ways(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a real run decided by the script, the model and the model in a script
    step's place (tests/decided_three_ways.py), made once for the report's and viewer's tests."""
    return run_decided_three_ways(tmp_path_factory.mktemp("three-ways")).run_folder
