"""Apps a task launches: started in their own process group, all closed when the run ends."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from agent.errors import EnvironmentProblem


class AppLauncher:
    """Starts apps and remembers them, so that `close_all` leaves nothing behind."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self.environment = dict(environment)
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(process.pid for process in self._processes)

    def launch(
        self,
        command: str | list[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise EnvironmentProblem("launch: empty command")
        if cwd is not None and not Path(cwd).is_dir():
            raise EnvironmentProblem(f"launch {argv[0]}: working directory {cwd} does not exist")
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**self.environment, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own group: closing it closes its children too
            )
        except FileNotFoundError as error:
            raise EnvironmentProblem(f"cannot launch {argv[0]!r}: program not found") from error
        except OSError as error:
            raise EnvironmentProblem(f"cannot launch {argv[0]!r}: {error}") from error
        self._processes.append(process)
        return process

    def close_all(self, grace_seconds: float = 2.0) -> None:
        """SIGTERM every app's process group, then SIGKILL what is still there."""
        for process in self._processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in self._processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # stragglers in the group too
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1.0)
        self._processes.clear()
