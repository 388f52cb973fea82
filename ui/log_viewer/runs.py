"""One line per run folder for the runs list: read from summary.json when the run finished,
else from its events (a run still going, or one that crashed). No Qt here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.record.codec import is_header, json_object
from agent.record.log import read_run, summary_status
from agent.record.status import RunStatus
from agent.record.steps import StepFolder


@dataclass(frozen=True)
class RunRow:
    folder: Path
    task: str
    status: RunStatus
    started_at: float | None
    seconds: float | None
    steps: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    reason: str = ""

    @property
    def run_id(self) -> str:
        return self.folder.name

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def finished(self) -> bool:
        return self.status is not RunStatus.INCOMPLETE


def read_row(folder: Path) -> RunRow:
    """The runs-list line of one run folder."""
    summary = _summary(folder)
    if summary is not None and "status" in summary:
        header = _header(folder)
        return RunRow(
            folder=folder,
            task=str(summary.get("task") or header.get("task") or folder.name),
            status=summary_status(summary),
            started_at=_float(summary.get("started_at")),
            seconds=_float(summary.get("seconds")),
            steps=int(summary.get("steps") or 0),
            input_tokens=int(summary.get("input_tokens") or 0),
            output_tokens=int(summary.get("output_tokens") or 0),
            cost_usd=float(summary.get("cost_usd") or 0.0),
            reason=str(summary.get("reason") or ""),
        )
    record = read_run(folder)
    fold = StepFolder.of(record.events)
    totals = fold.totals
    return RunRow(
        folder=folder,
        task=str(record.header.get("task") or folder.name),
        status=record.status,
        started_at=fold.progress.first_at,
        seconds=totals.seconds,
        steps=totals.steps,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        cost_usd=totals.cost_usd,
        reason="the log ends here: still running, or it crashed",
    )


def run_folders(runs_dir: Path) -> list[Path]:
    """The run folders below `runs_dir`, newest first (run ids sort by start time)."""
    if not runs_dir.is_dir():
        return []
    return sorted(
        (folder for folder in runs_dir.iterdir() if (folder / "events.jsonl").is_file()),
        reverse=True,
    )


def _summary(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "summary.json").read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _header(folder: Path) -> dict[str, Any]:
    try:
        with open(folder / "events.jsonl", encoding="utf-8") as file:
            data = json_object(file.readline())
    except (OSError, UnicodeDecodeError):
        return {}
    return data if data is not None and is_header(data) else {}


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
