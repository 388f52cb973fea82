"""The token the boss uses to stop or pause a run; checked between and inside actions."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import FrameType

from agent.errors import Stopped


class StopToken:
    """Thread-safe stop and pause flags. Setting them is all a UI or hotkey ever does."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.reason = ""
        self.requested_at: float | None = None
        # Whether an action is under way, and whether it holds at a pause inside (typing):
        # what someone taking the screen over waits for (wait_until_quiet).
        self._quiet = threading.Condition()
        self._acting = 0
        self._holding = 0

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
        if not self._running.is_set():
            with self._quiet:
                self._holding += 1
                self._quiet.notify_all()
            try:
                self._running.wait()
            finally:
                with self._quiet:
                    self._holding -= 1
        self.raise_if_stopped()

    @contextlib.contextmanager
    def acting(self) -> Iterator[None]:
        """The runner carries out an action (and waits for the screen to settle) inside."""
        with self._quiet:
            self._acting += 1
        try:
            yield
        finally:
            with self._quiet:
                self._acting -= 1
                self._quiet.notify_all()

    def wait_until_quiet(self, timeout: float) -> bool:
        """After pause(): wait until no action is under way, or the one under way holds at a
        pause inside it, so nothing acts on the screen from then on. False on timeout."""
        with self._quiet:
            return self._quiet.wait_for(lambda: self._acting == 0 or self._holding > 0, timeout)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once and raise Stopped when a stop is requested."""
        if self._stop.wait(seconds):
            raise Stopped(self.reason)


@contextlib.contextmanager
def relay_signals(
    signals: Iterable[signal.Signals],
    react: Callable[[signal.Signals], None],
    *,
    interrupt_if: Callable[[], bool] | None = None,
) -> Iterator[None]:
    """While the block runs, each of `signals` calls `react` on a thread of its own; with
    `interrupt_if` true, a signal raises KeyboardInterrupt in the main thread instead.

    Not in the handler itself: a Python signal handler runs between two bytecodes of the
    main thread, which may be holding the very lock `react` needs (an Event's, inside
    `StopToken.sleep`): setting the stop there can wait for itself forever. The handler only
    writes the signal's number into a pipe, which takes no lock.
    """
    read_end, write_end = os.pipe()

    def handle(signum: int, _: FrameType | None) -> None:
        if interrupt_if is not None and interrupt_if():
            raise KeyboardInterrupt
        os.write(write_end, bytes([signum]))

    def relay() -> None:
        while number := os.read(read_end, 1):
            react(signal.Signals(number[0]))

    relaying = threading.Thread(target=relay, name="signals", daemon=True)
    relaying.start()
    previous = {number: signal.signal(number, handle) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        os.close(write_end)  # the relay reads the end of the pipe and returns
        relaying.join(timeout=5)
        os.close(read_end)
