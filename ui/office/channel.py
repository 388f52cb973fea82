"""An employee's control channel (agent/run/control.py) for widgets: what the employee says
arrives as Qt signals on the GUI thread; commands go out without ever waiting on it.

    channel = EmployeeChannel(parent)
    channel.hello_received.connect(...)      # Hello: which run, which screen (first)
    channel.event_received.connect(...)      # one event of the run, typed (agent.record.events)
    channel.state_changed.connect(...)       # StateMessage: working, paused, taken_over, ...
    channel.question_asked.connect(...)      # QuestionMessage: an approval or the model's question
    channel.question_answered.connect(...)   # int: the id of a question no longer waiting
    channel.command_refused.connect(...)     # RefusedMessage: a command the employee refused
    channel.closed.connect(...)              # str: why the channel is over (run ended, no answer)
    channel.connect_to(socket_path)
    channel.pause(); channel.take_over(); ...; channel.close()

A new watcher hears the hello, then every event of the run so far, then the latest state, so a
window opened late shows the whole run. `connect_to` returns at once: connecting (waiting for
the socket to appear, `timeout` seconds at most, while `alive()` says the employee is there)
and sending happen on a thread of the channel's, and ControlClient reads on one of its own.
Both only emit a private signal, which Qt delivers to this object on the GUI thread; the
public signals are emitted from there, in the order the employee sent its messages.

Commands sent before the connection is made wait for it; each send method says False once the
channel is closed (or never connected). `close()` sends what is queued, then disconnects; an
employee whose watcher holds the screen takes it back when that watcher goes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from agent.errors import AgentError
from agent.office.client import ControlClient
from agent.record.codec import decode_event
from agent.run.control import (
    AnsweredMessage,
    EventMessage,
    Hello,
    Message,
    QuestionMessage,
    RefusedMessage,
    StateMessage,
)

_CLOSE = None  # queued by close(): everything before it is sent first


class _Gone:
    """The channel is over, and why (a private message from the threads to the GUI thread)."""

    def __init__(self, why: str) -> None:
        self.why = why


class EmployeeChannel(QObject):
    """One employee's control channel, as signals and send methods; see the module's account."""

    hello_received = Signal(object)  # Hello
    event_received = Signal(object)  # a LoggedEvent, decoded (agent.record.codec)
    state_changed = Signal(object)  # StateMessage
    question_asked = Signal(object)  # QuestionMessage
    question_answered = Signal(int)  # the question's id
    command_refused = Signal(object)  # RefusedMessage
    closed = Signal(str)  # why

    _arrived = Signal(object)  # Message | _Gone, from the channel's threads

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.hello: Hello | None = None  # the latest of each, as the GUI thread has seen it
        self.state: StateMessage | None = None
        self.is_closed = False
        self._commands: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._arrived.connect(self._dispatch)

    def connect_to(
        self,
        path: Path,
        *,
        timeout: float = 30.0,
        alive: Callable[[], bool] | None = None,
    ) -> None:
        """Connect to the employee serving at `path` (on the channel's thread)."""
        if self._thread is not None:
            raise RuntimeError("a channel connects once")
        self.path = path
        self._thread = threading.Thread(
            target=self._run, args=(path, timeout, alive), name="shain-channel", daemon=True
        )
        self._thread.start()

    # --- commands ---------------------------------------------------------------------------

    def send(self, command: str, **fields: Any) -> bool:
        """Queue any command of the protocol; False when the channel is closed."""
        if self._closing.is_set() or self._thread is None:
            return False
        self._commands.put({"command": command, **fields})
        return True

    def pause(self) -> bool:
        return self.send("pause")

    def resume(self) -> bool:
        return self.send("resume")

    def stop(self, reason: str = "stopped by the boss") -> bool:
        return self.send("stop", reason=reason)

    def take_over(self) -> bool:
        """Ask for the screen: `state_changed` says `taken_over` when it is given, or
        `command_refused` (command `take_over`) says why not (another watcher holds it)."""
        return self.send("take_over")

    def hand_back(self) -> bool:
        return self.send("hand_back")

    def close_screen(self) -> bool:
        """Let an employee that keeps its screen after the run (--keep-screen) tear it down."""
        return self.send("close")

    def answer_approval(self, question: int, approved: bool) -> bool:
        return self.send("answer", id=question, approved=approved)

    def answer_question(self, question: int, text: str) -> bool:
        return self.send("answer", id=question, text=text)

    def close(self) -> None:
        """Send what is queued, then disconnect (safe from any thread, and more than once)."""
        if not self._closing.is_set():
            self._closing.set()
            self._commands.put(_CLOSE)

    def wait_closed(self, timeout: float) -> bool:
        """Whether the channel's thread has ended within `timeout` seconds (after close)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    # --- the channel's thread ---------------------------------------------------------------

    def _run(self, path: Path, timeout: float, alive: Callable[[], bool] | None) -> None:
        def still_wanted() -> bool:
            return not self._closing.is_set() and (alive is None or alive())

        def gone() -> None:
            self._post(_Gone("closed" if self._closing.is_set() else "the employee has gone"))

        try:
            client = ControlClient(path, self._post, gone, timeout=timeout, alive=still_wanted)
        except AgentError as error:
            self._post(_Gone("closed" if self._closing.is_set() else str(error)))
            self._closing.set()
            return
        try:
            while (command := self._commands.get()) is not _CLOSE:
                assert command is not None
                if not client.send(**command):
                    break  # the employee has gone: the reader says so
        finally:
            self._closing.set()
            client.close()

    def _post(self, message: Message | _Gone) -> None:
        with contextlib.suppress(RuntimeError):  # this object was deleted meanwhile
            self._arrived.emit(message)

    # --- on the GUI thread -------------------------------------------------------------------

    def _dispatch(self, message: Message | _Gone) -> None:
        if self.is_closed:
            return
        match message:
            case _Gone(why=why):
                self.is_closed = True
                self._closing.set()
                if self.state is not None and self.state.state == "ended":
                    why = "the run has ended"  # its employee closes the channel as it goes
                self.closed.emit(why)
            case Hello():
                self.hello = message
                self.hello_received.emit(message)
            case EventMessage(event=data):
                self.event_received.emit(decode_event(data))
            case StateMessage():
                self.state = message
                self.state_changed.emit(message)
            case QuestionMessage():
                self.question_asked.emit(message)
            case AnsweredMessage(id=number):
                self.question_answered.emit(number)
            case RefusedMessage():
                self.command_refused.emit(message)
