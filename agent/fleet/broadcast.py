"""A fleet run as the boss's office sees it, sent from the worker: the run's state and step as
its control channel says them, and a frame of its screen at most FRAMES_PER_SECOND times a
second, scaled down and JPEG-encoded, into Redis (agent/fleet/live.py). This module and the
slot's import redis (worker side only).

The slot watches its run as the office watches a local employee: a watcher of its own on the
run's control channel, and a capture of the run's screen by the display the hello names. What
cannot be sent while Redis is away is dropped: the next frame or state replaces it anyway.
A screen that has not changed is not sent again; its frame's expiry is only renewed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from redis.exceptions import RedisError

from agent.desktop.capture import ScreenCapture
from agent.desktop.protocol import Frame
from agent.desktop.screen import Screen
from agent.errors import EnvironmentProblem
from agent.fleet.live import (
    FRAME_LONG_SIDE,
    FRAME_QUALITY,
    FRAMES_PER_SECOND,
    LiveFrame,
    LiveState,
    keep_frame,
    publish_frame,
    publish_state,
)
from agent.fleet.registry import Registry
from agent.geometry import Size
from agent.office.client import ControlClient
from agent.perception.encoding import downscaled, encode_jpeg, fit_within
from agent.record.codec import decode_event
from agent.record.events import StepStarted
from agent.run.control import EventMessage, Hello, Message, StateMessage

CONNECT_TIMEOUT_SECONDS = 30.0

Value = TypeVar("Value")


def quietly(call: Callable[..., Value], *args: Any, **kwargs: Any) -> Value | None:
    """A record that can be missed (a progress line, a frame, the pid) while Redis is away."""
    try:
        return call(*args, **kwargs)
    except RedisError:
        return None


def frame_jpeg(frame: Frame, long_side: int = FRAME_LONG_SIDE) -> bytes:
    """The frame shrunk (as a model's is) until its long side is at most `long_side`, as a
    JPEG."""
    size = fit_within(Size(frame.width, frame.height), long_side)
    return encode_jpeg(downscaled(frame, size), FRAME_QUALITY)


class Broadcast:
    """Sends one run's state, step and screen to Redis until `stop()` (or the run ends)."""

    def __init__(
        self,
        registry: Registry,
        run_id: str,
        control: Path,
        alive: Callable[[], bool],
        fps: float = FRAMES_PER_SECOND,
    ) -> None:
        self.registry = registry
        self.run_id = run_id
        self.control = control
        self.alive = alive
        self.period = 1.0 / fps
        self.frames_sent = 0
        self._done = threading.Event()
        self._screen_known = threading.Event()
        self._screen: Screen | None = None
        self._state = LiveState("starting")
        self._thread = threading.Thread(target=self._run, name="shain-broadcast", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._done.set()
        self._screen_known.set()
        self._thread.join(5.0)

    # --- on the broadcast's thread

    def _run(self) -> None:
        try:
            client = ControlClient(
                self.control,
                self._heard,
                self._gone,
                timeout=CONNECT_TIMEOUT_SECONDS,
                alive=lambda: self.alive() and not self._done.is_set(),
            )
        except EnvironmentProblem:
            return  # the run ended (or never served its channel): its record says how
        try:
            self._screen_known.wait()
            if self._screen is not None and not self._done.is_set():
                self._send_frames(self._screen)
        finally:
            client.close()

    def _send_frames(self, screen: Screen) -> None:
        try:
            capture = ScreenCapture(screen)
        except EnvironmentProblem:
            return
        last = b""
        try:
            while not self._done.is_set():
                started = time.monotonic()
                try:
                    frame = capture.grab()
                except Exception:  # the screen went away: the run is ending
                    return
                jpeg = frame_jpeg(frame)
                if jpeg == last:
                    quietly(keep_frame, self.registry, self.run_id)
                else:
                    size = Size(frame.width, frame.height)
                    sent = LiveFrame(jpeg, size, time.time())
                    quietly(publish_frame, self.registry, self.run_id, sent)
                    self.frames_sent += 1
                    last = jpeg
                self._done.wait(max(0.0, self.period - (time.monotonic() - started)))
        finally:
            with contextlib.suppress(Exception):  # a screen that went away cannot be let go
                capture.close()

    # --- on the control client's reader thread

    def _gone(self) -> None:
        """The run has closed its channel: it has ended, and its screen goes with it."""
        self._done.set()
        self._screen_known.set()

    def _heard(self, message: Message) -> None:
        match message:
            case Hello(display=display) if display is not None and self._screen is None:
                self._screen = Screen(display)
                self._screen_known.set()
            case StateMessage(state=state, detail=detail):
                self._change(state=state, detail=detail)
            case EventMessage(event=data) if data.get("kind") == StepStarted.kind:
                event = decode_event(data)
                if isinstance(event, StepStarted):
                    self._change(step=event.step)

    def _change(self, **values: Any) -> None:
        current = self._state
        state = LiveState(
            state=values.get("state", current.state),
            step=values.get("step", current.step),
            detail=values.get("detail", current.detail),
            at=time.time(),
        )
        self._state = state
        quietly(publish_state, self.registry, self.run_id, state)
