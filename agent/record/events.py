"""What happened during a run, as past-tense frozen dataclasses fanned out to sinks.

Events are notifications, never requests: a sink (the run log, the console, the Qt bridge,
a test) can watch a run but cannot steer it. The bus masks secrets before any sink sees an
event, so no sink can leak one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from agent.actions import Action
from agent.desktop.protocol import Frame
from agent.geometry import Box, Size
from agent.perception.pointed import PointedElement
from agent.record.deciders import Decider
from agent.record.secrets import SecretMasker
from agent.record.status import RunStatus


def _now() -> float:
    return time.time()


@dataclass(frozen=True, slots=True)
class UnreadableAction:
    """An action a run log holds that no longer parses (a kind or field this version does not
    know): kept as logged, so it can still be shown and written back unchanged."""

    data: Any  # the JSON value as logged
    error: str  # why it does not parse


# An action as events carry it: always an Action when emitted; read back, maybe unreadable.
LoggedAction = Action | UnreadableAction


@dataclass(frozen=True, slots=True)
class RunStarted:
    kind: ClassVar[str] = "run_started"
    run_id: str
    task_name: str
    goal: str | None
    policy: str
    screen: Size
    workdir: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class SetupDone:
    kind: ClassVar[str] = "setup_done"
    description: str
    seconds: float
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class StepStarted:
    kind: ClassVar[str] = "step_started"
    step: int
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class Observed:
    kind: ClassVar[str] = "observed"
    step: int
    frame: Frame | None  # the screen when emitted; None when read back from a run log
    capture_seconds: float
    at: float = field(default_factory=_now)
    frame_file: str | None = None  # read back: the frame's file, relative to the run folder


@dataclass(frozen=True, slots=True)
class Decided:
    kind: ClassVar[str] = "decided"
    step: int
    actions: tuple[LoggedAction, ...]
    thought: str
    decide_seconds: float
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    raw_reply: str = ""
    # Who decided: the script, the model standing in for a script step, or the model (see
    # agent/record/deciders.py); None in a log written before this was kept.
    by: Decider | None = None
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ReplyRejected:
    """A model reply that could not be used; it is fed back to the model, never executed."""

    kind: ClassVar[str] = "reply_rejected"
    step: int
    error: str
    decide_seconds: float
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ModelRetried:
    kind: ClassVar[str] = "model_retried"
    attempt: int
    reason: str
    wait_seconds: float
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    kind: ClassVar[str] = "approval_requested"
    reason: str
    step: int | None = None
    action: LoggedAction | None = None  # None: the model asked (a safety check), not an action
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ActionRejected:
    """The guard refused an action; the reason goes back to the model."""

    kind: ClassVar[str] = "action_rejected"
    step: int
    action: LoggedAction
    reason: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ApprovalAnswered:
    kind: ClassVar[str] = "approval_answered"
    approved: bool
    by: str  # "boss", or "task file" in a headless run
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    """The model asked the boss something (`ask_boss`) and waits for the answer."""

    kind: ClassVar[str] = "question_asked"
    step: int
    question: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class QuestionAnswered:
    kind: ClassVar[str] = "question_answered"
    step: int
    answer: str
    by: str  # "boss"
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class Paused:
    """The run holds before its next action: the boss paused it, or took over the screen."""

    kind: ClassVar[str] = "paused"
    reason: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class Resumed:
    kind: ClassVar[str] = "resumed"
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class TakenOver:
    """The boss took over the employee's screen: what happens on it now is the boss's doing."""

    kind: ClassVar[str] = "taken_over"
    by: str  # who holds it: "boss (office)", "boss (shain watch)"
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class HandedBack:
    kind: ClassVar[str] = "handed_back"
    seconds: float  # how long the boss held the screen
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ActionExecuted:
    kind: ClassVar[str] = "action_executed"
    step: int
    action: LoggedAction
    action_seconds: float
    settle_seconds: float
    settled: bool
    screen_changed: bool
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ActionContext:
    """Where the action just executed was made, for `shain learn`: for a click, the window at
    its point and the element under it, looked at before the press; after any action, the
    windows on the screen and the one with the keyboard focus."""

    kind: ClassVar[str] = "action_context"
    step: int
    window: str = ""  # the title of the window at a click's point ("" for none)
    window_box: Box | None = None
    element: PointedElement | None = None
    windows: tuple[str, ...] = ()
    focused: str = ""
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ActionFailed:
    kind: ClassVar[str] = "action_failed"
    step: int
    action: LoggedAction
    error: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class RepairProposed:
    """`--heal`: the model did steps of the script that could not be done as written; a
    repaired task file doing what the model did was written beside the original (which is
    never changed)."""

    kind: ClassVar[str] = "repair_proposed"
    path: str  # the proposed file
    steps: tuple[int, ...]  # the healed steps, by their number in the task file's steps
    diff: str  # unified diff from the original
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class CheckEvaluated:
    kind: ClassVar[str] = "check_evaluated"
    description: str
    passed: bool
    detail: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class RunFinished:
    kind: ClassVar[str] = "run_finished"
    status: RunStatus
    exit_code: int
    reason: str
    steps: int
    seconds: float
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    at: float = field(default_factory=_now)


Event = (
    RunStarted
    | SetupDone
    | StepStarted
    | Observed
    | Decided
    | ReplyRejected
    | ModelRetried
    | ApprovalRequested
    | ApprovalAnswered
    | QuestionAsked
    | QuestionAnswered
    | Paused
    | Resumed
    | TakenOver
    | HandedBack
    | ActionRejected
    | ActionExecuted
    | ActionContext
    | ActionFailed
    | CheckEvaluated
    | RepairProposed
    | RunFinished
)


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """A line of a run log that is no event this version knows: a kind from a newer version,
    or fields that do not fit. Kept as logged, never dropped."""

    kind: str
    data: dict[str, Any]


# An event as read back from a run log.
LoggedEvent = Event | UnknownEvent


class EventSink(Protocol):
    def handle(self, event: Event) -> None: ...


class EventBus:
    """Masks each event once, then hands it to every sink in order.

    Events come from the run's thread, and from a watcher's (the boss pausing or taking over):
    one event at a time reaches the sinks, so a log line is never written into another. A sink
    that fails (a run log on a full disk) does not keep the event from the others (the console,
    a watcher); its error is raised once they all had it.
    """

    def __init__(self, sinks: list[EventSink] | None = None, masker: SecretMasker | None = None):
        self.sinks: list[EventSink] = list(sinks or [])
        self.masker = masker or SecretMasker()
        self._lock = threading.RLock()

    def emit(self, event: Event) -> None:
        masked = self.masker.mask(event)
        failure: Exception | None = None
        with self._lock:
            for sink in self.sinks:
                try:
                    sink.handle(masked)
                except Exception as error:
                    failure = failure or error
        if failure is not None:
            raise failure
