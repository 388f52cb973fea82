"""The runner: observe, decide, act, settle, until done, failed, stopped or out of budget."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from agent.actions import AskBoss, Done, Fail, describe_action
from agent.desktop.protocol import Desktop
from agent.desktop.settle import SettlePolicy, fingerprint, wait_until_settled
from agent.errors import ActionError, BudgetExceeded, DesktopError, Stopped
from agent.events import (
    ActionExecuted,
    ActionFailed,
    Decided,
    EventBus,
    Observed,
    StepStarted,
)
from agent.policy.protocol import Observation, Policy, StepRecord
from agent.stop import StopToken


@dataclass(frozen=True, slots=True)
class Budget:
    max_steps: int = 50
    max_seconds: float = 600.0


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Literal["done", "failed", "stopped", "budget"]
    reason: str
    steps: int


class Runner:
    """Runs one policy on one desktop. Every step is announced on the bus."""

    def __init__(
        self,
        desktop: Desktop,
        policy: Policy,
        bus: EventBus,
        stop: StopToken,
        *,
        budget: Budget = Budget(),
        settle: SettlePolicy = SettlePolicy(),
        max_consecutive_failures: int = 3,
    ) -> None:
        self.desktop = desktop
        self.policy = policy
        self.bus = bus
        self.stop = stop
        self.budget = budget
        self.settle = settle
        self.max_consecutive_failures = max_consecutive_failures
        self.history: list[StepRecord] = []

    def run(self) -> Outcome:
        started = time.monotonic()
        step = 0
        failures = 0
        try:
            while True:
                self.stop.wait_while_paused()
                if step >= self.budget.max_steps:
                    raise BudgetExceeded(f"step budget of {self.budget.max_steps} used up")
                if time.monotonic() - started > self.budget.max_seconds:
                    raise BudgetExceeded(f"time budget of {self.budget.max_seconds:g}s used up")
                step += 1
                final, error = self._step(step)
                if final is not None:
                    return final
                failures = failures + 1 if error else 0
                if failures >= self.max_consecutive_failures:
                    return Outcome("failed", f"{failures} failed actions in a row: {error}", step)
        except Stopped as stopped:
            return Outcome("stopped", str(stopped) or "stopped", step)
        except BudgetExceeded as exceeded:
            return Outcome("budget", str(exceeded), step)
        finally:
            self.desktop.release_held_keys()

    def _step(self, step: int) -> tuple[Outcome | None, str | None]:
        """One step; returns a final outcome, or the error of a failed action (fed back)."""
        self.bus.emit(StepStarted(step))
        before = time.monotonic()
        frame = self.desktop.capture()
        self.bus.emit(Observed(step, frame, frame.captured_at - before))
        before = time.monotonic()
        decision = self.policy.decide(
            Observation(step, frame, self.desktop.size), tuple(self.history)
        )
        self.bus.emit(Decided(step, decision.actions, decision.thought, time.monotonic() - before))
        reference = fingerprint(frame)
        for action in decision.actions:
            match action:
                case Done(summary=summary):
                    return Outcome("done", summary or "done", step), None
                case Fail(reason=reason):
                    return Outcome("failed", reason, step), None
                case AskBoss(question=question):
                    # No boss is watching a headless run: asking means it cannot go on alone.
                    return Outcome("failed", f"needs the boss: {question}", step), None
            self.stop.wait_while_paused()
            before = time.monotonic()
            try:
                self.desktop.execute(action, self.stop)
            except (ActionError, DesktopError) as problem:
                message = f"{describe_action(action)}: {problem}"
                self.bus.emit(ActionFailed(step, action, message))
                self.history.append(StepRecord(step, decision.actions, decision.thought, message))
                return None, message
            acted = time.monotonic() - before
            settled = wait_until_settled(self.desktop.capture, reference, self.stop, self.settle)
            self.bus.emit(
                ActionExecuted(
                    step, action, acted, settled.seconds, settled.settled, settled.changed
                )
            )
            reference = fingerprint(self.desktop.capture())
        self.history.append(StepRecord(step, decision.actions, decision.thought))
        return None, None
