"""Capture of one monitor of a screen, by the screen's display name, with one reused mss object.

mss takes a display name, so any number of screens can be captured in one process (the
office's live views read each employee's screen this way); only input through pyautogui is
bound to one display per process. An mss object must be used on the thread that made it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from agent.desktop.protocol import Frame
from agent.desktop.screen import Screen
from agent.errors import EnvironmentProblem
from agent.geometry import Box


class ScreenCapture:
    """Grabs frames of one monitor of `screen` (the primary one by default)."""

    def __init__(self, screen: Screen, monitor: int | None = None) -> None:
        import mss  # not at import time: it needs a display

        try:
            self._mss: Any = mss.MSS(display=screen.display) if screen.display else mss.MSS()
        except Exception as error:
            raise EnvironmentProblem(f"cannot capture the screen: {error}") from error
        monitors = self._mss.monitors
        if monitor is None:
            self._monitor = self._mss.primary_monitor
        elif 1 <= monitor < len(monitors):
            self._monitor = monitors[monitor]
        else:
            self._mss.close()
            raise EnvironmentProblem(
                f"no monitor {monitor}: this screen has monitors 1 to {len(monitors) - 1}"
            )

    @property
    def monitor(self) -> Box:
        """Where the captured monitor lies, in the screen's input coordinates."""
        area = self._monitor
        return Box(area["left"], area["top"], area["width"], area["height"])

    def grab(self) -> Frame:
        """The monitor now: a view of mss's buffer, valid until the next grab."""
        shot = self._mss.grab(self._monitor)
        pixels = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
        return Frame(pixels=pixels, captured_at=time.monotonic())

    def close(self) -> None:
        self._mss.close()

    def __enter__(self) -> ScreenCapture:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
