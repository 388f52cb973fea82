"""The scripted policy: a task file's steps, in order, one per loop step; no model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.actions import Action, Done, Fail
from agent.conditions import Condition, ConditionTimeout, wait_for
from agent.policy.protocol import Decision, Observation, StepRecord
from agent.stop import StopToken


@dataclass(frozen=True, slots=True)
class WaitStep:
    """A scripted wait for a condition (`wait_for:` in a task file's steps)."""

    condition: Condition
    timeout: float


ScriptedStep = Action | WaitStep


class ScriptedPolicy:
    name = "scripted"

    def __init__(
        self, steps: Sequence[ScriptedStep], stop: StopToken, display: str | None = None
    ) -> None:
        self._steps = list(steps)
        self._next = 0
        self._stop = stop
        self._display = display

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        if history and history[-1].error:
            # A script cannot adapt: the first action that fails ends it.
            return Decision((Fail(f"scripted step {self._next} failed: {history[-1].error}"),))
        if self._next >= len(self._steps):
            return Decision((Done(f"all {len(self._steps)} scripted steps done"),))
        step = self._steps[self._next]
        self._next += 1
        if isinstance(step, WaitStep):
            try:
                waited = wait_for(step.condition, step.timeout, self._stop, self._display)
            except ConditionTimeout as timeout:
                return Decision((Fail(str(timeout)),), thought=f"step {self._next}: wait_for")
            return Decision(
                (), thought=f"step {self._next}: {step.condition.describe()} after {waited:.2f}s"
            )
        return Decision((step,), thought=f"step {self._next} of {len(self._steps)}")
