"""What the runner asks the boss: one approval request, and who answers it.

Headless, the task file answers (`approvals:`); with a boss at the screen, a UI passes an
`Approver` to the TaskSession, which calls it on the run's thread and waits for its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.actions import Action
from agent.desktop.protocol import Frame
from agent.record.events import Event, Observed


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
