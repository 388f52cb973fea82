"""A run's steps, folded from its events one at a time (so a live run can keep adding).

The one place that reads a run's events (agent/record/log.py) as steps: the log viewer's timeline,
the HTML report and the trajectory export all show what `StepFolder` builds. Frames are named,
never opened; no Qt here.
"""

from __future__ import annotations

import json
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

# Events that are not a step's own but happen during one: shown as notes on it.
NOTE_KINDS = frozenset({"model_retried", "approval_requested", "approval_answered"})


def describe_logged(action: Mapping[str, Any]) -> str:
    """`click left (400, 300)` for an action as the log holds it; never raises."""
    try:
        return describe_action(parse_action(action))
    except ActionError:
        return "unreadable action " + json.dumps(dict(action), ensure_ascii=False, default=str)


def describe_note(event: Mapping[str, Any]) -> str:
    """A retry or an approval as one line of text."""
    match event.get("kind"):
        case "model_retried":
            wait = _number(event.get("wait_seconds")) or 0.0
            return f"model retried (attempt {event.get('attempt')}, waited {wait:.1f}s): " + str(
                event.get("reason") or ""
            )
        case "approval_requested":
            return f"approval requested: {event.get('reason') or ''}"
        case _:
            answer = "approved" if event.get("approved") else "denied"
            return f"{answer} by {event.get('by') or 'someone'}"


@dataclass
class ActionOutcome:
    """One action as it went: executed (`ok`), or failed with `error`."""

    action: dict[str, Any]
    ok: bool
    action_seconds: float = 0.0
    settle_seconds: float = 0.0
    settled: bool = True
    screen_changed: bool = False
    error: str = ""


@dataclass
class StepInfo:
    """Everything the log says about one step."""

    number: int
    started_at: float | None = None  # the step_started event's time, else its first event's
    last_at: float | None = None
    frame: str | None = None  # relative to the run folder
    capture_seconds: float | None = None
    decide_seconds: float | None = None
    thought: str = ""
    raw_reply: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    actions: list[dict[str, Any]] = field(default_factory=list)  # as decided
    outcomes: list[ActionOutcome] = field(default_factory=list)  # in the order they happened
    rejections: list[str] = field(default_factory=list)  # reply_rejected errors
    note_events: list[dict[str, Any]] = field(default_factory=list)  # retries and approvals
    decided: bool = False

    @property
    def executed(self) -> list[ActionOutcome]:
        return [outcome for outcome in self.outcomes if outcome.ok]

    @property
    def failures(self) -> list[ActionOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    @property
    def failed(self) -> bool:
        return any(not outcome.ok for outcome in self.outcomes)

    @property
    def rejected(self) -> bool:
        return bool(self.rejections)

    @property
    def errors(self) -> list[str]:
        """What went wrong: rejected replies, then failed actions."""
        return self.rejections + [outcome.error for outcome in self.failures]

    @property
    def retries(self) -> list[str]:
        """The reasons the model was asked again during this step."""
        return [
            str(event.get("reason", ""))
            for event in self.note_events
            if event.get("kind") == "model_retried"
        ]

    @property
    def notes(self) -> list[str]:
        return [describe_note(event) for event in self.note_events]

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
    def drawn_actions(self) -> list[dict[str, Any]]:
        """The actions to draw: as decided, or as executed when no decision was logged."""
        if self.actions:
            return self.actions
        return [outcome.action for outcome in self.outcomes if outcome.action]

    @property
    def failed_actions(self) -> list[dict[str, Any]]:
        return [outcome.action for outcome in self.failures]

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
    setup: list[dict[str, Any]] = field(default_factory=list)
    note_events: list[dict[str, Any]] = field(default_factory=list)  # before the first step

    @property
    def notes_before_steps(self) -> list[str]:
        return [describe_note(event) for event in self.note_events]


class StepFolder:
    """Folds events into `steps` (in the order they first appear: step order) and `progress`."""

    def __init__(self) -> None:
        self.steps: list[StepInfo] = []
        self.progress = RunProgress()
        self._by_number: dict[int, int] = {}
        self._current: int | None = None  # row of the step last started

    @classmethod
    def of(cls, events: Iterable[Mapping[str, Any]]) -> StepFolder:
        """A folder that has taken all of `events`."""
        folder = cls()
        folder.feed(events)
        return folder

    def in_number_order(self) -> list[StepInfo]:
        return sorted(self.steps, key=lambda step: step.number)

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
        number = event.get("step")
        match kind:
            case "run_started":
                self.progress.started = dict(event)
            case "run_finished":
                self.progress.finished = dict(event)
            case "check_evaluated":
                self.progress.checks.append(dict(event))
            case "setup_done":
                self.progress.setup.append(dict(event))
        if kind in NOTE_KINDS and not isinstance(number, int):
            if self._current is None:
                self.progress.note_events.append(dict(event))
                return None
            self.steps[self._current].note_events.append(dict(event))
            return self._current
        if not isinstance(number, int):
            return None
        row, step = self._step(number)
        at = _number(event.get("at"))
        if at is not None:
            step.last_at = at
            if step.started_at is None or kind == "step_started":
                step.started_at = at
        if kind == "step_started":
            self._current = row
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
            step.input_tokens += int(_number(event.get("input_tokens")) or 0)
            step.output_tokens += int(_number(event.get("output_tokens")) or 0)
            step.cost_usd += _number(event.get("cost_usd")) or 0.0
        case "reply_rejected":
            step.rejections.append(str(event.get("error") or ""))
            step.decide_seconds = _number(event.get("decide_seconds"))
        case "action_executed":
            step.outcomes.append(
                ActionOutcome(
                    _action(event),
                    ok=True,
                    action_seconds=_number(event.get("action_seconds")) or 0.0,
                    settle_seconds=_number(event.get("settle_seconds")) or 0.0,
                    settled=bool(event.get("settled", True)),
                    screen_changed=bool(event.get("screen_changed")),
                )
            )
        case "action_failed":
            step.outcomes.append(
                ActionOutcome(_action(event), ok=False, error=str(event.get("error") or ""))
            )
        case "model_retried" | "approval_requested" | "approval_answered":
            step.note_events.append(dict(event))


def _action(event: Mapping[str, Any]) -> dict[str, Any]:
    action = event.get("action")
    return dict(action) if isinstance(action, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
