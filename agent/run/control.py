"""An employee's control channel: a local socket on which watchers (the office window,
`shain watch`) hear how a run goes and steer it.

One JSON object per line, UTF-8, both ways. The employee (a `shain run` process) serves; any
number of watchers of the same user connect. Each watcher first gets a `hello` (which run,
which screen), then every event of the run so far and from then on, as the run log writes them,
plus the run's `state` and the `question`s waiting for the boss.

Watchers send commands: `pause`, `resume`, `stop`, `take_over`, `hand_back`, `close` (tear the
screen down when the employee was told to keep it for inspection), and `answer` (to an
approval: `approved`; to a question: `text`). Commands are validated here, at the edge; a
command that does not parse is answered with `refused` and never acted on.

The socket lives in a folder only its user can open, and the peer's user id is checked again
on every connection (SO_PEERCRED).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic

# A watcher that stops reading is dropped rather than let it stall the run.
SEND_TIMEOUT_SECONDS = 2.0
MAX_LINE_BYTES = 1_000_000


class _Command(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class Pause(_Command):
    command: Literal["pause"]


class Resume(_Command):
    command: Literal["resume"]


class Stop(_Command):
    command: Literal["stop"]
    reason: str = "stopped by the boss"


class TakeOver(_Command):
    command: Literal["take_over"]


class HandBack(_Command):
    command: Literal["hand_back"]


class Close(_Command):
    command: Literal["close"]


class Answer(_Command):
    command: Literal["answer"]
    id: int
    approved: bool | None = None  # to an approval
    text: str | None = None  # to a question

    @pydantic.model_validator(mode="after")
    def _one_answer(self) -> Answer:
        if (self.approved is None) == (self.text is None):
            raise ValueError("an answer has either approved (to an approval) or text")
        return self


Command = Annotated[
    Pause | Resume | Stop | TakeOver | HandBack | Close | Answer,
    pydantic.Field(discriminator="command"),
]
_COMMAND = pydantic.TypeAdapter(Command)


class BadCommand(ValueError):
    """A line from a watcher that is not a command this version knows."""


def parse_command(line: bytes) -> Command:
    try:
        return _COMMAND.validate_json(line)
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'command'}: {e['msg']}"
            for e in error.errors()
        )
        raise BadCommand(problems) from None


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n"


def socket_folder() -> Path:
    """A folder for control sockets only this user can open (created 0700)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"shain-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
        raise PermissionError(f"{folder} is not private to this user")
    return folder


def peer_uid(connection: socket.socket) -> int:
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return int(uid)


class Watcher:
    """One connected watcher, as the employee sees it."""

    def __init__(self, connection: socket.socket, number: int) -> None:
        self.connection = connection
        self.number = number
        self._lock = threading.Lock()
        self.alive = True

    def send(self, data: bytes) -> None:
        with self._lock:
            if not self.alive:
                return
            try:
                self.connection.sendall(data)
            except OSError:
                self.close()

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()

    def __repr__(self) -> str:
        return f"watcher {self.number}"


CommandHandler = Callable[[Command, Watcher], None]
LeaveHandler = Callable[[Watcher], None]


class ControlServer:
    """Serves a run's control channel at `path` on threads of its own.

    `hello` is what each watcher is told first; `publish` sends a message to every watcher
    (and, with `keep`, to every later one after its hello: the run's events); `on_command`
    gets each valid command on the connection's reader thread, `on_leave` each watcher that
    went away.
    """

    def __init__(
        self,
        path: Path,
        hello: Mapping[str, Any],
        on_command: CommandHandler,
        on_leave: LeaveHandler | None = None,
    ) -> None:
        self.path = path
        self._hello = dict(hello)
        self._on_command = on_command
        self._on_leave = on_leave
        self._lock = threading.Lock()
        self._watchers: list[Watcher] = []
        self._kept: list[bytes] = []
        self._latest: dict[str, bytes] = {}  # the last message of each replaced kind
        self._count = 0
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._listener.bind(str(path))
        os.chmod(path, 0o600)
        self._listener.listen(8)
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="shain-control", daemon=True)
        self._thread.start()

    def publish(self, message: Mapping[str, Any], *, keep: bool = False) -> None:
        """To every watcher now; `keep` also to each one that connects later. A `state`
        message replaces the one before it for later watchers (they need only the latest)."""
        data = encode(message)
        with self._lock:
            if keep:
                self._kept.append(data)
            elif message.get("type") == "state":
                self._latest["state"] = data
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher.send(data)

    def send(self, watcher: Watcher, message: Mapping[str, Any]) -> None:
        watcher.send(encode(message))

    @property
    def watchers(self) -> int:
        with self._lock:
            return sum(watcher.alive for watcher in self._watchers)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        with self._lock:
            watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            watcher.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            if peer_uid(connection) != os.getuid():
                connection.close()  # another user: not theirs to watch
                continue
            connection.settimeout(None)
            connection.setsockopt(
                socket.SOL_SOCKET,
                socket.SO_SNDTIMEO,
                struct.pack("ll", int(SEND_TIMEOUT_SECONDS), 0),
            )
            with self._lock:
                self._count += 1
                watcher = Watcher(connection, self._count)
                # Under the lock: nothing published in between is lost or sent twice.
                catch_up = [encode({"type": "hello", **self._hello}), *self._kept]
                catch_up += list(self._latest.values())
                watcher.send(b"".join(catch_up))
                self._watchers.append(watcher)
            threading.Thread(
                target=self._read, args=(watcher,), name="shain-control-reader", daemon=True
            ).start()

    def _read(self, watcher: Watcher) -> None:
        reader = watcher.connection.makefile("rb")
        try:
            for line in reader:
                if len(line) > MAX_LINE_BYTES:
                    break
                try:
                    command = parse_command(line)
                except BadCommand as error:
                    self.send(watcher, {"type": "refused", "reason": str(error)})
                    continue
                self._on_command(command, watcher)
        except OSError:
            pass
        finally:
            reader.close()
            watcher.close()
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)
            if self._on_leave is not None:
                self._on_leave(watcher)


# --- what the employee tells its watchers (parsed at the watcher's edge) ---------------------


class _Message(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore", frozen=True)  # newer fields: ignored


class Hello(_Message):
    """Which run this is, and where its screen is."""

    type: Literal["hello"]
    run_id: str
    run_folder: str
    task: str
    goal: str | None = None
    pid: int
    display: str | None
    width: int
    height: int
    control: str
    private: bool


class EventMessage(_Message):
    """One event of the run, as the run log writes it (decode with agent.record.codec)."""

    type: Literal["event"]
    event: dict[str, Any]


class StateMessage(_Message):
    type: Literal["state"]
    state: Literal["starting", "working", "paused", "taken_over", "needs_you", "ended"]
    detail: str = ""


class QuestionMessage(_Message):
    """Something the boss must answer: an approval (yes or no) or the model's question."""

    type: Literal["question"]
    id: int
    kind: Literal["approval", "question"]
    text: str
    step: int | None = None
    action: str | None = None


class AnsweredMessage(_Message):
    type: Literal["answered"]
    id: int


class RefusedMessage(_Message):
    type: Literal["refused"]
    command: str = ""
    reason: str


Message = Annotated[
    Hello | EventMessage | StateMessage | QuestionMessage | AnsweredMessage | RefusedMessage,
    pydantic.Field(discriminator="type"),
]
_MESSAGE = pydantic.TypeAdapter(Message)


def parse_message(line: bytes) -> Message | None:
    """A message from an employee; None for one this version does not know (a newer kind)."""
    try:
        return _MESSAGE.validate_json(line)
    except pydantic.ValidationError:
        return None
