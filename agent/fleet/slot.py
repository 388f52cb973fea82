"""One run on one of a worker's slots: a `shain run --virtual-display` child (an office
employee without a boss watching: `agent/office/employee.py` starts it in its own session and
process group, with a death signal), its progress lines passed on to Redis, and its state,
step and screen too (`broadcast.py`, for the office), a stop from any machine carried out, and
how it ended put on record.

A stop is cooperative first (the run's stop token, through its control channel: it ends with
its final event and exit 3), then the process group is killed after STOP_GRACE_SECONDS.
A run that could not start (environment error or crash before its first action) is set aside
and tried again, up to MAX_ATTEMPTS; a run that acted is never started again.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from redis.exceptions import RedisError

from agent.errors import EnvironmentProblem
from agent.fleet.broadcast import Broadcast, quietly
from agent.fleet.order import FleetOrder
from agent.fleet.registry import EXIT_CRASHED, Registry, RunState
from agent.office.client import ControlClient
from agent.office.employee import EmployeeOrder, EmployeeProcess
from agent.record.events import ActionExecuted
from agent.record.log import read_run
from agent.record.status import RunStatus

STOP_GRACE_SECONDS = 10.0
# A stop the control channel has not carried out by then is sent again as SIGTERM.
SIGNAL_AFTER_SECONDS = 3.0
POLL_SECONDS = 0.2
MAX_ATTEMPTS = 3
RETRIED = frozenset({RunStatus.ENVIRONMENT_ERROR, RunStatus.CRASHED})
# When Redis is away (restarting), the record of how a run ended waits this long for it.
RECORD_PATIENCE_SECONDS = 120.0
# What `shain run` exit codes mean when the run left no summary (it never got as far).
_STATUS_OF_EXIT = {2: RunStatus.BAD_INPUT, 3: RunStatus.STOPPED, 4: RunStatus.ENVIRONMENT_ERROR}


@dataclass
class Board:
    """Which runs a worker's slots hold, for its heartbeat (slot threads add and remove)."""

    _runs: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, run_id: str) -> None:
        with self._lock:
            self._runs.add(run_id)

    def drop(self, run_id: str) -> None:
        with self._lock:
            self._runs.discard(run_id)

    def runs(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._runs))


@dataclass(frozen=True)
class Place:
    """Where a worker's slots run: its records, who it is, where run folders go."""

    registry: Registry
    instance: str
    runs_dir: Path
    board: Board
    stop_grace: float = STOP_GRACE_SECONDS


@dataclass(frozen=True)
class Ending:
    status: RunStatus | None  # None: not started here (stopped before, or another has it)
    exit_code: int | None = None
    reason: str = ""
    retry: bool = False  # it could not start: queue it again


def serve(order: FleetOrder, place: Place) -> Ending:
    """Run the order on this slot, unless it was claimed already; how it ended."""
    registry = place.registry
    if not registry.claim(order.run_id, place.instance):
        return Ending(None, reason=f"claimed already by {registry.holder(order.run_id)}")
    record = registry.get(order.run_id)
    attempts = record.attempts if record is not None else 0
    folder = place.runs_dir / order.run_id
    registry.update(
        order.run_id,
        state=RunState.RUNNING,
        worker=place.instance,
        started_at=time.time(),
        run_folder=str(folder),
    )
    place.board.hold(order.run_id)
    try:
        code, stop_requested, last_line = _run_child(order, place)
    except Exception as error:  # the run could not even be started: say so, never leave it
        why = f"the worker could not start the run: {error}"
        _patiently(lambda: registry.end(order.run_id, RunStatus.ENVIRONMENT_ERROR, 4, why))
        raise
    finally:
        place.board.drop(order.run_id)
    status, exit_code, reason = _how_it_ended(folder, code, last_line)
    if (
        status in RETRIED
        and not stop_requested
        and attempts + 1 < MAX_ATTEMPTS
        and not _acted(folder)
    ):
        _set_aside(folder, place.runs_dir, attempts + 1)
        _patiently(lambda: _requeue(registry, order.run_id, attempts + 1, reason))
        return Ending(status, exit_code, reason, retry=True)
    _patiently(lambda: registry.end(order.run_id, status, exit_code, reason, str(folder)))
    return Ending(status, exit_code, reason)


