"""What the screen showed when each input of a demonstration began, read as it happened.

The listener (agent.learn.recorder) hands every input here. For a press (a button, a key) the
windows are read at once, on the listener's thread (X calls only: a few ms), before the app
has reacted. The rest waits in a queue for one worker thread, so no input is held up: for a
button press, the element under the pointer (the accessibility tree, measured per press in
`Sight.seconds`), or where there is none the text OCR reads there (agent.learn.read_text);
for the first key of a run of typing, the focused field (a password field's text is never
written). GTK acts on a click at its release, so by the time that read
is done a dialog's button may be gone with its dialog: a press where the read finds nothing
falls back on the read made while the pointer rested before it (another thread reads the
tree whenever the pointer stops moving).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from agent.desktop.exclusions import ExcludedRegions
from agent.desktop.processes import ancestors, launch_command
from agent.desktop.windows import WindowInfo, list_windows, window_pids, window_stack
from agent.geometry import Point
from agent.keys import MODIFIERS
from agent.learn.read_text import PointedText, TextUnderPointer
from agent.learn.recorder import ButtonInput, InputEvent, KeyInput, MotionInput
from agent.learn.typed_keys import Key, KeyReader
from agent.learn.window_timeline import Windows, WindowTimeline
from agent.perception.atspi import Element
from agent.perception.pointed import PointedElement, PointedWindow, element_at, window_at

# The pointer has rested this long after moving: read the tree, in case a press follows.
REST_SECONDS = 0.06
Elements = Callable[[], Sequence[Element]]


@dataclass(frozen=True, slots=True)
class Sight:
    """What was on the screen when an input began: the managed windows (titles, ids) and the
    one with the keyboard focus; for a press, the window and element under the point; for
    typing, the focused field. `own`: the input went to one of Shain's own windows (never
    recorded). `seconds`: how long after the input the tree was read."""

    windows: tuple[str, ...]
    window_ids: tuple[int, ...]
    focused: str
    focused_id: int
    window: PointedWindow
    element: PointedElement | None
    field: Element | None
    own: bool
    seconds: float
    text: PointedText | None = None  # for a press on no element: the text OCR read there


@dataclass(frozen=True, slots=True)
class Observed:
    """One input, the key it was (for a key), and what was seen when it began (or None)."""

    event: InputEvent
    key: Key | None
    sight: Sight | None


@dataclass(frozen=True, slots=True)
class AppWindow:
    """A window a demonstration used: its title when the recording began (else when first
    seen), its app's process, and the command that started that (agent.desktop.processes)."""

    title: str
    pid: int
    command: str


@dataclass(frozen=True, slots=True)
class _Glance:
    """The windows when a press came, and the one at a button press's point."""

    windows: tuple[WindowInfo, ...]
    pointed: PointedWindow


_Queued = tuple[InputEvent, Key | None, _Glance | None]


