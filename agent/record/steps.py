"""A run's steps, folded from its events one at a time (so a live run can keep adding).

The one fold of a run's events: the log viewer's timeline, the HTML report, the trajectory
export and the tray's progress window all show what `StepFolder` builds, from events read back
from a run log (agent/record/codec.py) or live from the bus. Frames are named, never opened;
no Qt here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.record.deciders import Decider, count_deciders
from agent.record.describe import Note, describe_logged, describe_note
from agent.record.events import (
    ActionExecuted,
    ActionFailed,
    ActionRejected,
    ApprovalAnswered,
    ApprovalRequested,
    CheckEvaluated,
    Decided,
    HandedBack,
    LoggedAction,
    LoggedEvent,
    ModelRetried,
    Observed,
    Paused,
    QuestionAnswered,
    QuestionAsked,
    RepairProposed,
    ReplyRejected,
    Resumed,
    RunFinished,
    RunStarted,
    SetupDone,
    StepStarted,
    TakenOver,
    UnknownEvent,
)

OK = "ok"
REJECTED = "rejected"
FAILED = "failed"
PENDING = "pending"
PROBLEMS = frozenset({REJECTED, FAILED})


@dataclass
class ActionOutcome:
    """One action as it went: executed (`ok`), or failed with `error`."""

    action: LoggedAction
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
    by: Decider | None = None  # who decided (None: not decided, or a log that does not say)
    actions: list[LoggedAction] = field(default_factory=list)  # as decided
    outcomes: list[ActionOutcome] = field(default_factory=list)  # in the order they happened
    rejections: list[str] = field(default_factory=list)  # why model replies were unusable
    refusals: list[ActionRejected] = field(default_factory=list)  # actions the guard refused
    note_events: list[Note] = field(default_factory=list)  # retries and approvals
    decided: bool = False
    over: bool = False  # a later step started, or the run finished

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
        """Whether a model reply was unusable in this step."""
        return bool(self.rejections)

    @property
    def denials(self) -> list[ApprovalRequested]:
        """The approvals asked for in this step and not given."""
        denied: list[ApprovalRequested] = []
        asked: ApprovalRequested | None = None
        for note in self.note_events:
            match note:
                case ApprovalRequested():
                    asked = note
                case ApprovalAnswered(approved=False) if asked is not None:
                    denied.append(asked)
                    asked = None
                case ApprovalAnswered():
                    asked = None
        return denied

    @property
    def refused(self) -> bool:
        """Whether the guard refused one of this step's actions, or the boss did not approve."""
        return bool(self.refusals or self.denials)

    @property
    def errors(self) -> list[str]:
        """What went wrong: rejected replies, failed actions, then refused ones."""
        refused = [
            f"{describe_logged(refusal.action)} refused: {refusal.reason}"
            for refusal in self.refusals
        ]
        denied = [f"not approved: {request.reason}" for request in self.denials]
        return self.rejections + [outcome.error for outcome in self.failures] + refused + denied

    @property
    def retries(self) -> list[str]:
        """The reasons the model was asked again during this step."""
        return [note.reason for note in self.note_events if isinstance(note, ModelRetried)]

    @property
    def notes(self) -> list[str]:
        return [describe_note(note) for note in self.note_events]

    @property
    def status(self) -> str:
        if self.failed:
            return FAILED
        if self.rejected or self.refused:
            return REJECTED
        # Done until each decided action went, or the step is over (done, fail and ask_boss
        # are never executed: they end the run).
        if self.decided and (self.over or len(self.executed) >= len(self.actions)):
            return OK
        return PENDING

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
    def drawn_actions(self) -> list[LoggedAction]:
        """The actions to draw: as decided, or as executed when no decision was logged."""
        if self.actions:
            return self.actions
        return [outcome.action for outcome in self.outcomes]

    @property
    def failed_actions(self) -> list[LoggedAction]:
        return [outcome.action for outcome in self.failures]

    @property
    def seconds(self) -> float | None:
        """Wall time, from the step's start to its last event."""
        if self.started_at is None or self.last_at is None:
            return None
        return max(0.0, self.last_at - self.started_at)

    @property
    def action_seconds(self) -> float:
        return sum(item.action_seconds for item in self.executed)

    @property
    def settle_seconds(self) -> float:
        return sum(item.settle_seconds for item in self.executed)

    @property
    def timings(self) -> tuple[tuple[str, float], ...]:
        """Where the step's time went, as measured by the run."""
        return (
            ("capture", self.capture_seconds or 0.0),
            ("model", self.decide_seconds or 0.0),
            ("action", self.action_seconds),
            ("settle", self.settle_seconds),
        )

    @property
    def measured_seconds(self) -> float:
        """Capture, model, action and settle time added up."""
        return sum(seconds for _, seconds in self.timings)


@dataclass(frozen=True, slots=True)
class RunTotals:
    """What a run used: as its end says, or, before it ends, added up from its steps."""

    steps: int
    seconds: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class RunProgress:
    """The run-wide facts the events carry: how it started and how it ended."""

    started: RunStarted | None = None
    finished: RunFinished | None = None
    checks: list[CheckEvaluated] = field(default_factory=list)
    setup: list[SetupDone] = field(default_factory=list)
    repairs: list[RepairProposed] = field(default_factory=list)  # `--heal`'s proposed files
    note_events: list[Note] = field(default_factory=list)  # before the first step
    first_at: float | None = None  # the first event's time
    last_at: float | None = None  # the latest event's time

    @property
    def notes_before_steps(self) -> list[str]:
        return [describe_note(note) for note in self.note_events]


