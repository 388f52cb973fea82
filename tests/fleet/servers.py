"""A real redis-server of the tests' own (never the system's service) and real `shain worker`s,
each started and stopped by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import REPO, environment_without_display

REDIS_CONF = REPO / "docs" / "fleet" / "redis.conf"  # the settings the README recommends


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """redis-server on 127.0.0.1 with the fleet's recommended config, its data in `folder`."""

    def __init__(self, folder: Path, *options: str) -> None:
        self.folder = folder
        self.options = options  # more of redis-server's, e.g. --requirepass
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            ["redis-server", str(REDIS_CONF), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--daemonize", "no", "--protected-mode", "yes",
             *self.options],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                if self._answers():
                    return
            assert self.process.poll() is None, (self.folder / "redis.log").read_text()
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not answer on port {self.port}")

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith((b"+PONG", b"-NOAUTH"))

    def kill(self) -> None:
        """As a crash would: no chance to save anything more."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Worker:
    """A real `shain worker` process in a session of its own; `environment` carries the marker
    its runs' processes inherit (tests.helpers.left_behind)."""

    def __init__(
        self, broker: str, runs_dir: Path, log: Path, *, name: str, queues: str = "shain",
        slots: int = 1,
    ) -> None:  # fmt: skip
        self.environment = {**environment_without_display(), "SHAIN_BROKER": broker}
        self.log = log
        output = open(log, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agent", "worker", "--name", name, "--queues", queues,
             "--slots", str(slots), "--runs-dir", str(runs_dir)],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            env=self.environment, cwd=REPO, start_new_session=True,
        )  # fmt: skip
        output.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def close(self) -> None:
        """End it and whatever it started: its process group, by its id."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
