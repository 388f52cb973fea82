"""The text under a press where the accessibility tree names nothing (an app without a tree,
a terminal), read by OCR: written `click: {text, within}` when the locator finds it there
again, so the step finds its target by what it says.

OCR is an extra (`shain[ocr]`, rapidocr): without it there is no reading, and such a press
is written as a point in its window, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.desktop.capture import ScreenCapture
from agent.desktop.screen import Screen
from agent.geometry import Box, Point
from agent.perception.atspi import Element
from agent.perception.locator import Locator, Target
from agent.perception.ocr import OcrReader, TextLine
from agent.perception.pointed import window_pattern
from agent.perception.screen_elements import default_text_reader

# A line of more words than this is a sentence: the word under the pointer names the target.
LINE_WORDS = 3


@dataclass(frozen=True, slots=True)
class PointedText:
    """Text OCR read under a press, in the window titled `window`: the `nth` of `matches`
    places the locator finds it there."""

    text: str
    window: str
    nth: int
    matches: int


class TextUnderPointer:
    """Reads the text under a point in a window of `screen`; use it from one thread only (a
    screen capture belongs to the thread that made it)."""

    def __init__(self, screen: Screen) -> None:
        self._screen = screen
        reader = default_text_reader()
        self._reader = reader if isinstance(reader, OcrReader) else None
        self._capture: ScreenCapture | None = None

    @property
    def available(self) -> bool:
        return self._reader is not None

    def __call__(
        self, point: Point, window: str, box: Box, elements: Sequence[Element]
    ) -> PointedText | None:
        """The text at `point` inside the window titled `window`, whose client area is `box`."""
        if self._reader is None or not box.contains(point):
            return None  # no OCR, or a press on the window's frame (its title bar)
        if self._capture is None:
            self._capture = ScreenCapture(self._screen)
        frame = self._capture.grab()
        line = next(
            (line for line in self._reader.read(frame, box) if line.box.contains(point)), None
        )
        if line is None:
            return None
        text = _words_at(line, point)
        locator = Locator(lambda: elements, lambda: frame, self._reader, lambda: {window: box})
        found = locator.find(Target(text=text, window=window_pattern(window)))
        at = next((index for index, c in enumerate(found) if c.box.contains(point)), None)
        return None if at is None else PointedText(text, window, at + 1, len(found))

    def close(self) -> None:
        if self._capture is not None:
            self._capture.close()
            self._capture = None


def _words_at(line: TextLine, point: Point) -> str:
    """The line, or in a long line the word under the point."""
    if len(line.words) <= LINE_WORDS:
        return line.text
    word = next((word for word in line.words if word.box.contains(point)), None)
    return word.text if word is not None else line.text
