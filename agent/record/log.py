"""The run log: one private folder per run, written as the run goes, readable after a crash.

    runs/<run id>/events.jsonl   header line (schema, version), then one event per line
    runs/<run id>/frames/step-0001.jpg
    runs/<run id>/summary.json   written when the run finishes

Each line is flushed as soon as it is written, so a run killed with SIGKILL reads back up to
its last step; a torn last line is skipped on reading.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from agent.actions import Action, action_to_dict
from agent.desktop.protocol import Frame
from agent.files import write_private_file
from agent.geometry import Point, Size
from agent.perception.encoding import encode_jpeg, frame_to_image
from agent.record.events import CheckEvaluated, Event, Observed, RunFinished, RunStarted

SCHEMA = "shain.runlog"
SCHEMA_VERSION = 1
FRAME_QUALITY = 75


def default_runs_dir() -> Path:
    configured = os.environ.get("SHAIN_RUNS_DIR")
    if configured:
        return Path(configured)
    return Path(platformdirs.user_data_dir("shain")) / "runs"


def to_jsonable(value: Any) -> Any:
    """Events and what they carry -> JSON values. Frames are written as files, not inline."""
    match value:
        case Frame():
            return None
        case Point(x=x, y=y):
            return [x, y]
        case Size(width=width, height=height):
            return {"width": width, "height": height}
        case list() | tuple():
            return [to_jsonable(item) for item in value]
        case dict():
            return {str(key): to_jsonable(item) for key, item in value.items()}
        case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
            if hasattr(value, "kind") and isinstance(value, Action):
                return to_jsonable(action_to_dict(value))
            fields = {
                f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
            }
            kind = getattr(value, "kind", None)
            return {"kind": kind, **fields} if isinstance(kind, str) else fields
        case _:
            return value


def _new_run_id(task_name: str) -> str:
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
        self._write_line({"schema": SCHEMA, "version": SCHEMA_VERSION, **header})

    @classmethod
    def create(cls, runs_dir: Path, task_name: str, header: dict[str, Any]) -> RunLog:
        _private_dir(runs_dir)
        folder = runs_dir / _new_run_id(task_name)
        _private_dir(folder)
        return cls(folder, {"run_id": folder.name, "task": task_name, **header})

    def _write_line(self, data: dict[str, Any]) -> None:
        self._events.write(json.dumps(data, ensure_ascii=False) + "\n")
        self._events.flush()

    def handle(self, event: Event) -> None:
        data = to_jsonable(event)
        match event:
            case Observed(step=step, frame=frame):
                name = f"frames/step-{step:04d}.jpg"
                (self.folder / name).write_bytes(encode_jpeg(frame_to_image(frame), FRAME_QUALITY))
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
                status=event.status,
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
        summary = json.dumps(self._summary, ensure_ascii=False, indent=2)
        write_private_file(self.folder / "summary.json", summary)

    def close(self) -> None:
        self._events.close()


@dataclass(frozen=True)
class RunRecord:
    """A run as read back from its folder."""

    folder: Path
    header: dict[str, Any]
    events: list[dict[str, Any]]
    summary: dict[str, Any] | None

    @property
    def run_id(self) -> str:
        return self.folder.name

    @property
    def status(self) -> str:
        return str(self.summary["status"]) if self.summary else "incomplete"

    @property
    def steps_completed(self) -> int:
        return max(
            (e["step"] for e in self.events if e.get("kind") == "action_executed"), default=0
        )

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("kind") == kind]


def read_run(folder: Path) -> RunRecord:
    path = folder / "events.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a run folder (no events.jsonl)")
    lines = path.read_text(encoding="utf-8").splitlines()
    header: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash mid-write
        if index == 0 and data.get("schema") == SCHEMA:
            header = data
        else:
            events.append(data)
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
