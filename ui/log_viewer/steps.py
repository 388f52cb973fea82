"""A run's steps, folded from its events one at a time (so a live run can keep adding).

No Qt here: the table model in `step_model` shows what this builds. The step model is built
from events only; frames are named, never opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.actions import describe_action, parse_action
from agent.errors import ActionError

OK = "ok"
REJECTED = "rejected"
FAILED = "failed"
PENDING = "pending"
PROBLEMS = frozenset({REJECTED, FAILED})


def describe_logged(action: Mapping[str, Any]) -> str:
    """`click left (400, 300)` for an action as the log holds it; never raises."""
    try:
        return describe_action(parse_action(action))
    except ActionError:
        return f"unreadable action {dict(action)!r}"


@dataclass
class Executed:
    action: dict[str, Any]
    action_seconds: float
    settle_seconds: float


@dataclass
class StepInfo:
    """Everything the log says about one step."""

    number: int
    started_at: float | None = None
    last_at: float | None = None
    frame: str | None = None  # relative to the run folder
    capture_seconds: float | None = None
    decide_seconds: float | None = None
    thought: str = ""
    raw_reply: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    actions: list[dict[str, Any]] = field(default_factory=list)
    executed: list[Executed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)
    decided: bool = False
    rejected: bool = False
    failed: bool = False

    @property
    def status(self) -> str:
        if self.failed:
            return FAILED
        if self.rejected:
            return REJECTED
        return OK if self.decided else PENDING

    @property
    def is_problem(self) -> bool:
        return self.status in PROBLEMS

    @property
    def action_lines(self) -> list[str]:
        if self.rejected and not self.actions:
            return [f"unusable reply: {self.errors[-1]}" if self.errors else "unusable reply"]
        if not self.decided:
            return ["…"]
        return [describe_logged(action) for action in self.actions] or ["(no action)"]

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.last_at is None:
            return None
        return max(0.0, self.last_at - self.started_at)

    @property
    def action_seconds(self) -> float:
        return sum(item.action_seconds for item in self.executed)

    @property
    def settle_seconds(self) -> float:
        return sum(item.settle_seconds for item in self.executed)


@dataclass
class RunProgress:
    """The run-wide facts the events carry: how it started and how it ended."""

    started: dict[str, Any] | None = None
    finished: dict[str, Any] | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)


class StepFolder:
    """Folds events into `steps` (in step order) and `progress`."""

    def __init__(self) -> None:
        self.steps: list[StepInfo] = []
        self.progress = RunProgress()
        self._by_number: dict[int, int] = {}

    def feed(self, events: Iterable[Mapping[str, Any]]) -> tuple[int, set[int]]:
        """Take new events; returns (how many steps were added, rows of older steps changed)."""
        before = len(self.steps)
        changed: set[int] = set()
        for event in events:
            row = self._apply(event)
            if row is not None and row < before:
                changed.add(row)
        return len(self.steps) - before, changed

    def _step(self, number: int) -> tuple[int, StepInfo]:
        row = self._by_number.get(number)
        if row is None:
            row = len(self.steps)
            self._by_number[number] = row
            self.steps.append(StepInfo(number))
        return row, self.steps[row]

    def _apply(self, event: Mapping[str, Any]) -> int | None:
        kind = event.get("kind")
        at = event.get("at")
        if kind == "run_started":
            self.progress.started = dict(event)
        elif kind == "run_finished":
            self.progress.finished = dict(event)
        elif kind == "check_evaluated":
            self.progress.checks.append(dict(event))
        elif kind == "model_retried" and self.steps:
            self.steps[-1].retries.append(str(event.get("reason", "")))
            return len(self.steps) - 1
        number = event.get("step")
        if not isinstance(number, int):
            return None
        row, step = self._step(number)
        if isinstance(at, int | float):
            step.last_at = at
            if step.started_at is None:
                step.started_at = at
        _fill(step, kind, event)
        return row


def _fill(step: StepInfo, kind: Any, event: Mapping[str, Any]) -> None:
    match kind:
        case "observed":
            frame = event.get("frame")
            step.frame = frame if isinstance(frame, str) else None
            step.capture_seconds = _number(event.get("capture_seconds"))
        case "decided":
            step.decided = True
            actions = event.get("actions")
            step.actions = [a for a in actions if isinstance(a, dict)] if actions else []
            step.thought = str(event.get("thought") or "")
            step.raw_reply = str(event.get("raw_reply") or "")
            step.decide_seconds = _number(event.get("decide_seconds"))
            step.input_tokens = int(event.get("input_tokens") or 0)
            step.output_tokens = int(event.get("output_tokens") or 0)
            step.cost_usd = float(event.get("cost_usd") or 0.0)
        case "reply_rejected":
            step.rejected = True
            step.errors.append(str(event.get("error", "")))
            step.decide_seconds = _number(event.get("decide_seconds"))
        case "action_executed":
            action = event.get("action")
            step.executed.append(
                Executed(
                    dict(action) if isinstance(action, dict) else {},
                    _number(event.get("action_seconds")) or 0.0,
                    _number(event.get("settle_seconds")) or 0.0,
                )
            )
        case "action_failed":
            step.failed = True
            step.errors.append(str(event.get("error", "")))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
