"""Conditions a task waits for (`wait_for`): a window title appears (or is gone), a file
exists, a thing named by what it is shows on the screen."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from agent.desktop.screen import Screen
from agent.desktop.windows import WindowInfo, list_windows
from agent.errors import DesktopError, UnsupportedError
from agent.perception.locator import Locator, Target
from agent.stop import StopToken

POLL_SECONDS = 0.05


def _windows(screen: Screen | None) -> list[WindowInfo]:
    if screen is None or screen.display is None:
        raise UnsupportedError("waiting for a window needs an X screen")
    return list_windows(screen.display)


@dataclass(frozen=True, slots=True)
class WindowAppears:
    pattern: str  # a regular expression searched in each window title
    focused: bool = True  # ...and it must hold the keyboard focus, ready for typing
    kind: str = "window"

    def holds(self, screen: Screen | None) -> bool:
        regex = re.compile(self.pattern)
        return any(
            regex.search(window.title) and (window.focused or not self.focused)
            for window in _windows(screen)
        )

    def describe(self) -> str:
        focus = " with the keyboard focus" if self.focused else ""
        return f"a window titled /{self.pattern}/{focus}"

    def situation(self, screen: Screen | None) -> str:
        titles = [
            repr(window.title) + (" (focused)" if window.focused else "")
            for window in _windows(screen)
        ]
        return "windows open: " + (", ".join(titles) if titles else "none")


@dataclass(frozen=True, slots=True)
class WindowGone:
    pattern: str  # a regular expression: no window title may match it
    kind: str = "window_gone"

    def holds(self, screen: Screen | None) -> bool:
        regex = re.compile(self.pattern)
        return not any(regex.search(window.title) for window in _windows(screen))

    def describe(self) -> str:
        return f"no window titled /{self.pattern}/"

    def situation(self, screen: Screen | None) -> str:
        return WindowAppears(self.pattern, focused=False).situation(screen)


@dataclass(frozen=True, slots=True)
class NewWindow:
    """A window that was not there before (`known`: the ids of those that were) is open."""

    what: str  # what is expected to open it, for messages
    known: frozenset[int]
    kind: str = "new_window"

    def holds(self, screen: Screen | None) -> bool:
        return any(window.window_id not in self.known for window in _windows(screen))

    def describe(self) -> str:
        return f"a new window of {self.what}"

    def situation(self, screen: Screen | None) -> str:
        return WindowAppears(".", focused=False).situation(screen)


@dataclass(frozen=True, slots=True)
class FileExists:
    path: str
    kind: str = "file"

    def holds(self, screen: Screen | None) -> bool:
        return Path(self.path).exists()

    def describe(self) -> str:
        return f"the file {self.path}"

    def situation(self, screen: Screen | None) -> str:
        return f"{self.path} does not exist"


@dataclass(frozen=True, slots=True, eq=False)
class TargetAppears:
    """Something named by what it is (a text, a role, a name) is on the screen."""

    target: Target
    locator: Locator
    kind: str = "target"

    def holds(self, screen: Screen | None) -> bool:
        return bool(self.locator.poll(self.target))

    def describe(self) -> str:
        return f"{self.target.describe()} on the screen"

    def situation(self, screen: Screen | None) -> str:
        return self.locator.what_is_visible()


Condition = WindowAppears | WindowGone | NewWindow | FileExists | TargetAppears


class ConditionTimeout(DesktopError):
    """A wait_for that did not come true in time."""


def wait_for(
    condition: Condition, timeout: float, stop: StopToken, screen: Screen | None = None
) -> float:
    """Poll until the condition holds on `screen` (only a file needs none); returns the seconds
    waited. Raises ConditionTimeout."""
    started = time.monotonic()
    while not condition.holds(screen):
        waited = time.monotonic() - started
        if waited >= timeout:
            raise ConditionTimeout(
                f"waited {timeout:g}s for {condition.describe()}; {condition.situation(screen)}"
            )
        stop.sleep(POLL_SECONDS)
    return time.monotonic() - started
