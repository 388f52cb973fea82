"""The run log: one private folder per run, written as the run goes, readable after a crash.

    runs/<run id>/events.jsonl   header line (schema, version), then one event per line
    runs/<run id>/frames/step-0001.jpg
    runs/<run id>/summary.json   written when the run finishes

Each line is flushed as soon as it is written, so a run killed with SIGKILL reads back up to
its last step; a torn last line is skipped on reading.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from agent.desktop.protocol import Frame
from agent.errors import RunLogUnwritable
from agent.files import write_private_file
from agent.perception.encoding import encode_jpeg
from agent.record.codec import (
    SCHEMA,
    SCHEMA_VERSION,
    decode_event,
    encode_event,
    is_header,
    json_object,
)
from agent.record.events import (
    ActionExecuted,
    CheckEvaluated,
    Event,
    LoggedEvent,
    Observed,
    RunFinished,
    RunStarted,
)
from agent.record.status import RunStatus

FRAME_QUALITY = 75
EventType = TypeVar("EventType")


def default_runs_dir() -> Path:
    configured = os.environ.get("SHAIN_RUNS_DIR")
    if configured:
        return Path(configured)
    return Path(platformdirs.user_data_dir("shain")) / "runs"


def new_run_id(task_name: str) -> str:
    """A run id: the start time (so that sorting by name is sorting by start time), the task's
    name, a random tail."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", task_name).strip("-")[:40] or "task"
    now = time.time()
    # Microseconds in the id, so that sorting by name is sorting by start time.
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"{now % 1:.6f}"[1:]
    return f"{stamp}-{slug}-{secrets.token_hex(2)}"


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


