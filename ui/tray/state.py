"""What the tray icon shows: idle, working, paused, needs approval or failed, and why.

Plain Python, driven by the run's events plus the pauses the StopToken gets (the Pause button
or the boss's own hands on the mouse), which are no events of the run.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from agent.record.events import (
    ApprovalAnswered,
    ApprovalRequested,
    Event,
    RunFinished,
    RunStarted,
    StepStarted,
)


class TrayState(enum.Enum):
    IDLE = "idle"
    WORKING = "working"
    PAUSED = "paused"
    NEEDS_APPROVAL = "needs approval"
    FAILED = "failed"


@dataclass
class TrayStatus:
    state: TrayState = TrayState.IDLE
    task_name: str = ""
    step: int = 0
    detail: str = ""  # why paused, what needs approval, how it ended
    _before_pause: TrayState = TrayState.WORKING

    def on_event(self, event: Event) -> None:
        match event:
            case RunStarted(task_name=name):
                self.state, self.task_name, self.step, self.detail = (
                    TrayState.WORKING,
                    name,
                    0,
                    "",
                )
            case StepStarted(step=step):
                self.step = step
            case ApprovalRequested(reason=reason):
                self.state, self.detail = TrayState.NEEDS_APPROVAL, reason
            case ApprovalAnswered():
                if self.state is TrayState.NEEDS_APPROVAL:
                    self.state, self.detail = TrayState.WORKING, ""
            case RunFinished(status=status, reason=reason):
                self.state = TrayState.FAILED if status.is_failure else TrayState.IDLE
                self.detail = f"{status}: {reason}"

    def paused(self, reason: str) -> None:
        if self.state in (TrayState.WORKING, TrayState.NEEDS_APPROVAL):
            self._before_pause = self.state
            self.state, self.detail = TrayState.PAUSED, reason

    def resumed(self) -> None:
        if self.state is TrayState.PAUSED:
            self.state, self.detail = self._before_pause, ""

    def task_failed(self, task_name: str, reason: str) -> None:
        """A task that ended without a RunFinished (it could not start, or crashed)."""
        self.state, self.task_name, self.detail = TrayState.FAILED, task_name, reason

    @property
    def tooltip(self) -> str:
        name = f"'{self.task_name}'"
        where = f"step {self.step}" if self.step else "setting up"
        match self.state:
            case TrayState.WORKING:
                return f"Working on {name} — {where}"
            case TrayState.PAUSED:
                return f"Paused: {self.detail} ({name}, {where})"
            case TrayState.NEEDS_APPROVAL:
                return f"Needs you: {name} asks for approval — {self.detail}"
            case TrayState.FAILED:
                return f"Failed: {name} — {self.detail}"
        if self.task_name:
            return f"Idle — last task {name} ended {self.detail}"
        return "Idle — no task yet"