class Watcher:
    """Takes input events from the listener and works out, on its own threads, what they were.

    `elements` and `resting` read the visible accessibility elements of the screen `display`
    (two connections: they are read side by side); `excluded` holds the boxes of Shain's
    own windows in this process (a tray's). Windows of this process and of its ancestors
    (the terminal `shain record` runs in) are Shain's too.
    """

    def __init__(
        self,
        display: str,
        elements: Elements,
        resting: Elements,
        excluded: ExcludedRegions | None = None,
        read_text: TextUnderPointer | None = None,
    ) -> None:
        self.display = display
        self._elements = elements
        self._resting = resting
        self._read_text = read_text
        self._excluded = excluded or ExcludedRegions()
        self._own_pids = ancestors(os.getpid())
        self._queue: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()
        self.observed: list[Observed] = []
        self.apps: dict[int, AppWindow] = {}  # window id -> the app of a window used
        self.windows_at_start: tuple[str, ...] = ()
        self._start_titles: dict[int, str] = {}
        self._pids: dict[int, int] = {}  # window id -> pid
        self._typing = False  # in a run of typed characters
        self._moved_at = 0.0
        self._rested: tuple[float, Sequence[Element]] | None = None  # (read from, elements)
        self._resting_from: float | None = None  # when the read under way began
        self._keys: KeyReader | None = None
        self._timeline: WindowTimeline | None = None
        self._threads: list[threading.Thread] = []
        self._done = threading.Event()

    def start(self) -> Watcher:
        self._timeline = WindowTimeline(self.display).start()
        self._keys = KeyReader(self.display)
        windows = list_windows(self.display)
        self.windows_at_start = tuple(window.title for window in windows)
        self._start_titles = {window.window_id: window.title for window in windows}
        self._pids.update(window_pids(self.display, [window.window_id for window in windows]))
        self._threads = [
            threading.Thread(target=self._work, name="shain-record-sight", daemon=True),
            threading.Thread(target=self._rest, name="shain-record-rest", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def put(self, event: InputEvent) -> None:
        """Called on the listener's thread: the key it was, and the windows when an action
        begins (a button press, a shortcut, the first key of a run of typing); the rest is
        queued. Keys typed in a run cost nothing here, so a fast typist never puts the
        listener behind."""
        key, glance = None, None
        match event:
            case MotionInput(at=at):
                self._moved_at = at
            case ButtonInput(pressed=True, button=button, x=x, y=y) if button <= 3:
                self._typing = False
                glance = self._glance(Point(x, y))
            case KeyInput(pressed=pressed, keycode=keycode) if self._keys is not None:
                key = self._keys.key(keycode, pressed)
                if pressed and key is not None and key.name not in MODIFIERS:
                    # A character, or a backspace, goes on a run of typing; anything else is
                    # a shortcut, an action of its own.
                    going_on = self._typing and (
                        key.char is not None or (key.name == "backspace" and not key.held)
                    )
                    self._typing = key.char is not None or going_on
                    glance = None if going_on else self._glance(None)
        self._queue.put((event, key, glance))

    def finish(self) -> list[Observed]:
        """Work through what is queued, stop, and return every input observed."""
        self._done.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._keys is not None:
            self._keys.close()
            self._keys = None
        if self._timeline is not None:
            self._timeline.stop()
            timeline = self._timeline
            self.observed = [
                replace(o, sight=_timed(o.sight, timeline.at(o.event.server_time)))
                for o in self.observed
            ]
            self.apps = {
                window_id: replace(app, title=timeline.first_title(window_id) or app.title)
                for window_id, app in self.apps.items()
            }
        return self.observed

    def look(self) -> Sight | None:
        """After finish(): the windows at the end, and the focused one (None: not known)."""
        last = self._timeline.last if self._timeline is not None else None
        if last is None:
            return None
        nothing = PointedWindow("", None)
        return Sight(last.titles, last.ids, last.focused, last.focused_id, nothing, None, None,
                     False, 0.0)  # fmt: skip

    def _glance(self, point: Point | None) -> _Glance | None:
        try:
            windows = tuple(list_windows(self.display))
            pointed = window_at(window_stack(self.display), point) if point else None
        except Exception:  # a window closed under the read, the display gone
            return None
        return _Glance(windows, pointed or PointedWindow("", None))

    def _work(self) -> None:
        try:
            self._take_queued()
        finally:
            if self._read_text is not None:
                self._read_text.close()  # its screen capture belongs to this thread

    def _take_queued(self) -> None:
        while (item := self._queue.get()) is not None:
            event, key, glance = item
            match event:
                case ButtonInput(pressed=True, x=x, y=y) if glance is not None:
                    sight = self._sight(event.at, glance, Point(x, y))
                case KeyInput() if glance is not None and key is not None:
                    sight = self._sight(event.at, glance, None, key.char)
                case _:
                    sight = None
            self.observed.append(Observed(event, key, sight))

    def _sight(
        self, at: float, glance: _Glance | None, point: Point | None, typed: str | None = None
    ) -> Sight | None:
        """What was seen for an input made at `at`: the glance, and the element at a press's
        `point` or (when it `typed` a character) the focused field. None without a glance."""
        if glance is None:
            return None
        elements: Sequence[Element] = []
        if point is not None or typed is not None:
            with contextlib.suppress(Exception):  # no tree: clicks fall back on points
                elements = self._elements()
        read = time.monotonic() - at
        if point is None:
            fields = [e for e in elements if "focused" in e.states and e.window_name]
            field = min(fields, key=lambda e: e.box.width * e.box.height, default=None)
            return self._seen(glance, None, field, read)
        element = element_at(elements, point)
        if element is None:  # the app reacted before the read: what was there before it?
            deadline = time.monotonic() + 2.0
            while (self._resting_from or at + 1) <= at and time.monotonic() < deadline:
                time.sleep(0.01)  # a read begun before the press is under way: its end
            rested = self._rested
            if rested is not None and rested[0] <= at:
                element = element_at(rested[1], point)
        seen = self._seen(glance, element, None, read, point)
        if element is None and self._read_text is not None:
            title = glance.pointed.title
            window = next((w for w in glance.windows if w.title == title), None)
            if window is not None:
                with contextlib.suppress(Exception):  # no reading: a point in the window
                    seen = replace(seen, text=self._read_text(point, title, window.box, elements))
        return seen

    def _seen(
        self,
        glance: _Glance,
        element: PointedElement | None,
        field: Element | None,
        read: float,
        point: Point | None = None,
    ) -> Sight:
        windows = glance.windows
        unknown = [w.window_id for w in windows if w.window_id not in self._pids]
        if unknown:
            with contextlib.suppress(Exception):
                self._pids.update(window_pids(self.display, unknown))
        focused = next((w for w in windows if w.focused), None)
        if point is None:
            used = focused
        else:
            used = next((w for w in windows if w.title == glance.pointed.title), None)
        own = (point is not None and self._excluded.covering(point) is not None) or (
            used is not None and self._pids.get(used.window_id) in self._own_pids
        )
        if used is not None and not own:
            self._remember(used)
        return Sight(
            tuple(w.title for w in windows),
            tuple(w.window_id for w in windows),
            focused.title if focused else "",
            focused.window_id if focused else 0,
            glance.pointed, element, field, own, read,
        )  # fmt: skip

    def _remember(self, window: WindowInfo) -> None:
        """The app of a window used, and how it was started, read now: it may be gone (a
        dialog's app that ended) by the time the file is written."""
        pid = self._pids.get(window.window_id)
        if pid is not None and window.window_id not in self.apps:
            title = self._start_titles.get(window.window_id, window.title)
            self.apps[window.window_id] = AppWindow(title, pid, launch_command(pid))

    def _rest(self) -> None:
        """Whenever the pointer stops moving (a press may follow), read the tree."""
        while not self._done.wait(REST_SECONDS / 2):
            moved = self._moved_at
            rested = self._rested
            if not moved or time.monotonic() - moved < REST_SECONDS:
                continue
            if rested is None or rested[0] < moved:
                started = self._resting_from = time.monotonic()
                with contextlib.suppress(Exception):
                    self._rested = (started, self._resting())
                self._resting_from = None


def _timed(sight: Sight | None, windows: Windows | None) -> Sight | None:
    """The sight with the windows as they were when its input came, by the server's clock,
    rather than when the recorder got to it."""
    if sight is None or windows is None:
        return sight
    return replace(sight, windows=windows.titles, window_ids=windows.ids,
                   focused=windows.focused, focused_id=windows.focused_id)  # fmt: skip
