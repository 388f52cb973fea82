"""Set-of-marks: numbered boxes over the things a model can act on, and their list in words.

A model that answers "click mark 12" does not have to hit a 20-pixel button by guessing
pixels; Shain clicks the centre of the element it numbered 12. The numbers are given in
reading order on each screenshot and mean nothing on the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from agent.geometry import Box, Point, Size, scale_point
from agent.perception.atspi import Element

# Roles worth a mark even without an AT-SPI action (GTK text views have none, for one).
_INTERACTIVE_ROLES = frozenset(
    {
        "push button", "toggle button", "check box", "radio button", "menu", "menu item",
        "check menu item", "radio menu item", "text", "entry", "password text", "combo box",
        "page tab", "spin button", "slider", "list item", "table cell", "tree item", "link",
        "table row", "icon",
    }
)  # fmt: skip
# Bright and unlike any theme's widgets, so the boxes stand out on any app.
MARK_COLOUR = (255, 0, 170)
MAX_MARKS = 150


@dataclass(frozen=True, slots=True)
class Mark:
    number: int
    role: str
    label: str
    box: Box  # on the screen
    window: str

    def describe(self) -> str:
        where = f" in {self.window!r}" if self.window else ""
        return f"[{self.number}] {self.role} {self.label!r}{where}"


def is_actionable(element: Element) -> bool:
    """Something a user acts on: it has an action or an interactive role, and is not a
    window or a mere container."""
    return bool(element.actions or element.role in _INTERACTIVE_ROLES) and element.role not in (
        "frame", "dialog", "window", "filler", "panel",
    )  # fmt: skip


def marks_of(elements: Sequence[Element], limit: int = MAX_MARKS) -> tuple[Mark, ...]:
    """The actionable elements, numbered from 1 in reading order."""
    chosen = [element for element in elements if is_actionable(element)]
    chosen.sort(key=lambda e: (e.box.top // 8, e.box.left))
    return tuple(
        Mark(number, e.role, e.name or (e.text or "")[:40], e.box, e.window_name)
        for number, e in enumerate(chosen[:limit], start=1)
    )


def marks_prompt(marks: Sequence[Mark]) -> str:
    if not marks:
        return "No marks on this screenshot: give points in pixels."
    listing = "\n".join(mark.describe() for mark in marks)
    return (
        "Numbered boxes mark what can be acted on. To click one, give its number as `mark` "
        "instead of x and y:\n" + listing
    )


def draw_marks(image: Image.Image, marks: Sequence[Mark], screen: Size) -> Image.Image:
    """A copy of the model's image (showing `screen` at its own size) with the marks drawn."""
    marked = image.convert("RGB")
    draw = ImageDraw.Draw(marked)
    size = Size(marked.width, marked.height)
    for mark in marks:
        top_left = scale_point(Point(mark.box.left, mark.box.top), screen, size)
        bottom_right = scale_point(
            Point(mark.box.left + mark.box.width - 1, mark.box.top + mark.box.height - 1),
            screen,
            size,
        )
        draw.rectangle(
            (top_left.x, top_left.y, bottom_right.x, bottom_right.y), outline=MARK_COLOUR
        )
        label = str(mark.number)
        left, top, right, bottom = draw.textbbox((0, 0), label)
        tag = (top_left.x, top_left.y, top_left.x + right - left + 3, top_left.y + bottom - top + 3)
        draw.rectangle(tag, fill=MARK_COLOUR)
        draw.text((top_left.x + 2, top_left.y + 1 - top), label, fill=(255, 255, 255))
    return marked
