"""A run as the report shows it: its facts and steps, folded from the run's record
(agent/record/steps.py), and its frames as they are embedded (agent/report/writer.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.geometry import Size
from agent.record.events import CheckEvaluated, RepairProposed, SetupDone
from agent.record.log import RunRecord
from agent.record.status import RunStatus
from agent.record.steps import StepFolder, StepInfo


@dataclass(frozen=True, slots=True)
class Picture:
    """A frame as embedded in the page."""

    data_uri: str
    width: int
    height: int


@dataclass
class ReportedRun:
    """A run as the report shows it."""

    run_id: str
    task: str
    goal: str
    status: RunStatus
    reason: str
    policy: str
    screen: Size | None
    started_at: float | None
    seconds: float | None
    steps_count: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    checks: list[CheckEvaluated]
    setup: list[SetupDone]
    steps: list[StepInfo]
    failing_step: int | None
    notes_before_steps: list[str] = field(default_factory=list)
    deciders: str | None = None  # `3 script, 2 healed, 2 model`; None: the log does not say
    repairs: list[RepairProposed] = field(default_factory=list)  # files `--heal` proposed


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def failing_step(steps: list[StepInfo], status: RunStatus) -> int | None:
    """The step where the run went wrong: the first failed action or rejected reply, or the
    last step of a run that did not succeed."""
    for step in steps:
        if step.failed or step.rejected:
            return step.number
    if status is not RunStatus.SUCCESS and steps:
        return steps[-1].number
    return None


def run_view(record: RunRecord) -> ReportedRun:
    folder = StepFolder.of(record.events)
    started = folder.progress.started
    finished = folder.progress.finished
    totals = folder.totals
    # summary.json is the run's own account of its end (rounded as it was written); the
    # events are what is left of a run that did not finish.
    summary = record.summary or {}
    steps = folder.in_number_order()
    screen = started.screen if started else None
    if screen is not None and (screen.width <= 0 or screen.height <= 0):
        screen = None
    status = record.status
    if status is RunStatus.INCOMPLETE:
        reason = "the run did not finish (no summary.json): it crashed, or is still running"
    else:
        reason = str(summary.get("reason") or (finished.reason if finished else ""))
    task, goal, policy = (
        (started.task_name, started.goal, started.policy) if started else ("", None, "")
    )
    seconds = summary.get("seconds", totals.seconds)
    return ReportedRun(
        run_id=record.run_id,
        task=task or str(record.header.get("task") or record.run_id),
        goal=goal or str(summary.get("goal") or ""),
        status=status,
        reason=reason,
        policy=policy or str(summary.get("policy") or ""),
        screen=screen,
        started_at=_number((started.at if started else None) or summary.get("started_at"), 0.0)
        or None,
        seconds=_number(seconds, 0.0) if seconds is not None else None,
        steps_count=int(_number(summary.get("steps"), totals.steps)),
        input_tokens=int(_number(summary.get("input_tokens"), totals.input_tokens)),
        output_tokens=int(_number(summary.get("output_tokens"), totals.output_tokens)),
        cost_usd=_number(summary.get("cost_usd"), totals.cost_usd),
        checks=folder.progress.checks,
        setup=folder.progress.setup,
        steps=steps,
        failing_step=failing_step(steps, status),
        notes_before_steps=folder.progress.notes_before_steps,
        deciders=folder.deciders,
        repairs=folder.progress.repairs,
    )
