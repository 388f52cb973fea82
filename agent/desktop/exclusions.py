"""Parts of the screen that are Shain's own (its progress window, an approval card).

They are painted over in every capture, so a model never sees (or reads instructions from)
Shain's own windows, and an action that would land on one is refused. The UI updates the
boxes from its thread; the agent reads them from its own, hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from agent.desktop.protocol import Drawing
from agent.geometry import Box, Point

# What a model sees where a Shain window is: a flat mid grey.
MASK_BGRA = (128, 128, 128, 255)


class ExcludedRegions:
    """A thread-safe set of screen boxes (in capture pixels) that belong to Shain."""

    def __init__(self, boxes: Iterable[Box] = ()) -> None:
        self._lock = threading.Lock()
        self._boxes: dict[str, Box] = {str(index): box for index, box in enumerate(boxes)}
        self.changes = 0  # how many times a box was placed, moved or removed

    def set(self, name: str, box: Box | None) -> None:
        """Place (or, with None, remove) the named window's box."""
        with self._lock:
            if self._boxes.get(name) == box:
                return
            if box is None:
                self._boxes.pop(name, None)
            else:
                self._boxes[name] = box
            self.changes += 1

    def boxes(self) -> tuple[Box, ...]:
        with self._lock:
            return tuple(self._boxes.values())

    def covering(self, point: Point) -> Box | None:
        return next((box for box in self.boxes() if box.contains(point)), None)


class DrawingOrMasking:
    """A screen's drawing reports in which a change of Shain's boxes counts as drawing too: a
    capture taken before a box was placed or moved shows what must now be painted over, so
    it may not be given again as the screen now (`agent.desktop.current_frame`)."""

    def __init__(self, drawing: Drawing, excluded: ExcludedRegions) -> None:
        self._drawing = drawing
        self._excluded = excluded

    @property
    def latest(self) -> float | None:
        return self._drawing.latest

    def forget(self) -> None:
        self._drawing.forget()

    def wait(self, timeout: float) -> float | None:
        return self._drawing.wait(timeout)

    def reported(self) -> int:
        return self._drawing.reported() + self._excluded.changes
