"""The console sink: a line per step while a run goes, for people watching a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from agent.actions import describe_action
from agent.record.events import (
    ActionExecuted,
    ActionFailed,
    ApprovalAnswered,
    ApprovalRequested,
    CheckEvaluated,
    Event,
    ModelRetried,
    ReplyRejected,
    RunFinished,
    RunStarted,
    SetupDone,
)


class ConsoleSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def handle(self, event: Event) -> None:
        match event:
            case RunStarted(task_name=name, screen=screen, run_id=run_id):
                self._print(f"run {run_id}: task {name!r} on a {screen} screen")
            case SetupDone(description=description, seconds=seconds):
                self._print(f"  setup  {description} ({seconds:.2f}s)")
            case ActionExecuted(step=step, action=action, action_seconds=acted):
                settle = f"settle {event.settle_seconds:.2f}s" + ("" if event.settled else " (!)")
                self._print(
                    f"  step {step:>3}  {describe_action(action):<48} {acted:.3f}s, {settle}"
                )
            case ActionFailed(step=step, error=error):
                self._print(f"  step {step:>3}  FAILED {error}")
            case ReplyRejected(step=step, error=error):
                self._print(f"  step {step:>3}  unusable model reply: {error}")
            case ModelRetried(attempt=attempt, reason=reason, wait_seconds=wait):
                self._print(f"  model  retry {attempt} in {wait:.1f}s: {reason}")
            case ApprovalRequested(reason=reason):
                self._print(f"  needs approval: {reason}")
            case ApprovalAnswered(approved=approved, by=by):
                self._print(f"  {'approved' if approved else 'denied'} by the {by}")
            case CheckEvaluated(description=description, passed=passed, detail=detail):
                mark = "ok  " if passed else "FAIL"
                self._print(f"  check {mark} {description}" + (f": {detail}" if detail else ""))
            case RunFinished():
                pass  # the command prints the one-line summary itself