class StepFolder:
    """Folds events into `steps` (in the order they first appear: step order) and `progress`."""

    def __init__(self) -> None:
        self.steps: list[StepInfo] = []
        self.progress = RunProgress()
        self._by_number: dict[int, int] = {}
        self._current: int | None = None  # row of the step last started

    @classmethod
    def of(cls, events: Iterable[LoggedEvent]) -> StepFolder:
        """A folder that has taken all of `events`."""
        folder = cls()
        folder.feed(events)
        return folder

    def in_number_order(self) -> list[StepInfo]:
        return sorted(self.steps, key=lambda step: step.number)

    @property
    def deciders(self) -> str | None:
        """How the steps were decided: `3 script, 2 healed, 2 model` (None: the log does not
        say)."""
        return count_deciders(step.by for step in self.steps)

    @property
    def totals(self) -> RunTotals:
        finished = self.progress.finished
        if finished is not None:
            return RunTotals(
                finished.steps,
                finished.seconds,
                finished.input_tokens,
                finished.output_tokens,
                finished.cost_usd,
            )
        first, last = self.progress.first_at, self.progress.last_at
        return RunTotals(
            len(self.steps),
            last - first if first is not None and last is not None else None,
            sum(step.input_tokens for step in self.steps),
            sum(step.output_tokens for step in self.steps),
            sum(step.cost_usd for step in self.steps),
        )

    def feed(self, events: Iterable[LoggedEvent]) -> tuple[int, set[int]]:
        """Take new events; returns (how many steps were added, rows of older steps changed)."""
        before = len(self.steps)
        changed: set[int] = set()
        for event in events:
            changed.update(row for row in self._apply(event) if row < before)
        return len(self.steps) - before, changed

    def _step(self, number: int) -> tuple[int, StepInfo]:
        row = self._by_number.get(number)
        if row is None:
            row = len(self.steps)
            self._by_number[number] = row
            self.steps.append(StepInfo(number))
        return row, self.steps[row]

    def _apply(self, event: LoggedEvent) -> set[int]:
        """Fold one event in; returns the rows it changed."""
        if isinstance(event, UnknownEvent):
            return set()  # nothing this version can show
        progress = self.progress
        if progress.first_at is None:
            progress.first_at = event.at
        progress.last_at = max(progress.last_at or event.at, event.at)
        match event:
            case RunStarted():
                progress.started = event
            case RunFinished():
                progress.finished = event
                for step in self.steps:
                    step.over = True
                return set(range(len(self.steps)))
            case CheckEvaluated():
                progress.checks.append(event)
            case SetupDone():
                progress.setup.append(event)
            case RepairProposed():
                progress.repairs.append(event)
            case (
                ModelRetried()
                | ApprovalAnswered()
                | ApprovalRequested(step=None)
                | QuestionAsked()
                | QuestionAnswered()
                | Paused()
                | Resumed()
                | TakenOver()
                | HandedBack()
            ):
                # Not a step's own event: a note on the step that is going on, if any.
                if self._current is None:
                    progress.note_events.append(event)
                    return set()
                self.steps[self._current].note_events.append(event)
                return {self._current}
            case (
                StepStarted()
                | Observed()
                | Decided()
                | ReplyRejected()
                | ApprovalRequested()
                | ActionRejected()
                | ActionExecuted()
                | ActionFailed()
            ):
                return self._apply_to_step(event)
        return set()

    def _apply_to_step(
        self,
        event: StepStarted
        | Observed
        | Decided
        | ReplyRejected
        | ApprovalRequested
        | ActionRejected
        | ActionExecuted
        | ActionFailed,
    ) -> set[int]:
        assert event.step is not None  # an approval without one is a note (see _apply)
        row, step = self._step(event.step)
        step.last_at = event.at
        changed = {row}
        match event:
            case StepStarted(at=at):
                step.started_at = at
                if self._current is not None and self._current != row:
                    self.steps[self._current].over = True
                    changed.add(self._current)
                self._current = row
            case Observed(frame_file=frame_file, capture_seconds=seconds):
                step.frame = frame_file
                step.capture_seconds = seconds
            case Decided():
                step.decided = True
                step.actions = list(event.actions)
                step.thought = event.thought
                step.raw_reply = event.raw_reply
                step.by = event.by
                step.decide_seconds = event.decide_seconds
                step.input_tokens += event.input_tokens
                step.output_tokens += event.output_tokens
                step.cost_usd += event.cost_usd
            case ReplyRejected(error=error, decide_seconds=seconds):
                step.rejections.append(error)
                step.decide_seconds = seconds
            case ApprovalRequested():
                step.note_events.append(event)
            case ActionRejected():
                step.refusals.append(event)
            case ActionExecuted(action=action):
                step.outcomes.append(
                    ActionOutcome(
                        action,
                        ok=True,
                        action_seconds=event.action_seconds,
                        settle_seconds=event.settle_seconds,
                        settled=event.settled,
                        screen_changed=event.screen_changed,
                    )
                )
            case ActionFailed(action=action, error=error):
                step.outcomes.append(ActionOutcome(action, ok=False, error=error))
        if step.started_at is None:
            step.started_at = event.at
        return changed
