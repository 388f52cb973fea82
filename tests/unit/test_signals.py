"""Signals stop a run without running anything inside the signal handler that could wait."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from agent.errors import Stopped
from agent.stop import StopToken, relay_signals


def test_a_signal_while_the_main_thread_holds_the_lock_it_needs_does_not_deadlock() -> None:
    """A Python handler runs between two bytecodes of the main thread, which may be inside
    an Event's wait holding that Event's lock; reacting there would wait for itself forever.
    The reaction comes on the relay's thread, once the lock is free."""
    lock = threading.Lock()
    reacted: list[str] = []
    done = threading.Event()

    def react(received: signal.Signals) -> None:
        with lock:
            reacted.append(received.name)
        done.set()

    with relay_signals([signal.SIGUSR1], react):
        with lock:
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.1)  # the handler has run in this thread by now, and returned
            assert reacted == []
        assert done.wait(5)
    assert reacted == ["SIGUSR1"]


def test_a_stop_token_asleep_in_the_main_thread_is_stopped_by_sigterm() -> None:
    stop = StopToken()
    with relay_signals([signal.SIGTERM], lambda received: stop.stop(received.name)):
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
        started = time.monotonic()
        with pytest.raises(Stopped, match="SIGTERM"):
            for _ in range(1000):  # the run's polling: many short sleeps on the token
                stop.sleep(0.01)
    assert time.monotonic() - started < 2


def test_a_second_signal_interrupts_and_the_old_handler_comes_back() -> None:
    stop = StopToken()
    before = signal.getsignal(signal.SIGUSR1)
    with (
        pytest.raises(KeyboardInterrupt),
        relay_signals([signal.SIGUSR1], lambda _: stop.stop(), interrupt_if=lambda: stop.stopped),
    ):
        os.kill(os.getpid(), signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while not stop.stopped and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stop.stopped
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(1)  # the KeyboardInterrupt is raised here
    assert signal.getsignal(signal.SIGUSR1) == before
