"""A screen as a value: which display, how big, and what the apps on it need.

One process used to mean one screen, named by `os.environ["DISPLAY"]` and read back wherever
it was needed. A `Screen` says it explicitly and is passed down: to the task session, the
desktop, conditions, checks and perception. It is made by a virtual display
(`VirtualDisplay.screen`), or describes the desktop this process was started on
(`Screen.of_this_session`, the one place in the core that reads `DISPLAY` from the
environment to name a screen).

Capture and input for a screen by its display name (mss, python-xlib) work for any number of
screens in one process; only pyautogui binds one display per process (see LocalDesktop).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from agent.errors import EnvironmentProblem
from agent.geometry import Size

ACCESSIBILITY_BUS_VARIABLE = "AT_SPI_BUS_ADDRESS"


def _frozen(environment: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(environment))


@dataclass(frozen=True)
class Screen:
    """A screen Shain can look at and act on.

    `display` is the X display name (":5"), None where there is no X (Windows, macOS).
    `environment` is what every program started for this screen gets: DISPLAY, the session
    and accessibility buses, and for a private screen a throwaway profile. `size` is known for
    a virtual screen; for the user's desktop it is measured when a desktop opens it.
    """

    display: str | None
    environment: Mapping[str, str] = field(default_factory=dict, compare=False)
    size: Size | None = None
    private: bool = False  # a virtual screen of Shain's own, nobody else's desktop

    def __post_init__(self) -> None:
        object.__setattr__(self, "environment", _frozen(self.environment))

    @classmethod
    def of_this_session(cls, environ: Mapping[str, str] | None = None) -> Screen:
        """The desktop this process was started on, as `environ` (default: os.environ) says."""
        environment = os.environ if environ is None else environ
        display = environment.get("DISPLAY") or None
        if sys.platform.startswith("linux") and display is None:
            why = (
                "this is a Wayland session without X (Shain drives X screens)"
                if environment.get("WAYLAND_DISPLAY")
                else "DISPLAY is not set"
            )
            raise EnvironmentProblem(
                f"no display: {why}. Run on an X11 desktop session, or add --virtual-display "
                "to run on a private virtual screen"
            )
        return cls(display, environment)

    @property
    def accessibility_bus(self) -> str | None:
        """The address of this screen's own accessibility bus, when it has one."""
        return self.environment.get(ACCESSIBILITY_BUS_VARIABLE)

    def with_environment(self, environment: Mapping[str, str]) -> Screen:
        """The same screen, with programs started in `environment` (a private profile, say)."""
        return replace(self, environment=environment)

    def describe(self) -> str:
        size = f" ({self.size})" if self.size is not None else ""
        where = "a private screen" if self.private else "the desktop"
        return f"{where} {self.display or ''}{size}".strip()
