"""The input an X screen processes, as X RECORD sees it: every key, button and pointer motion,
whoever sent it (a person's hands, and XTest input such as xdotool's or Shain's own oracle).

RECORD needs a connection of its own, which blocks in `record_enable_context` on a thread of
its own; a second connection ends the context (a disable sent on the blocked one would wait
for the next event). The listener only stamps each event and hands it on: whatever is done
with it (reading the accessibility tree, ~50 ms) happens elsewhere, so input never waits.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from agent.errors import EnvironmentProblem


@dataclass(frozen=True, slots=True)
class ButtonInput:
    """A mouse button went down or up at a screen point (4 to 7 are the wheel's clicks)."""

    pressed: bool
    button: int
    x: int
    y: int
    at: float  # time.monotonic() when the listener got it
    server_time: int = 0  # the X server's clock (ms) when it processed it
    kind: Literal["button"] = "button"


@dataclass(frozen=True, slots=True)
class KeyInput:
    """A key went down or up: its X keycode (what it means depends on the keyboard map)."""

    pressed: bool
    keycode: int
    at: float
    server_time: int = 0
    kind: Literal["key"] = "key"


@dataclass(frozen=True, slots=True)
class MotionInput:
    """The pointer moved to a screen point."""

    x: int
    y: int
    at: float
    server_time: int = 0
    kind: Literal["motion"] = "motion"


InputEvent = ButtonInput | KeyInput | MotionInput


class InputListener:
    """Hands every input event of the X display `display_name` to `on_input`, in the order the
    server processed them, from a thread of its own, between start() and stop()."""

    def __init__(self, display_name: str, on_input: Callable[[InputEvent], None]) -> None:
        self.display_name = display_name
        self._on_input = on_input
        self._control: Any = None
        self._data: Any = None
        self._context: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> InputListener:
        from Xlib import X, error
        from Xlib.display import Display
        from Xlib.ext import record

        try:
            self._control, self._data = Display(self.display_name), Display(self.display_name)
        except (error.DisplayError, error.ConnectionClosedError) as problem:
            self.stop()
            raise EnvironmentProblem(
                f"cannot open display {self.display_name}: {problem}"
            ) from problem
        if not self._control.has_extension("RECORD"):
            self.stop()
            raise EnvironmentProblem(
                f"display {self.display_name} has no RECORD extension: its input cannot be "
                "recorded (Xvfb and Xorg have it unless started with -extension RECORD)"
            )
        self._context = self._data.record_create_context(
            0,
            [record.AllClients],
            [
                {
                    "core_requests": (0, 0), "core_replies": (0, 0),
                    "ext_requests": (0, 0, 0, 0), "ext_replies": (0, 0, 0, 0),
                    "delivered_events": (0, 0), "device_events": (X.KeyPress, X.MotionNotify),
                    "errors": (0, 0), "client_started": False, "client_died": False,
                }
            ],
        )  # fmt: skip
        self._data.sync()  # the context must exist on the server before it is enabled
        self._thread = threading.Thread(target=self._listen, name="shain-record-input", daemon=True)
        self._thread.start()
        return self

    @property
    def listening(self) -> bool:
        """Whether it still records (False once stopped, or when the display has gone)."""
        return self._thread is not None and self._thread.is_alive()

    def _listen(self) -> None:
        with contextlib.suppress(Exception):  # the connection closed under it: stop() ran
            self._data.record_enable_context(self._context, self._received)

    def _received(self, reply: Any) -> None:
        from Xlib import X
        from Xlib.ext import record
        from Xlib.protocol import rq

        if reply.category != record.FromServer or reply.client_swapped or not reply.data:
            return
        now = time.monotonic()
        rest = reply.data
        while rest:
            event, rest = rq.EventField(None).parse_binary_value(
                rest, self._data.display, None, None
            )
            clock = int(event.time)
            match event.type:
                case X.ButtonPress | X.ButtonRelease:
                    pressed = event.type == X.ButtonPress
                    x, y = int(event.root_x), int(event.root_y)
                    self._on_input(ButtonInput(pressed, int(event.detail), x, y, now, clock))
                case X.KeyPress | X.KeyRelease:
                    pressed = event.type == X.KeyPress
                    self._on_input(KeyInput(pressed, int(event.detail), now, clock))
                case X.MotionNotify:
                    x, y = int(event.root_x), int(event.root_y)
                    self._on_input(MotionInput(x, y, now, clock))

    def stop(self) -> None:
        """End the recording and join the listener; safe to call twice."""
        control, data, context = self._control, self._data, self._context
        self._control = self._data = self._context = None
        if control is not None and context is not None:
            with contextlib.suppress(Exception):
                control.record_disable_context(context)
                control.flush()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        if control is not None and context is not None:
            with contextlib.suppress(Exception):
                control.record_free_context(context)
                control.sync()
        for connection in (control, data):
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.close()
