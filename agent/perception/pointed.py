"""What a click pointed at: the element under the point, named as a task file would name it.

`shain learn` turns a run's clicks into steps that find their targets by what they are, so a
run keeps, for each click, what was under the pointer *before* it pressed (after the press a
button may be gone: a dialog closes). The element is named by role and accessible name, in its
window, with `nth` when the same role and name occur more than once; the order is the
locator's own reading order, so replaying the step finds the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.desktop.windows import WindowStack, list_windows, window_stack
from agent.geometry import Box, Point
from agent.perception.atspi import Element
from agent.perception.locator import Locator, Target

# Roles that are a window or a mere container: a click on one is a point in it, not a target.
CONTAINER_ROLES = frozenset(
    {"frame", "dialog", "window", "alert", "filler", "panel", "scroll pane", "viewport",
     "layered pane", "root pane", "glass pane", "unknown", "redundant object", "split pane"}
)  # fmt: skip
# AT-SPI role -> the word a task file uses (the locator's alias covers it).
FRIENDLY_ROLES = {"push button": "button", "toggle button": "button"}
# States that say a user works with the element (it takes focus, typing, or a selection).
_INTERACTIVE = frozenset({"focusable", "editable", "selectable", "checkable"})


@dataclass(frozen=True, slots=True)
class PointedElement:
    """The element under a click, as a target: `role` and `name` ("" when it has none) in the
    window titled `window`; `nth` of `matches` such things there, in reading order."""

    role: str
    name: str
    window: str
    nth: int
    matches: int
    box: Box


@dataclass(frozen=True, slots=True)
class PointedWindow:
    """The window drawn at a point: its title and outer box, frame included (a click may be
    on its title bar); "" and None for the desktop."""

    title: str
    box: Box | None


def window_pattern(title: str) -> str:
    """The regular expression that names exactly this window title."""
    return f"^{re.escape(title)}$"


def window_at(stack: WindowStack, point: Point) -> PointedWindow:
    top = stack.topmost_at(point)
    if top is None or top.client is None:
        return PointedWindow("", None)
    return PointedWindow(top.client.title, top.box)


def element_at(elements: Sequence[Element], point: Point) -> PointedElement | None:
    """The thing a user clicked at `point` (among visible elements): the smallest element
    there that a user works with (a button, not the label inside it), else the smallest named
    one; None when only containers are there."""
    under = [
        e
        for e in elements
        if e.box.contains(point) and e.role not in CONTAINER_ROLES and e.window_name
    ]
    interactive = [e for e in under if e.actions or e.states & _INTERACTIVE]
    named = [e for e in under if e.name]
    chosen = min(interactive or named, key=lambda e: e.box.width * e.box.height, default=None)
    if chosen is None:
        return None
    role, window = FRIENDLY_ROLES.get(chosen.role, chosen.role), chosen.window_name
    target = Target(role=role, name=chosen.name or None, window=window_pattern(window))
    # The locator's own matching and order, over the same snapshot: the nth it will pick.
    found = Locator(lambda: elements).find(target, use_ocr=False)
    boxes = [candidate.box for candidate in found]
    nth = boxes.index(chosen.box) + 1 if chosen.box in boxes else 0
    if nth == 0:
        return None  # the locator would not find it this way (nested in a same-named thing)
    return PointedElement(role, chosen.name, window, nth, len(found), chosen.box)


class ClickWitness:
    """Looks at what is under a click before it is made, and at the windows after any action.

    `elements` gives the visible accessibility elements (ScreenElements); `stack` and
    `titles` read the X window stack and the managed windows' titles (focused one last)."""

    def __init__(
        self,
        elements: Callable[[], Sequence[Element]],
        stack: Callable[[], WindowStack],
        titles: Callable[[], tuple[tuple[str, ...], str]],
    ) -> None:
        self._elements = elements
        self._stack = stack
        self._titles = titles

    def pointed(self, point: Point) -> tuple[PointedWindow, PointedElement | None]:
        return window_at(self._stack(), point), element_at(self._elements(), point)

    def windows(self) -> tuple[tuple[str, ...], str]:
        """The managed windows' titles, and the title of the one holding the keyboard focus."""
        return self._titles()


def screen_witness(elements: Callable[[], Sequence[Element]], display: str | None) -> ClickWitness:
    """A witness of the screen named `display`, with its visible elements from `elements`."""

    def titles() -> tuple[tuple[str, ...], str]:
        windows = list_windows(display)
        focused = next((window.title for window in windows if window.focused), "")
        return tuple(window.title for window in windows), focused

    return ClickWitness(elements, lambda: window_stack(display), titles)
