"""The managed windows over time, by the X server's clock.

Which windows were there when an input came decides where a replay must wait for one (a
dialog that came up after ctrl+s). Reading them when the input is handled is late by however
far the recorder is behind (a burst of typing, a busy machine: measured, a Save As dialog
already up when ctrl+s was handled), so the window manager's changes are followed instead:
each change to the client list or the active window on the root (a PropertyNotify, stamped
with the server's time) is a snapshot, and an input, stamped by the same clock, is matched to
the last snapshot before it once the recording is over.
"""

from __future__ import annotations

import bisect
import contextlib
import select
import threading
from dataclasses import dataclass
from typing import Any

from agent.desktop.windows import WindowInfo, list_windows


@dataclass(frozen=True, slots=True)
class Windows:
    """The managed windows at one time: titles and X ids (stacking order), and the focused."""

    titles: tuple[str, ...]
    ids: tuple[int, ...]
    focused: str
    focused_id: int

    @classmethod
    def of(cls, windows: list[WindowInfo]) -> Windows:
        focused = next((w for w in windows if w.focused), None)
        return cls(
            tuple(w.title for w in windows),
            tuple(w.window_id for w in windows),
            focused.title if focused else "",
            focused.window_id if focused else 0,
        )


class WindowTimeline:
    """Snapshots of the windows of the X display `display`, by server time, between start()
    and stop(), on a thread and a connection of its own."""

    def __init__(self, display: str) -> None:
        self.display = display
        self._times: list[int] = []
        self._snapshots: list[Windows] = []
        self._connection: Any = None
        self._watched: set[int] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WindowTimeline:
        from Xlib import X
        from Xlib.display import Display

        self._connection = Display(self.display)
        root = self._connection.screen().root
        root.change_attributes(event_mask=X.PropertyChangeMask)
        names = ("_NET_CLIENT_LIST", "_NET_CLIENT_LIST_STACKING", "_NET_ACTIVE_WINDOW")
        self._watched = {self._connection.intern_atom(name) for name in names}
        self._connection.sync()
        self._snapshot(0)  # before anything
        self._thread = threading.Thread(
            target=self._follow, name="shain-record-windows", daemon=True
        )
        self._thread.start()
        return self

    def _follow(self) -> None:
        from Xlib import X

        connection = self._connection
        while not self._stopping.is_set():
            with contextlib.suppress(ValueError, OSError):  # the connection closed
                select.select([connection.fileno()], [], [], 0.05)
            changed = None
            while connection.pending_events():
                event = connection.next_event()
                if event.type == X.PropertyNotify and event.atom in self._watched:
                    changed = int(event.time)
            if changed is not None:
                self._snapshot(changed)

    def _snapshot(self, server_time: int) -> None:
        with contextlib.suppress(Exception):  # a window closed under the read: the next one
            self._times.append(server_time)
            self._snapshots.append(Windows.of(list_windows(self.display)))
            return
        del self._times[len(self._snapshots) :]

    def stop(self) -> None:
        """Take what is pending, then stop; safe to call twice."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join()
            self._thread = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def at(self, server_time: int) -> Windows | None:
        """The windows as the last change before `server_time` left them."""
        index = bisect.bisect_right(self._times, server_time) - 1
        return self._snapshots[index] if index >= 0 else None

    def first_title(self, window_id: int) -> str | None:
        """The title a window had when it was first seen (an app's window before its title
        changed: "Untitled 1", not "*Untitled 1" once typed into)."""
        for snapshot in self._snapshots:
            if window_id in snapshot.ids:
                return snapshot.titles[snapshot.ids.index(window_id)]
        return None

    @property
    def last(self) -> Windows | None:
        return self._snapshots[-1] if self._snapshots else None
