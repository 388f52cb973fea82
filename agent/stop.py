"""The token the boss uses to stop or pause a run; checked between and inside actions."""

from __future__ import annotations

import threading
import time

from agent.errors import Stopped


class StopToken:
    """Thread-safe stop and pause flags. Setting them is all a UI or hotkey ever does."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.reason = ""
        self.requested_at: float | None = None

    def stop(self, reason: str = "stopped by the boss") -> None:
        if not self._stop.is_set():
            self.reason = reason
            self.requested_at = time.monotonic()
        self._stop.set()
        self._running.set()  # a paused run must wake up to stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def raise_if_stopped(self) -> None:
        if self._stop.is_set():
            raise Stopped(self.reason)

    def wait_while_paused(self) -> None:
        self._running.wait()
        self.raise_if_stopped()

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once and raise Stopped when a stop is requested."""
        if self._stop.wait(seconds):
            raise Stopped(self.reason)
