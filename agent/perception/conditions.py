"""Conditions a task waits for (`wait_for`): a window title appears (or is gone), a file
exists, a thing named by what it is shows on the screen."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from agent.desktop.windows import list_windows
from agent.errors import DesktopError
from agent.perception.locator import Locator, Target
from agent.stop import StopToken

POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class WindowAppears:
    pattern: str  # a regular expression searched in each window title
    focused: bool = True  # ...and it must hold the keyboard focus, ready for typing
    kind: str = "window"

    def holds(self, display: str | None) -> bool:
        regex = re.compile(self.pattern)
        return any(
            regex.search(window.title) and (window.focused or not self.focused)
            for window in list_windows(display)
        )

    def describe(self) -> str:
        focus = " with the keyboard focus" if self.focused else ""
        return f"a window titled /{self.pattern}/{focus}"

    def situation(self, display: str | None) -> str:
        titles = [
            repr(window.title) + (" (focused)" if window.focused else "")
            for window in list_windows(display)
        ]
        return "windows open: " + (", ".join(titles) if titles else "none")


@dataclass(frozen=True, slots=True)
class WindowGone:
    pattern: str  # a regular expression: no window title may match it
    kind: str = "window_gone"

    def holds(self, display: str | None) -> bool:
        regex = re.compile(self.pattern)
        return not any(regex.search(window.title) for window in list_windows(display))

    def describe(self) -> str:
        return f"no window titled /{self.pattern}/"

    def situation(self, display: str | None) -> str:
        return WindowAppears(self.pattern, focused=False).situation(display)


@dataclass(frozen=True, slots=True)
class FileExists:
    path: str
    kind: str = "file"

    def holds(self, display: str | None) -> bool:
        return Path(self.path).exists()

    def describe(self) -> str:
        return f"the file {self.path}"

    def situation(self, display: str | None) -> str:
        return f"{self.path} does not exist"


@dataclass(frozen=True, slots=True, eq=False)
class TargetAppears:
    """Something named by what it is (a text, a role, a name) is on the screen."""

    target: Target
    locator: Locator
    kind: str = "target"

    def holds(self, display: str | None) -> bool:
        return bool(self.locator.poll(self.target))

    def describe(self) -> str:
        return f"{self.target.describe()} on the screen"

    def situation(self, display: str | None) -> str:
        return self.locator.what_is_visible()


Condition = WindowAppears | WindowGone | FileExists | TargetAppears


class ConditionTimeout(DesktopError):
    """A wait_for that did not come true in time."""


def wait_for(
    condition: Condition, timeout: float, stop: StopToken, display: str | None = None
) -> float:
    """Poll until the condition holds; returns the seconds waited. Raises ConditionTimeout."""
    started = time.monotonic()
    while not condition.holds(display):
        waited = time.monotonic() - started
        if waited >= timeout:
            raise ConditionTimeout(
                f"waited {timeout:g}s for {condition.describe()}; {condition.situation(display)}"
            )
        stop.sleep(POLL_SECONDS)
    return time.monotonic() - started
