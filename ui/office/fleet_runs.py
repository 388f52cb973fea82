"""Fleet runs in the office, beside the local employees: what the broker's Redis says of them
(agent/fleet/registry.py, live.py), read on a thread of its own every POLL_SECONDS, each run a
`FleetEmployee` that a card shows like a local one (state, step, time, its latest frame).

The office lists the runs queued or running when it looks, and those sent from here, until
their cards are closed; runs that ended before it opened are not listed. Stop goes through the
fleet's own stop (agent/fleet/stopping.py). Watching a fleet run is read-only, at the frame
rate Redis gives (at most 2 a second): taking over a fleet run's screen is not offered.

Nothing here imports Celery or redis at import time: the link connects (agent/fleet/broker.py)
on its thread, and `problem` says why not when the extra is missing or the broker is away.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from agent.errors import AgentError, EnvironmentProblem
from agent.fleet.broker import masked
from agent.fleet.live import LiveState, read_frames, read_states
from agent.fleet.registry import BEAT_SECONDS, FleetRun, Registry, RunState
from agent.geometry import Size
from agent.record.steps import StepFolder
from ui.office.office import RUNNING_STATES, STARTING, WAITING, ended_state

POLL_SECONDS = 0.5  # the frames come at most twice a second
RETRY_SECONDS = 5.0  # a broker that could not be reached is tried again this often
LAST_FRAME_SECONDS = 5.0  # an ended run's last frame is still read this long after


@dataclass(frozen=True)
class Sighting:
    """One fleet run as one look at Redis found it."""

    kind: ClassVar[str] = "fleet_sighting"
    record: FleetRun
    live: LiveState | None
    picture: QImage | None  # a frame newer than the last one seen, decoded; None: no new one
    screen: Size | None  # the size of the run's screen, with a picture


class FleetEmployee(QObject):
    """A fleet run as an office card shows it. Tokens and cost do not travel through Redis:
    its fold stays empty."""

    changed = Signal()
    ended = Signal()
    picture_changed = Signal(QImage)

    def __init__(self, number: int, label: str, record: FleetRun, link: FleetLink) -> None:
        super().__init__()
        self.number = number
        self.label = label
        self.record = record
        self.link = link
        self.live: LiveState | None = None
        self.picture: QImage | None = None
        self.screen: Size | None = None
        self.fold = StepFolder()
        self.hello = None  # no control channel: the fleet run is on another machine
        self.display = None
        self.stopping = False
        self.note = ""  # something the office has to say of it (no report), over the rest
        self._told_ended = False

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def name(self) -> str:
        worker = self.record.worker.split("#")[0]
        return f"Fleet · {worker}" if worker else f"Fleet · queue {self.record.queue}"

    @property
    def state(self) -> str:
        record = self.record
        match record.state:
            case RunState.ENDED:
                return ended_state(record.status) if record.status is not None else "crashed"
            case RunState.QUEUED:
                return WAITING
        if self.live is not None and self.live.state in RUNNING_STATES:
            return RUNNING_STATES[self.live.state]
        return STARTING

    @property
    def detail(self) -> str:
        record = self.record
        if self.note:
            return self.note
        if record.state is RunState.ENDED:
            return record.reason
        if self.stopping:
            return "stopping…"
        if record.state is RunState.QUEUED:
            return f"queued on {record.queue}"
        return self.live.detail if self.live is not None else ""

    @property
    def is_over(self) -> bool:
        return self.record.state is RunState.ENDED

    @property
    def step(self) -> int:
        return self.live.step if self.live is not None else 0

    @property
    def seconds(self) -> float:
        started = self.record.started_at
        if started is None:
            return 0.0
        return (self.record.finished_at or time.time()) - started

    @property
    def run_folder(self) -> str | None:
        """The run's folder when this machine can read it (shared storage)."""
        folder = self.record.run_folder
        return folder if folder and Path(folder).is_dir() else None

    def stop(self) -> None:
        if not self.is_over and not self.stopping:
            self.stopping = True
            self.link.stop(self.run_id)
            self.changed.emit()

    def see(self, sighting: Sighting) -> None:
        self.record, self.live = sighting.record, sighting.live or self.live
        if sighting.picture is not None:
            self.picture, self.screen = sighting.picture, sighting.screen
            self.picture_changed.emit(sighting.picture)
        self.changed.emit()
        if self.is_over and not self._told_ended:
            self._told_ended = True
            self.ended.emit()


