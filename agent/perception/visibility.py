"""Which accessibility elements a user can see: AT-SPI reports elements of covered windows as
"showing", so they are checked against the X window stack.

An element counts as seen when its centre (where a click goes) is on screen, inside its own
top-level window, and the window drawn topmost at that point is that window. Open menus are
the exception: GTK keeps a menu's items under the menu bar in the tree, but draws them in an
override-redirect popup window of their own, so the items of a menu are seen when they lie
inside the popup on top at their centre.
"""

from __future__ import annotations

from agent.desktop.screen import Screen
from agent.desktop.windows import ScreenWindow, WindowStack, window_stack
from agent.geometry import Box
from agent.perception.atspi import Element, snapshot

# An element whose parent has one of these roles is drawn in a popup (an open menu's items,
# a submenu); the menus in a menu bar are not: their parent is the "menu bar".
MENU_ROLES = frozenset({"menu", "popup menu"})
# Pixels two boxes may differ by and still be the same window (a border, a rounding).
TOLERANCE = 4


def visible_elements(screen: Screen, *, timeout: float = 2.0) -> list[Element]:
    """The accessibility elements on `screen` that a user can see."""
    elements = snapshot(screen.environment, timeout=timeout)
    stack = window_stack(screen.display)
    return [element for element in elements if is_visible(element, stack)]


def is_visible(element: Element, stack: WindowStack) -> bool:
    """Whether a user sees the element on this stack of windows (see the module's account)."""
    centre = element.box.center
    if not stack.screen.contains(centre):
        return False
    top = stack.topmost_at(centre)
    if top is None:
        return False  # the bare background: whatever reported it is not drawn there
    if top.override_redirect and element.parent_role in MENU_ROLES:
        # The popup may reach far outside the window the tree puts its items in.
        return _grown(top.box).encloses(element.box)
    own = element.window_box
    if own is None:
        return True  # its window has no box: nothing to compare, so it is kept
    if not _grown(own).contains(centre):
        return False  # scrolled or clipped out of its window
    return _is_window(own, top)


def _is_window(box: Box, window: ScreenWindow) -> bool:
    """Whether an AT-SPI window box is this screen window.

    GTK gives the frame's box, decorations included (as the root's child has it); a toolkit
    giving the client area instead would match the managed window inside the frame.
    """
    if _same(box, window.box):
        return True
    return window.client is not None and _same(box, window.client.box)


def _same(one: Box, other: Box) -> bool:
    return (
        abs(one.left - other.left) <= TOLERANCE
        and abs(one.top - other.top) <= TOLERANCE
        and abs(one.left + one.width - other.left - other.width) <= TOLERANCE
        and abs(one.top + one.height - other.top - other.height) <= TOLERANCE
    )


def _grown(box: Box) -> Box:
    return Box(
        box.left - TOLERANCE,
        box.top - TOLERANCE,
        box.width + 2 * TOLERANCE,
        box.height + 2 * TOLERANCE,
    )
