"""Top-level windows and their titles, from the window manager (X11, EWMH hints)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from agent.errors import EnvironmentProblem, UnsupportedError


@dataclass(frozen=True, slots=True)
class WindowInfo:
    title: str
    active: bool  # the window manager's active window (_NET_ACTIVE_WINDOW)
    focused: bool  # holds the keyboard focus (a window manager marks a window active first)


def list_windows(display_name: str | None = None) -> list[WindowInfo]:
    """The managed windows (in stacking order, bottom first) and which one is active."""
    if not sys.platform.startswith("linux"):
        raise UnsupportedError("reading window titles is supported on Linux/X11 only so far")
    from Xlib import X, error
    from Xlib.display import Display

    try:
        display: Any = Display(display_name)
    except error.DisplayError as problem:
        raise EnvironmentProblem(f"cannot open display {display_name}: {problem}") from problem
    try:
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
            except error.BadWindow:
                continue  # closed while we looked
            title = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name or "")
            windows.append(
                WindowInfo(title, int(window_id) == active_id, int(window_id) == focused_id)
            )
        return windows
    finally:
        display.close()


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