class RunLog:
    """An EventSink that writes one run's folder."""

    def __init__(self, folder: Path, header: dict[str, Any]) -> None:
        self.folder = folder
        self.run_id = folder.name
        _private_dir(folder / "frames")
        self._events = open(folder / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._summary: dict[str, Any] = {"run_id": self.run_id, "checks": []}
        self.failure: str | None = None  # why the folder could not be written, once it failed
        self._write_line({"schema": SCHEMA, "version": SCHEMA_VERSION, **header})

    @classmethod
    def create(
        cls, runs_dir: Path, task_name: str, header: dict[str, Any], run_id: str | None = None
    ) -> RunLog:
        """A new run's folder in `runs_dir`, named `run_id` when one was given (the fleet names
        its runs when they are queued); RunLogUnwritable, naming the folder, when it cannot be
        made or written, or is taken: a run that cannot be logged does not start."""
        if run_id is not None and (Path(run_id).name != run_id or run_id.startswith(".")):
            raise RunLogUnwritable(f"{run_id!r} cannot name a run folder")
        try:
            _private_dir(runs_dir)
            folder = runs_dir / (run_id or new_run_id(task_name))
            if run_id is not None and (folder / "events.jsonl").exists():
                raise RunLogUnwritable(f"run {run_id} exists already in {runs_dir}")
            _private_dir(folder)
            return cls(folder, {"run_id": folder.name, "task": task_name, **header})
        except OSError as error:
            raise RunLogUnwritable(
                f"cannot write runs in {runs_dir}: {error.strerror or error}"
            ) from None

    def _write_line(self, data: dict[str, Any]) -> None:
        # After a failed write the last line may be torn: a newline first ends it, so that
        # reading skips it rather than the line that follows.
        torn = "\n" if self.failure is not None else ""
        self._events.write(torn + json.dumps(data, ensure_ascii=False) + "\n")
        self._events.flush()

    def handle(self, event: Event) -> None:
        """Write the event; RunLogUnwritable when it cannot be (the run must stop). Once the
        folder has failed, only the run's ending is still tried, and its failure kept quiet."""
        if self.failure is not None and not isinstance(event, RunFinished):
            raise RunLogUnwritable(self.failure)
        try:
            self._write(event)
        except (OSError, ValueError) as error:  # ValueError: the events file was closed
            if self.failure is not None:
                return  # the ending of a run whose folder had failed already: best effort
            reason = error.strerror if isinstance(error, OSError) else None
            self.failure = f"cannot write the run log in {self.folder}: {reason or error}"
            raise RunLogUnwritable(self.failure) from None

    def _write(self, event: Event) -> None:
        data = encode_event(event)
        match event:
            case Observed(step=step, frame=Frame() as frame):
                name = f"frames/step-{step:04d}.jpg"
                (self.folder / name).write_bytes(encode_jpeg(frame, FRAME_QUALITY))
                data["frame"] = name
            case RunStarted():
                self._summary.update(
                    task=event.task_name,
                    goal=event.goal,
                    policy=event.policy,
                    workdir=event.workdir,
                    started_at=event.at,
                )
            case CheckEvaluated():
                self._summary["checks"].append(
                    {"check": event.description, "passed": event.passed, "detail": event.detail}
                )
        self._write_line(data)
        if isinstance(event, RunFinished):
            self._summary.update(
                status=event.status.value,
                exit_code=event.exit_code,
                reason=event.reason,
                steps=event.steps,
                seconds=round(event.seconds, 3),
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
                cost_usd=round(event.cost_usd, 6),
                finished_at=event.at,
            )
            self._write_summary()

    def _write_summary(self) -> None:
        if not self.folder.is_dir():  # removed under the run: do not make a new, partial one
            raise FileNotFoundError(errno.ENOENT, "the run folder was removed", str(self.folder))
        summary = json.dumps(self._summary, ensure_ascii=False, indent=2)
        write_private_file(self.folder / "summary.json", summary)

    def close(self) -> None:
        # Its last lines may not flush (a full disk): the run has already been told, or its
        # ending was the last line tried; what was written stays readable.
        with contextlib.suppress(OSError):
            self._events.close()


def summary_status(summary: Mapping[str, Any] | None) -> RunStatus:
    """How a run ended, as its summary.json says; without one the log has no end: incomplete.
    A status this version does not know also reads as incomplete: it cannot say more."""
    status = summary.get("status") if summary is not None else None
    try:
        return RunStatus(status) if isinstance(status, str) else RunStatus.INCOMPLETE
    except ValueError:
        return RunStatus.INCOMPLETE


@dataclass(frozen=True)
class RunRecord:
    """A run as read back from its folder: the events are the dataclasses that were written."""

    folder: Path
    header: dict[str, Any]
    events: list[LoggedEvent]
    summary: dict[str, Any] | None

    @property
    def run_id(self) -> str:
        return self.folder.name

    @property
    def status(self) -> RunStatus:
        return summary_status(self.summary)

    @property
    def steps_completed(self) -> int:
        return max((event.step for event in self.events_of(ActionExecuted)), default=0)

    def events_of(self, kind: type[EventType]) -> list[EventType]:
        """The events of one class, in order: `record.events_of(Decided)`."""
        return [event for event in self.events if isinstance(event, kind)]


def read_run(folder: Path) -> RunRecord:
    path = folder / "events.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a run folder (no events.jsonl)")
    header: dict[str, Any] = {}
    events: list[LoggedEvent] = []
    # (A line torn in the middle of a character must not make the whole log unreadable.)
    text = path.read_text(encoding="utf-8", errors="replace")
    for index, line in enumerate(text.splitlines()):
        data = json_object(line)
        if data is None:
            continue  # a line torn by a crash mid-write
        if index == 0 and is_header(data):
            header = data
        else:
            events.append(decode_event(data))
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text("utf-8")) if summary_path.is_file() else None
    return RunRecord(folder, header, events, summary)


def iter_runs(runs_dir: Path) -> Iterator[RunRecord]:
    """Every readable run below `runs_dir`, newest first."""
    if not runs_dir.is_dir():
        return
    for folder in sorted(runs_dir.iterdir(), reverse=True):
        if (folder / "events.jsonl").is_file():
            yield read_run(folder)


def find_run(reference: str, runs_dir: Path) -> Path:
    """A run folder from a path, a run id, a unique prefix of one, or `last`."""
    as_path = Path(reference)
    if (as_path / "events.jsonl").is_file():
        return as_path
    candidates = (
        sorted((f for f in runs_dir.iterdir() if (f / "events.jsonl").is_file()), reverse=True)
        if runs_dir.is_dir()
        else []
    )
    if reference == "last" and candidates:
        return candidates[0]
    matches = [f for f in candidates if f.name.startswith(reference)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FileNotFoundError(f"no run {reference!r} in {runs_dir}")
    raise FileNotFoundError(
        f"{reference!r} matches {len(matches)} runs: " + ", ".join(m.name for m in matches[:5])
    )
