"""One employee: a `shain run --virtual-display` process working on a screen of its own.

The boss's side starts it, in a session and process group of its own that dies with the boss's
process (a parent-death signal), connects to its control channel, and notices when it ends. An
employee that ends without its run's last event (killed, crashed) is `crashed`; its process
group is killed then, and its screen, buses and apps die with it (they have death signals of
their own, and X apps end with their screen).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agent.desktop.children import die_with_parent
from agent.geometry import Size
from agent.run.control import socket_folder

STDERR_TAIL_BYTES = 4000


@dataclass(frozen=True)
class EmployeeOrder:
    """What the boss asked an employee to do, and where."""

    task_file: Path
    workdir: Path  # the folder the boss shares: the employee's Documents folder
    runs_dir: Path
    size: Size = field(default_factory=lambda: Size(1920, 1080))
    apps: tuple[str, ...] = ()  # commands to start on its screen first
    model_arguments: tuple[str, ...] = ()  # --profile / --policy / --model / --base-url ...
    keep_screen: bool = False  # keep the screen after the task, until the boss closes it
    pause_after: float | None = None  # an unanswered question pauses it after this long
    environment: Mapping[str, str] = field(default_factory=dict)  # added to the process's
    # Questions and approvals wait for a watcher; off in the fleet, where nobody may watch (the
    # task file answers approvals, and a model's question ends the run).
    ask_boss: bool = True
    run_arguments: tuple[str, ...] = ()  # more of `shain run`'s options: --run-id, --var ...

    def command(self, control: Path) -> list[str]:
        arguments = [
            sys.executable, "-m", "agent", "run", str(self.task_file),
            "--virtual-display", "--json", *(["--ask-boss"] if self.ask_boss else []),
            "--size", f"{self.size.width}x{self.size.height}",
            "--control", str(control),
            "--runs-dir", str(self.runs_dir), "--workdir", str(self.workdir),
            *self.model_arguments, *self.run_arguments,
        ]  # fmt: skip
        for app in self.apps:
            arguments += ["--app", app]
        if self.keep_screen:
            arguments.append("--keep-screen")
        if self.pause_after is not None:
            arguments += ["--pause-after", f"{self.pause_after:g}"]
        return arguments


class EmployeeProcess:
    """The process of one employee. `on_exit` gets its exit code (negative: the signal that
    killed it) on a thread of its own once it has ended and its group is gone.

    Start it from a thread that lives as long as the employee: the death signal is tied to it.
    """

    def __init__(self, order: EmployeeOrder, on_exit: Callable[[int], None]) -> None:
        self.order = order
        self.control = socket_folder() / f"employee-{secrets.token_hex(6)}.sock"
        self._on_exit = on_exit
        self._stderr = tempfile.TemporaryFile(prefix="shain-employee-")  # noqa: SIM115
        self._process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        environment = {**os.environ, **self.order.environment}
        # Its screen is its own: nothing of the boss's display reaches it.
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY"):
            environment.pop(name, None)
        self.order.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            self.order.command(self.control),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env=environment,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        threading.Thread(target=self._wait, name="shain-employee", daemon=True).start()

    def stop(self) -> None:
        """Ask it to end cleanly, as Ctrl-C would (its log gets its last event)."""
        if self.alive and self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> bool:
        """Whether it has ended within `timeout`."""
        if self._process is None:
            return True
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stderr_tail(self) -> str:
        """The end of what it wrote to stderr: its progress lines, or why it could not run."""
        size = os.fstat(self._stderr.fileno()).st_size
        start = max(size - STDERR_TAIL_BYTES, 0)
        return os.pread(self._stderr.fileno(), size - start, start).decode("utf-8", "replace")

    def stderr_from(self, offset: int) -> bytes:
        """What it wrote to stderr from byte `offset` on: its progress lines as they come."""
        size = os.fstat(self._stderr.fileno()).st_size
        return os.pread(self._stderr.fileno(), max(size - offset, 0), offset)

    def _wait(self) -> None:
        assert self._process is not None
        code = self._process.wait()
        # Whatever of its group outlived it (it was killed, say): gone too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            self.control.unlink()
        self.exit_code = code
        self._on_exit(code)
