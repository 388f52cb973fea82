"""Frames of an employee's screen, grabbed and scaled on a thread of their own.

The GUI thread only paints: grabbing (mss, about a millisecond for 1920x1080) and the smooth
scaling to the size the view shows (about as long again) happen here, `fps` times a second.
The mss object is made and used on this one thread. Only the newest frame is kept: when the
GUI thread is busy, older frames are dropped instead of queueing up behind it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage

from agent.desktop.capture import ScreenCapture
from agent.desktop.screen import Screen
from agent.geometry import Size


@dataclass(frozen=True)
class FeedFrame:
    """One frame as the view shows it: scaled, with the size of the screen it came from."""

    image: QImage
    screen_size: Size
    captured_at: float  # time.monotonic()
    grab_seconds: float
    scale_seconds: float


class ScreenFeed(QObject):
    """Grabs `screen` on a worker thread; `frame_ready` (on the GUI thread) says a new frame
    waits in `take_frame()`; `failed` says the screen cannot be read (it went away)."""

    frame_ready = Signal()
    failed = Signal(str)

    def __init__(self, screen: Screen, fps: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.screen = screen
        self._period = 1.0 / fps
        self._target: tuple[int, int] | None = None  # the size to scale to; None: the screen's
        self._lock = threading.Lock()
        self._latest: FeedFrame | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # a new rate takes effect at once
        self._thread: threading.Thread | None = None
        self.frames_grabbed = 0

    @property
    def fps(self) -> float:
        return 1.0 / self._period

    @fps.setter
    def fps(self, value: float) -> None:
        self._period = 1.0 / value
        self._wake.set()

    def set_target_size(self, size: QSize) -> None:
        """Scale frames to `size` (device pixels, the screen's aspect) from the next frame on."""
        self._target = (max(1, size.width()), max(1, size.height()))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shain-feed", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop grabbing (the thread ends within one frame's grab)."""
        self._stop.set()
        self._wake.set()

    def wait(self, timeout: float) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def take_frame(self) -> FeedFrame | None:
        """The newest frame not taken yet."""
        with self._lock:
            frame, self._latest = self._latest, None
        return frame

    def _run(self) -> None:
        try:
            capture = ScreenCapture(self.screen)
        except Exception as error:
            self._emit_failed(f"cannot read the employee's screen: {error}")
            return
        try:
            due = time.monotonic()
            while not self._stop.is_set():
                self._publish(self._grab(capture))
                due = max(due + self._period, time.monotonic())
                self._wake.clear()
                self._wake.wait(max(0.0, due - time.monotonic()))
        except Exception as error:  # the screen went away (its run ended), or mss failed
            if not self._stop.is_set():
                self._emit_failed(f"the employee's screen is gone: {error or type(error).__name__}")
        finally:
            with contextlib.suppress(Exception):  # a screen that went away cannot be let go
                capture.close()

    def _grab(self, capture: ScreenCapture) -> FeedFrame:
        started = time.monotonic()
        frame = capture.grab()
        grabbed = time.monotonic()
        pixels = frame.pixels
        height, width = pixels.shape[:2]
        # BGRA bytes read as 0xAARRGGBB words: RGB32 (little-endian). The view is of mss's
        # buffer, which the next grab reuses: the scaled (or copied) image owns its pixels.
        view = QImage(
            pixels.data, width, height, int(pixels.strides[0]), QImage.Format.Format_RGB32
        )
        target = self._target
        if target is None or target == (width, height):
            image = view.copy()
        else:
            image = view.scaled(
                target[0],
                target[1],
                Qt.AspectRatioMode.IgnoreAspectRatio,  # the view gives the size of its aspect
                Qt.TransformationMode.SmoothTransformation,
            )
        self.frames_grabbed += 1
        return FeedFrame(
            image, Size(width, height), frame.captured_at, grabbed - started,
            time.monotonic() - grabbed,
        )  # fmt: skip

    def _publish(self, frame: FeedFrame) -> None:
        with self._lock:
            waiting = self._latest is not None
            self._latest = frame
        if waiting:
            return  # the GUI thread has not taken the last one yet: it will take this one
        try:
            self.frame_ready.emit()
        except RuntimeError:  # the view was deleted without stopping its feed: stop now
            self._stop.set()

    def _emit_failed(self, why: str) -> None:
        with contextlib.suppress(RuntimeError):  # the view was deleted meanwhile
            self.failed.emit(why)
