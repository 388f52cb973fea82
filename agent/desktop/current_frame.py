"""The screen now, without capturing it again when nothing has been drawn since the last look.

A step looks at the screen three times around each action: settle's capture at rest, the
reference for the next action, the next step's observation. When the X server has reported
no drawing since a capture (`Drawing.reported`, one round trip, about 0.1 ms), that capture
is still the screen, and it is given again instead of a new one (about 1 ms and 8 MB at
1080p): the observation after a settle is then known true the moment settle returns.
"""

from __future__ import annotations

import dataclasses
import time

from agent.desktop.protocol import Desktop, Frame


class CurrentFrame:
    """Calls give the screen now: a new capture of `desktop`, or its last one again when its
    drawing reports say nothing was drawn since. Use from the thread that reads the reports."""

    def __init__(self, desktop: Desktop) -> None:
        self._desktop = desktop
        self._last: Frame | None = None
        self._reported_before_last = -1
        self.reused = 0  # how many looks were answered without a capture

    def __call__(self) -> Frame:
        drawing = self._desktop.drawing
        if drawing is None:  # no reports: nothing says the screen is unchanged
            return self._desktop.capture()
        # Counted before the capture: drawing between the count and the capture makes the
        # next look capture again, never miss a change.
        reported = drawing.reported()
        if self._last is not None and reported == self._reported_before_last:
            self.reused += 1
            return dataclasses.replace(self._last, captured_at=time.monotonic())
        frame = self._desktop.capture()
        self._last, self._reported_before_last = frame, reported
        return frame
