"""The locator's view of one screen: its visible accessibility elements and its windows' boxes.

One connection to the accessibility bus is kept for the life of a run (connecting costs more
than a snapshot). A screen without an accessibility bus is not an error: it has no elements,
and the locator falls back on OCR; `problem` says why there are none.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from agent.desktop.protocol import Frame
from agent.desktop.screen import Screen
from agent.desktop.windows import list_windows, window_stack
from agent.errors import EnvironmentProblem
from agent.geometry import Box
from agent.perception.atspi import AccessibilityReader, Element
from agent.perception.locator import Locator, TextReader
from agent.perception.visibility import is_visible


class ScreenElements:
    """Callable: the elements a user can see now on `screen`."""

    def __init__(self, screen: Screen, timeout: float = 2.0) -> None:
        self._screen = screen
        self._timeout = timeout
        self._reader: AccessibilityReader | None = None
        self.problem: str | None = None  # why there is no accessibility tree, if there is none

    def __call__(self) -> list[Element]:
        reader = self._connect()
        if reader is None:
            return []
        try:
            elements = reader.snapshot(timeout=self._timeout)
        except EnvironmentProblem as error:
            self.problem = str(error)
            self.close()  # the bus went away: try a new connection next time
            return []
        stack = window_stack(self._screen.display)
        return [element for element in elements if is_visible(element, stack)]

    def window_boxes(self) -> dict[str, Box]:
        """Each managed window's title and client box, topmost last."""
        return {w.title: w.box for w in list_windows(self._screen.display)}

    def _connect(self) -> AccessibilityReader | None:
        if self._reader is None:
            try:
                self._reader = AccessibilityReader(self._screen.environment, self._timeout)
            except EnvironmentProblem as error:
                self.problem = str(error)
                return None
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def default_text_reader() -> TextReader | None:
    """OCR when `shain[ocr]` is installed; without it the locator uses the tree alone."""
    if importlib.util.find_spec("rapidocr") is None:
        return None
    from agent.perception.ocr import OcrReader

    return OcrReader()


def screen_locator(
    screen: Screen,
    capture: Callable[[], Frame] | None,
    ocr: TextReader | None = None,
) -> tuple[Locator, ScreenElements]:
    """A locator for `screen`; close the ScreenElements when done."""
    elements = ScreenElements(screen)
    return Locator(elements, capture, ocr, elements.window_boxes), elements
