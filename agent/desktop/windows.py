"""Windows on an X screen: the managed ones with their titles (EWMH hints), and the stack of
everything drawn, for telling what covers what."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from agent.errors import EnvironmentProblem, UnsupportedError
from agent.geometry import Box, Point, Size


@dataclass(frozen=True, slots=True)
class WindowInfo:
    title: str
    active: bool  # the window manager's active window (_NET_ACTIVE_WINDOW)
    focused: bool  # holds the keyboard focus (a window manager marks a window active first)
    window_id: int  # the app's own (client) window
    # Its client area in root (screen) coordinates, decorations excluded: the same box AT-SPI
    # gives its top-level window.
    box: Box


@dataclass(frozen=True, slots=True)
class ScreenWindow:
    """A mapped child of the root window: one of the things the X server draws, in one piece."""

    window_id: int
    box: Box  # its outer edges (border included) in root coordinates
    override_redirect: bool  # placed by its app, not the window manager: menus, tooltips
    client: WindowInfo | None  # the managed window it frames (or is), if any
    tooltip: bool = False  # a tooltip: it goes as soon as the pointer moves to click


@dataclass(frozen=True, slots=True)
class WindowStack:
    screen: Size
    windows: tuple[ScreenWindow, ...]  # bottom first, as the X server stacks them

    def topmost_at(self, point: Point) -> ScreenWindow | None:
        """The window a user sees at this point, or None for the bare background. A tooltip
        does not count: GTK hides it on the pointer's first move, so a click reaches what is
        under it (measured: a click on galculator's 0 under the tooltip of 1 types 0)."""
        for window in reversed(self.windows):
            if window.box.contains(point) and not window.tooltip:
                return window
        return None


def list_windows(display_name: str | None = None) -> list[WindowInfo]:
    """The managed windows (in stacking order, bottom first) and which one is active."""
    with _connection(display_name) as display:
        return _managed_windows(display)


def window_pids(display_name: str | None, window_ids: Iterable[int]) -> dict[int, int]:
    """The process each of these (client) windows says it belongs to (_NET_WM_PID), for the
    windows that say so."""
    from Xlib import X, error

    with _connection(display_name) as display:
        atom = display.intern_atom("_NET_WM_PID")
        pids = {}
        for window_id in window_ids:
            window = display.create_resource_object("window", window_id)
            with contextlib.suppress(error.XError):  # closed meanwhile
                reply = window.get_full_property(atom, X.AnyPropertyType)
                if reply is not None and len(reply.value):
                    pids[window_id] = int(reply.value[0])
        return pids


def window_stack(display_name: str | None = None) -> WindowStack:
    """What is on screen, bottom first: the mapped children of the root window.

    With a reparenting window manager (openbox) these are its frames, decorations included,
    each holding one managed window; override-redirect ones are popup menus and tooltips.
    """
    from Xlib import X, error

    with _connection(display_name) as display:
        root = display.screen().root
        managed = _managed_windows(display)
        # Which root child holds each managed window: walk up from the window.
        framing: dict[int, WindowInfo] = {}
        for info in managed:
            with contextlib.suppress(error.XError):  # closed while we looked
                framing[_root_child(display, root, info.window_id)] = info
        root_geometry = root.get_geometry()
        screen = Size(int(root_geometry.width), int(root_geometry.height))
        windows = []
        for child in root.query_tree().children:
            try:
                attributes = child.get_attributes()
                if attributes.map_state != X.IsViewable or attributes.win_class == X.InputOnly:
                    continue  # not drawn: unmapped, or an input-only window
                geometry = child.get_geometry()
            except error.XError:
                continue  # closed while we looked
            border = int(geometry.border_width)
            box = Box(
                int(geometry.x),
                int(geometry.y),
                int(geometry.width) + 2 * border,
                int(geometry.height) + 2 * border,
            )
            override_redirect = bool(attributes.override_redirect)
            client = framing.get(int(child.id))
            tooltip = override_redirect and _is_tooltip(display, child)
            windows.append(ScreenWindow(int(child.id), box, override_redirect, client, tooltip))
        return WindowStack(screen, tuple(windows))


def _is_tooltip(display: Any, window: Any) -> bool:
    from Xlib import X, error

    try:
        kinds = window.get_full_property(
            display.intern_atom("_NET_WM_WINDOW_TYPE"), X.AnyPropertyType
        )
    except error.XError:
        return False  # closed while we looked
    tooltip = display.intern_atom("_NET_WM_WINDOW_TYPE_TOOLTIP")
    return kinds is not None and tooltip in kinds.value


@contextlib.contextmanager
def _connection(display_name: str | None) -> Iterator[Any]:
    if not sys.platform.startswith("linux"):
        raise UnsupportedError("reading windows is supported on Linux/X11 only so far")
    from Xlib import error
    from Xlib.display import Display

    try:
        display: Any = Display(display_name)
    except error.DisplayError as problem:
        raise EnvironmentProblem(f"cannot open display {display_name}: {problem}") from problem
    try:
        yield display
    finally:
        display.close()


def _managed_windows(display: Any) -> list[WindowInfo]:
    from Xlib import X, error

    root = display.screen().root
    atom = display.intern_atom
    utf8 = atom("UTF8_STRING")

    def window_property(window: Any, name: str, kind: int) -> Any:
        reply = window.get_full_property(atom(name), kind)
        return reply.value if reply is not None else None

    stacking = window_property(root, "_NET_CLIENT_LIST_STACKING", X.AnyPropertyType)
    clients = list(stacking) if stacking is not None else []
    active = window_property(root, "_NET_ACTIVE_WINDOW", X.AnyPropertyType)
    active_id = int(active[0]) if active is not None and len(active) else 0
    focused_id = _focused_client(display, root, set(clients))
    windows = []
    for window_id in clients:
        window = display.create_resource_object("window", window_id)
        try:
            name = window_property(window, "_NET_WM_NAME", utf8)
            if name is None:
                name = window_property(window, "WM_NAME", X.AnyPropertyType)
            # Its origin translated to the root: a reparenting window manager's frame makes
            # the window's own position relative to the frame (`xdotool getwindowgeometry`
            # is off by the decorations for that reason).
            origin = root.translate_coords(window, 0, 0)
            geometry = window.get_geometry()
        except error.XError:
            continue  # closed while we looked
        title = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name or "")
        box = Box(int(origin.x), int(origin.y), int(geometry.width), int(geometry.height))
        window_id = int(window_id)
        windows.append(
            WindowInfo(title, window_id == active_id, window_id == focused_id, window_id, box)
        )
    return windows


def _root_child(display: Any, root: Any, window_id: int) -> int:
    """The child of the root that holds this window (its frame), or the window itself."""
    window = display.create_resource_object("window", window_id)
    while True:
        parent = window.query_tree().parent
        if parent.id in (root.id, 0):  # 0: no parent, the window is gone
            return int(window.id)
        window = parent


def _focused_client(display: Any, root: Any, clients: set[int]) -> int:
    """The client window that holds the keyboard focus (or one of its children does), or 0."""
    window: Any = display.get_input_focus().focus
    # The focus may be None, PointerRoot (an int) or a window; only a window has an id.
    while hasattr(window, "id") and window.id != root.id:
        if window.id in clients:
            return int(window.id)
        try:
            window = window.query_tree().parent
        except Exception:  # the window closed while we walked up
            return 0
    return 0
