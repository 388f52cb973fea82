"""Parts of the screen that are Shain's own (its progress window, an approval card).

They are painted over in every capture, so a model never sees (or reads instructions from)
Shain's own windows, and an action that would land on one is refused. The UI updates the
boxes from its thread; the agent reads them from its own, hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from agent.geometry import Box, Point

# What a model sees where a Shain window is: a flat mid grey.
MASK_BGRA = (128, 128, 128, 255)


class ExcludedRegions:
    """A thread-safe set of screen boxes (in capture pixels) that belong to Shain."""

    def __init__(self, boxes: Iterable[Box] = ()) -> None:
        self._lock = threading.Lock()
        self._boxes: dict[str, Box] = {str(index): box for index, box in enumerate(boxes)}

    def set(self, name: str, box: Box | None) -> None:
        """Place (or, with None, remove) the named window's box."""
        with self._lock:
            if box is None:
                self._boxes.pop(name, None)
            else:
                self._boxes[name] = box

    def boxes(self) -> tuple[Box, ...]:
        with self._lock:
            return tuple(self._boxes.values())

    def covering(self, point: Point) -> Box | None:
        return next((box for box in self.boxes() if box.contains(point)), None)