class FleetLink(QObject):
    """The office's link to the fleet's broker: its runs as FleetEmployees (`hired` when one is
    first seen, `employee_ended`), submitting and stopping. `problem` is "" while the broker
    answers, else why not."""

    hired = Signal(object)  # FleetEmployee
    employee_ended = Signal(object)  # FleetEmployee
    status_changed = Signal()
    submitted = Signal(str, str)  # run id ("" when it failed), why it failed
    _seen = Signal(object)  # tuple[Sighting, ...], from the link's thread
    _status = Signal(str)
    _stop_failed = Signal(str, str)  # run id, why

    def __init__(self, url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.url = url
        self.problem = f"connecting to the broker {masked(url)}…"
        self.employees: dict[str, FleetEmployee] = {}  # by run id
        self.registry: Registry | None = None
        self._labels: dict[str, str] = {}  # run id -> label, for the runs sent from here
        self._lock = threading.Lock()
        self._listed: set[str] = set()  # on the link's thread: the runs it shows
        self._closed: set[str] = set()  # runs whose cards the boss closed
        self._frames: dict[str, float] = {}  # on the link's thread: run id -> its frame's `at`
        self._numbers = itertools.count(1)
        self._stop = threading.Event()
        self._seen.connect(self._saw)
        self._status.connect(self._set_problem)
        self._stop_failed.connect(self._not_stopped)
        self._thread = threading.Thread(target=self._run, name="shain-fleet-link", daemon=True)

    @property
    def reachable(self) -> bool:
        return not self.problem

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    # --- the boss's commands (each on a short thread: the GUI never waits on the broker)

    def submit(self, task_file: Path, queue: str, label: str) -> None:
        """Check and queue the task file; `submitted` says the run id, or why not."""
        threading.Thread(
            target=self._submit, args=(task_file, queue, label), name="shain-submit", daemon=True
        ).start()

    def stop(self, run_id: str) -> None:
        threading.Thread(target=self._stop_run, args=(run_id,), daemon=True).start()

    def _submit(self, task_file: Path, queue: str, label: str) -> None:
        from agent.fleet.submit import checked_order, submit

        try:
            registry = self._registry()
            order = checked_order(task_file, variables={}, queue=queue)
            with self._lock:
                self._labels[order.run_id] = label
            submit(registry, self.url, order)
        except AgentError as error:
            self.submitted.emit("", str(error))
            return
        self.submitted.emit(order.run_id, "")

    def _stop_run(self, run_id: str) -> None:
        from redis.exceptions import RedisError

        from agent.fleet.stopping import WAIT_SECONDS, stop_run

        try:
            ended = stop_run(self._registry(), run_id, "stopped by the boss (the office)")
        except (AgentError, RedisError) as error:
            self._stop_failed.emit(run_id, f"could not stop it: {error}")
            return
        if ended is None:
            self._stop_failed.emit(run_id, f"still going {WAIT_SECONDS:.0f}s after Stop")

    def _registry(self) -> Registry:
        registry = self.registry
        if registry is None:
            raise EnvironmentProblem(self.problem or "the broker is not connected")
        return registry

    # --- on the link's thread

    def _run(self) -> None:
        from redis.exceptions import RedisError

        from agent.fleet.broker import connect

        reaped_at = 0.0
        while not self._stop.is_set():
            if self.registry is None:
                try:
                    self.registry = Registry(connect(self.url))
                except EnvironmentProblem as problem:
                    self._status.emit(str(problem))
                    self._stop.wait(RETRY_SECONDS)
                    continue
                self._status.emit("")
            try:
                if time.monotonic() - reaped_at > BEAT_SECONDS:
                    self.registry.reap()  # runs of workers that went away end as crashed
                    reaped_at = time.monotonic()
                self._seen.emit(self._look(self.registry))
            except RedisError as error:
                self.registry = None
                self._status.emit(f"lost the broker {masked(self.url)}: {error}")
            except ValueError as error:  # a record this version cannot read: say so, go on
                self._status.emit(f"cannot read the fleet's records: {error}")
            self._stop.wait(POLL_SECONDS)

    def _look(self, registry: Registry) -> tuple[Sighting, ...]:
        with self._lock:
            known = set(self._labels) | self._listed  # sent from here, or listed already
        now = time.time()
        shown = [
            run for run in registry.runs() if run.state is not RunState.ENDED or run.run_id in known
        ]
        self._listed.update(run.run_id for run in shown)
        running = [run.run_id for run in shown if run.state is RunState.RUNNING]
        framed = running + [
            run.run_id
            for run in shown
            if run.finished_at is not None and now - run.finished_at < LAST_FRAME_SECONDS
        ]
        states = read_states(registry, running + framed)
        frames = read_frames(registry, {run_id: self._frames.get(run_id, 0.0) for run_id in framed})
        sightings = []
        for run in shown:
            frame = frames.get(run.run_id)
            picture = None
            if frame is not None:
                self._frames[run.run_id] = frame.at
                picture = QImage.fromData(frame.jpeg)  # (its format is in its bytes)
                picture = None if picture.isNull() else picture
            sightings.append(
                Sighting(run, states.get(run.run_id), picture, frame.screen if frame else None)
            )
        return tuple(sightings)

    # --- on the GUI thread

    def _set_problem(self, problem: str) -> None:
        if problem != self.problem:
            self.problem = problem
            self.status_changed.emit()

    def _saw(self, sightings: tuple[Sighting, ...]) -> None:
        for sighting in sightings:
            run_id = sighting.record.run_id
            employee = self.employees.get(run_id)
            if run_id in self._closed:
                continue
            if employee is None:
                with self._lock:
                    label = self._labels.get(run_id, sighting.record.task)
                employee = FleetEmployee(next(self._numbers), label, sighting.record, self)
                employee.ended.connect(self._ender(employee))
                self.employees[run_id] = employee
                self.hired.emit(employee)
            employee.see(sighting)

    def _not_stopped(self, run_id: str, why: str) -> None:
        employee = self.employees.get(run_id)
        if employee is not None:
            employee.stopping, employee.note = False, why
            employee.changed.emit()

    def _ender(self, employee: FleetEmployee) -> Callable[[], None]:
        return lambda: self.employee_ended.emit(employee)

    def forget(self, employee: FleetEmployee) -> None:
        """Its card was closed: the run is listed no more."""
        self._closed.add(employee.run_id)
        self.employees.pop(employee.run_id, None)
