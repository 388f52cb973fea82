"""Drawing on a screen as the X server reports it (the DAMAGE extension): what settle waits on.

The server reports every rectangle drawn on the root window. Without a compositor (Xvfb, and
the boss's plain X11 session) every window is drawn into the root's framebuffer, so that is
all drawing on the screen, thin changes included (a focus ring, a caret). Under a compositing
manager windows are drawn off screen and the root is not told; a screen with one is refused
here (settle samples it instead). Waiting on these
reports costs nothing while nothing is drawn: no capture, no comparison, a blocked `select`.

Drawing is not change: an app may redraw what is already there. That only makes a settle
wait longer, never look too soon; whether the screen changed is still decided by pixels.
"""

from __future__ import annotations

import contextlib
import select
import time
from typing import Any

from agent.desktop.screen import Screen
from agent.errors import EnvironmentProblem, ScreenGone


class ScreenDrawing:
    """The drawing reported on one X screen since `forget`. Use from one thread."""

    def __init__(self, screen: Screen) -> None:
        from Xlib import X
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError
        from Xlib.ext import damage

        try:
            self._display: Any = xdisplay.Display(screen.display)
        except (DisplayError, OSError) as error:
            raise EnvironmentProblem(f"cannot watch the screen for drawing: {error}") from error
        if not self._display.has_extension("DAMAGE"):
            self._display.close()
            raise EnvironmentProblem(f"the X server of {screen.display} has no DAMAGE extension")
        compositor = self._display.get_selection_owner(
            self._display.intern_atom(f"_NET_WM_CM_S{self._display.get_default_screen()}")
        )
        if getattr(compositor, "id", compositor) != X.NONE:
            self._display.close()
            raise EnvironmentProblem(
                f"a compositing manager draws {screen.display}: the windows' drawing is not "
                "reported on the root window there"
            )
        self._display.damage_query_version()  # the protocol needs this before any request
        self._notify = self._display.extension_event.DamageNotify
        root = self._display.screen().root
        self._damage = root.damage_create(damage.DamageReportRawRectangles)
        self._display.sync()
        self._name = screen.display or ""
        self.latest: float | None = None  # monotonic time of the latest drawing since forget
        self.rectangles = 0  # how many drawn rectangles were reported since forget
        self._reports = 0  # how many since the start, never forgotten

    def forget(self) -> None:
        """Count drawing from now on only (call it just before acting)."""
        self._read()
        self.latest, self.rectangles = None, 0

    def wait(self, timeout: float) -> float | None:
        """Wait up to `timeout` seconds for drawing; the time of the latest drawing since
        `forget` (None when there was none), returning as soon as some is reported."""
        try:
            if not self._display.pending_events():
                select.select([self._display], [], [], max(0.0, timeout))
        except Exception as error:  # the connection broke: the X server died
            raise self._gone(error) from error
        self._read()
        return self.latest

    def reported(self) -> int:
        """How many drawings were reported since the start; a round trip first, so that every
        drawing the server did before this call is counted."""
        try:
            self._display.sync()
        except Exception as error:  # as in wait
            raise self._gone(error) from error
        self._read()
        return self._reports

    def _read(self) -> None:
        display = self._display
        try:
            while display.pending_events():
                event = display.next_event()
                if event.type == self._notify:
                    self.latest = time.monotonic()
                    self.rectangles += 1
                    self._reports += 1
        except Exception as error:  # as in wait
            raise self._gone(error) from error

    def _gone(self, error: Exception) -> ScreenGone:
        return ScreenGone(f"the screen {self._name} went away: {error}")

    def close(self) -> None:
        # The server may be gone already; nothing is left to free then.
        with contextlib.suppress(Exception):
            self._display.close()