def _run_child(order: FleetOrder, place: Place) -> tuple[int, bool, str]:
    """The run's process from start to end: (exit code, whether a stop was asked, its last
    line of output)."""
    scratch = Path(tempfile.mkdtemp(prefix="shain-fleet-"))
    try:
        task_file = scratch / order.file_name
        task_file.write_text(order.task_text, encoding="utf-8")
        employee = EmployeeOrder(
            task_file,
            workdir=scratch / "work",
            runs_dir=place.runs_dir,
            ask_boss=False,
            run_arguments=order.run_arguments(),
            environment={"PYTHONUNBUFFERED": "1"},
        )
        ended = threading.Event()
        process = EmployeeProcess(employee, lambda _code: ended.set())
        process.start()
        quietly(place.registry.update, order.run_id, pid=process.pid)
        broadcast = Broadcast(place.registry, order.run_id, process.control, lambda: process.alive)
        broadcast.start()
        try:
            stop_requested, last_line = _follow(process, ended, order.run_id, place)
        finally:
            broadcast.stop()
        code = process.exit_code
        return (code if code is not None else -signal.SIGKILL), stop_requested, last_line
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _follow(
    process: EmployeeProcess, ended: threading.Event, run_id: str, place: Place
) -> tuple[bool, str]:
    """Pass its progress lines on while it runs, and carry out a stop; (whether a stop was
    asked, its last line)."""
    offset, pending, last_line = 0, b"", ""
    stop_asked_at: float | None = None
    signalled = False
    channel: ControlClient | None = None
    try:
        while True:
            finished = ended.wait(POLL_SECONDS)
            chunk = process.stderr_from(offset)
            offset += len(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            if finished and pending:
                lines.append(pending)
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                last_line = line or last_line
                quietly(place.registry.add_line, run_id, line)
            if finished:
                return stop_asked_at is not None, last_line
            if stop_asked_at is None:
                reason = quietly(place.registry.stop_requested, run_id) or ""
                if reason:
                    channel = _ask_to_stop(process, reason)
                    stop_asked_at = time.monotonic()
                continue
            waited = time.monotonic() - stop_asked_at
            if waited > place.stop_grace:
                process.kill()  # its process group: the run, its screen, its apps
            elif waited > SIGNAL_AFTER_SECONDS and not signalled:
                process.stop()  # the channel did not carry it: SIGTERM is the same clean stop
                signalled = True
    finally:
        if channel is not None:
            channel.close()


def _ask_to_stop(process: EmployeeProcess, reason: str) -> ControlClient | None:
    """The run's own stop token, through its control channel (kept open until the run ends:
    a watcher that leaves at once can be dropped before its command is read); a SIGTERM (the
    same clean stop) when the channel is not there yet."""
    try:
        client = ControlClient(
            process.control, lambda _message: None, timeout=2.0, alive=lambda: process.alive
        )
    except EnvironmentProblem:
        process.stop()
        return None
    if not client.send("stop", reason=reason):
        process.stop()
    return client


def _how_it_ended(folder: Path, code: int, last_line: str) -> tuple[RunStatus, int, str]:
    """(status, exit code, reason) from the run folder's summary; a run without one crashed,
    or never got as far as its log."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return RunStatus(summary["status"]), int(summary["exit_code"]), str(summary["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if code < 0:
        name = signal.Signals(-code).name
        return (
            RunStatus.CRASHED,
            EXIT_CRASHED,
            f"its process was killed ({name}) before the run's last event; it is not run again",
        )
    if code in _STATUS_OF_EXIT:
        return _STATUS_OF_EXIT[code], code, last_line.removeprefix("shain: ") or f"exit {code}"
    return RunStatus.CRASHED, EXIT_CRASHED, f"exit code {code} without the run's last event"


def _acted(folder: Path) -> bool:
    """Whether the run got as far as its first action (then it is never started again)."""
    try:
        return bool(read_run(folder).events_of(ActionExecuted))
    except (OSError, ValueError):
        return False


def _set_aside(folder: Path, runs_dir: Path, attempt: int) -> None:
    """Keep a failed start's folder out of the way (`.attempts/`), so the retry gets the id."""
    if folder.is_dir():
        aside = runs_dir / ".attempts"
        aside.mkdir(mode=0o700, exist_ok=True)
        folder.rename(aside / f"{folder.name}-{attempt}")


def _requeue(registry: Registry, run_id: str, attempts: int, reason: str) -> None:
    registry.update(run_id, state=RunState.QUEUED, attempts=attempts, reason=reason)
    registry.release(run_id)


def _patiently(call: Callable[[], None]) -> None:
    """A record that must not be missed (how a run ended): tried until Redis is back."""
    deadline = time.monotonic() + RECORD_PATIENCE_SECONDS
    while True:
        try:
            call()
            return
        except RedisError as error:
            if time.monotonic() > deadline:
                print(f"shain worker: could not record a run's ending: {error}", file=sys.stderr)
                return
            time.sleep(1.0)
