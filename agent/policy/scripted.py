"""The scripted policy: a task file's steps, in order, one per loop step.

`script_of` turns the task file's steps into what this policy runs: actions as they are,
`wait_for` into a wait until a condition holds, clicks and drags on things named by what they
are into steps that find them when they run, `ai:` into a sub-goal. A sub-goal hands control to
a model policy until the model says it is done; then the script goes on. A model that fails
ends the run, as a failed step does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.actions import Action, Click, Done, Drag, Fail, MouseButton
from agent.desktop.screen import Screen
from agent.errors import DesktopError, UnsupportedError
from agent.geometry import Point
from agent.perception.conditions import Condition, ConditionTimeout, wait_for
from agent.perception.locator import Locator, Target
from agent.policy.protocol import Decision, Observation, Policy, StepRecord
from agent.stop import StopToken
from agent.taskfile.items import (
    AiStep,
    ClickStep,
    DoubleClickStep,
    DragStep,
    Step,
    WaitForStep,
    step_to_action,
)


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """A scripted wait for a condition (`wait_for:` in a task file's steps)."""

    condition: Condition
    timeout: float


@dataclass(frozen=True, slots=True)
class SubGoal:
    """A sub-goal for a model inside a script (`ai:` in a task file's steps)."""

    goal: str


@dataclass(frozen=True, slots=True)
class ClickOn:
    """A click on a thing found on the screen when the step runs (`click: {text: Save}`)."""

    target: Target
    button: MouseButton = "left"
    count: int = 1
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class DragBetween:
    """A drag from the start of one thing to the end of another (`drag: {from: .., to: ..}`):
    from the left edge of the first to the right edge of the second, as text is selected."""

    start: Target
    end: Target
    button: MouseButton = "left"
    timeout: float = 5.0


ScriptedStep = Action | WaitUntil | SubGoal | ClickOn | DragBetween
PolicyForGoal = Callable[[str], Policy]


def script_of(steps: Sequence[Step], locator: Locator | None = None) -> list[ScriptedStep]:
    """A task file's steps as the scripted policy runs them; things named by what they are
    are found with `locator` when their step runs."""
    script: list[ScriptedStep] = []
    for number, step in enumerate(steps, start=1):
        match step:
            case AiStep(ai=goal):
                script.append(SubGoal(goal))
            case WaitForStep(wait_for=spec):
                script.append(WaitUntil(spec.condition(locator), spec.timeout))
            case ClickStep(click=spec) | DoubleClickStep(double_click=spec) if (
                step_to_action(step) is None
            ):
                script.append(ClickOn(spec.target(), spec.button, spec.count, spec.timeout))
            case DragStep(drag=drag) if drag.start and drag.end:
                script.append(
                    DragBetween(drag.start.target(), drag.end.target(), drag.button, drag.timeout)
                )
            case _:
                action = step_to_action(step)
                if action is None:
                    raise UnsupportedError(f"step {number} ({type(step).__name__}) cannot be run")
                script.append(action)
    return script


def needs_a_model(script: Sequence[ScriptedStep]) -> bool:
    """Whether a script hands work to a model: it has no steps (a goal alone) or sub-goals."""
    return not script or any(isinstance(step, SubGoal) for step in script)


class ScriptedPolicy:
    name = "scripted"

    def __init__(
        self,
        steps: Sequence[ScriptedStep],
        stop: StopToken,
        screen: Screen | None = None,
        model_for: PolicyForGoal | None = None,
        locator: Locator | None = None,
    ) -> None:
        self._locator = locator
        if model_for is None and any(isinstance(step, SubGoal) for step in steps):
            raise UnsupportedError("`ai:` steps need a model policy: choose one with --policy")
        self._steps = list(steps)
        self._next = 0
        self._stop = stop
        self._screen = screen
        self._model_for = model_for
        self._model: Policy | None = None
        self._model_since = 0  # index in the history where the current ai step began

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        if self._model is not None:
            return self._delegate(observation, history)
        if history and history[-1].error:
            # A script cannot adapt: the first action that fails ends it.
            return Decision((Fail(f"scripted step {self._next} failed: {history[-1].error}"),))
        if self._next >= len(self._steps):
            return Decision((Done(f"all {len(self._steps)} scripted steps done"),))
        step = self._steps[self._next]
        self._next += 1
        match step:
            case WaitUntil(condition=condition, timeout=timeout):
                try:
                    waited = wait_for(condition, timeout, self._stop, self._screen)
                except ConditionTimeout as timed_out:
                    return Decision((Fail(str(timed_out)),), thought=f"step {self._next}: wait_for")
                return Decision(
                    (), thought=f"step {self._next}: {condition.describe()} after {waited:.2f}s"
                )
            case ClickOn(target=target, button=button, count=count, timeout=timeout):
                thought = f"step {self._next}: click on {target.describe()}"
                if self._locator is None:
                    return Decision((Fail("finding things on the screen is not available"),))
                try:
                    found = self._locator.locate(target, timeout, self._stop)
                except DesktopError as missing:
                    return Decision((Fail(f"step {self._next}: {missing}"),), thought=thought)
                centre = found.box.center
                click = Click(centre.x, centre.y, button=button, count=count)
                return Decision((click,), thought=f"{thought}: {found.describe()}")
            case DragBetween(start=start, end=end, button=button, timeout=timeout):
                thought = f"step {self._next}: drag from {start.describe()} to {end.describe()}"
                if self._locator is None:
                    return Decision((Fail("finding things on the screen is not available"),))
                try:
                    first = self._locator.locate(start, timeout, self._stop).box
                    last = self._locator.locate(end, timeout, self._stop).box
                except DesktopError as missing:
                    return Decision((Fail(f"step {self._next}: {missing}"),), thought=thought)
                path = (
                    Point(first.left + 1, first.center.y),
                    Point(last.left + last.width - 1, last.center.y),
                )
                return Decision((Drag(path, button=button),), thought=thought)
            case SubGoal(goal=goal):
                assert self._model_for is not None
                self._model = self._model_for(goal)
                self._model_since = len(history)
                return self._delegate(observation, history)
        return Decision((step,), thought=f"step {self._next} of {len(self._steps)}")

    def _delegate(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        assert self._model is not None
        decision = self._model.decide(observation, history[self._model_since :])
        for index, action in enumerate(decision.actions):
            if isinstance(action, Done):
                # The sub-goal is reached: what came before Done runs, then the script goes on.
                self._model = None
                thought = f"ai step {self._next} done: {action.summary}. {decision.thought}"
                return Decision(
                    decision.actions[:index], thought.strip(), decision.usage, decision.raw_reply
                )
        return decision
