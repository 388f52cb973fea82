"""A watcher's end of an employee's control channel (agent/run/control.py): messages in on a
thread of its own, commands out from any thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.errors import EnvironmentProblem
from agent.run.control import Message, encode, parse_message

CONNECT_POLL_SECONDS = 0.05


class ControlClient:
    """Connected to one employee. `on_message` gets each message on the reader thread;
    `on_closed` once, when the employee goes away (its run ended, or it died)."""

    def __init__(
        self,
        path: Path,
        on_message: Callable[[Message], None],
        on_closed: Callable[[], None] | None = None,
        *,
        timeout: float = 30.0,
        alive: Callable[[], bool] | None = None,
    ) -> None:
        self.path = path
        self._on_message = on_message
        self._on_closed = on_closed
        self._socket = _connect(path, timeout, alive)
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._read, name="shain-watcher", daemon=True)
        self._thread.start()

    def send(self, command: str, **fields: Any) -> bool:
        """Send a command (`pause`, `resume`, `stop`, `take_over`, `hand_back`, `close`,
        `answer`); False when the employee is gone."""
        data = encode({"command": command, **fields})
        with self._lock:
            if self._closed:
                return False
            try:
                self._socket.sendall(data)
            except OSError:
                return False
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(2)
        self._socket.close()

    def _read(self) -> None:
        reader = self._socket.makefile("rb")
        try:
            for line in reader:
                message = parse_message(line)
                if message is not None:
                    self._on_message(message)
        except OSError:
            pass
        finally:
            reader.close()
            with self._lock:
                self._closed = True
            if self._on_closed is not None:
                self._on_closed()


def _connect(path: Path, timeout: float, alive: Callable[[], bool] | None) -> socket.socket:
    """Connect, waiting for the socket to appear while the employee (`alive`) is there."""
    deadline = time.monotonic() + timeout
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(str(path))
            return connection
        except (FileNotFoundError, ConnectionRefusedError) as error:
            connection.close()
            if time.monotonic() > deadline or (alive is not None and not alive()):
                raise EnvironmentProblem(
                    f"no employee answers at {path}: {error.strerror or error}"
                ) from None
            time.sleep(CONNECT_POLL_SECONDS)
        except OSError as error:
            connection.close()
            raise EnvironmentProblem(f"cannot connect to {path}: {error}") from error
