"""What the runner asks the boss: one approval request, and who answers it.

Headless, the task file answers (`approvals:`); with a boss at the screen, a UI passes an
`Approver` to the TaskSession, which calls it on the run's thread and waits for its answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.actions import Action
from agent.desktop.protocol import Frame
from agent.policy.openai_cua import SafetyCheck
from agent.record.events import ApprovalAnswered, ApprovalRequested, Event, Observed


@dataclass(frozen=True)
class ApprovalRequest:
    reason: str  # why it is held: the guard's reason, or the model's safety checks
    step: int | None = None
    action: Action | None = None  # None: the model asked (a safety check), not an action
    frame: Frame | None = None  # the screen as last observed, before the action


# Called on the run's thread; blocks until the boss answers. True: approved.
Approver = Callable[[ApprovalRequest], bool]


class LatestFrame:
    """An event sink that keeps the last observed frame (a reference, never a copy)."""

    def __init__(self) -> None:
        self.frame: Frame | None = None

    def handle(self, event: Event) -> None:
        if isinstance(event, Observed):
            self.frame = event.frame


class ApprovalDesk:
    """Where a run's questions for the boss go: the approver when a boss is there, else the
    task file's `approvals:` answer. Both the question and the answer are logged."""

    def __init__(
        self,
        emit: Callable[[Event], None],
        latest: LatestFrame,
        approver: Approver | None,
        headless_answer: bool,
    ) -> None:
        self._emit = emit
        self._latest = latest
        self._approver = approver
        self._headless_answer = headless_answer

    def ask(self, reason: str, step: int | None = None, action: Action | None = None) -> bool:
        self._emit(ApprovalRequested(reason, step, action))
        if self._approver is not None:
            approved = self._approver(ApprovalRequest(reason, step, action, self._latest.frame))
            by = "boss"
        else:
            approved, by = self._headless_answer, "task file"
        self._emit(ApprovalAnswered(approved, by))
        return approved

    def approve_action(self, step: int, action: Action, reason: str) -> bool:
        """For the runner: the guard held this action."""
        return self.ask(reason, step, action)

    def approve_safety_checks(self, checks: Sequence[SafetyCheck]) -> bool:
        """For a computer-use model: it raised safety checks before going on."""
        reason = "; ".join(f"{check.code}: {check.message}" for check in checks)
        return self.ask(f"the model raised safety checks: {reason}")
