"""The scripted policy: a task file's steps, in order, one per loop step.

`script_of` turns the task file's steps into what this policy runs: actions as they are,
`wait_for` into a wait until a condition holds, clicks and drags on things named by what they
are into steps that find them when they run, `ai:` into a sub-goal. A sub-goal hands control to
a model policy until the model says it is done; then the script goes on. A model that fails
ends the run, as a failed step does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from agent.actions import Action, Click, Done, Drag, Fail, MouseButton
from agent.desktop.screen import Screen
from agent.desktop.windows import window_stack
from agent.errors import DesktopError, UnsupportedError
from agent.geometry import Box, Point
from agent.perception.conditions import Condition, ConditionTimeout, wait_for
from agent.perception.locator import AmbiguousTarget, Locator, Target
from agent.policy.protocol import Decision, Observation, Policy, StepRecord
from agent.record.deciders import DETAIL_LIMIT, MODEL, SCRIPT, Decider, Healed, Unmet
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
class ClickIn:
    """A click at a point of a window found when the step runs (`click: {x, y, within}`)."""

    window: str  # a regular expression for its title
    point: Point  # from the top left of its frame (the title bar is in it)
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


@dataclass(frozen=True, slots=True)
class Healing:
    """A step the model did in the script's place (`--heal`): which, what it was to do and
    why it could not be done as written (`stood_in`), and the runner's steps the model took."""

    stood_in: Healed
    first_step: int
    last_step: int

    @property
    def step(self) -> int:
        """The step's number in the script (the task file's steps)."""
        return self.stood_in.step


@dataclass(frozen=True, slots=True)
class _Unmet:
    """A script step that could not be done as written: the model does it (`--heal`), or
    the run fails as `failure` says."""

    what: str  # what it was to do
    why: Unmet
    problem: str  # what the locator or the wait said
    failure: Decision


ScriptedStep = Action | WaitUntil | SubGoal | ClickOn | ClickIn | DragBetween
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
            case ClickStep(click=spec) | DoubleClickStep(double_click=spec) if spec.in_window:
                assert spec.within is not None and spec.x is not None and spec.y is not None
                point = Point(spec.x, spec.y)
                script.append(
                    ClickIn(spec.within.window, point, spec.button, spec.count, spec.timeout)
                )
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
        heal_goal: str | None = None,
    ) -> None:
        self._locator = locator
        # Healing (`--heal`): a step whose target is not there, or whose wait times out, is
        # handed to the model (`model_for`) as a sub-goal; None: it fails the run. The text
        # is the task's goal, for the model's sake ("" when the task has none).
        self._heal_goal = heal_goal
        self.healings: list[Healing] = []
        self._healing: Healing | None = None
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
            failed = Fail(f"scripted step {self._next} failed: {history[-1].error}")
            return Decision((failed,), by=SCRIPT)
        if self._next >= len(self._steps):
            return Decision((Done(f"all {len(self._steps)} scripted steps done"),), by=SCRIPT)
        step = self._steps[self._next]
        self._next += 1
        if isinstance(step, SubGoal):
            assert self._model_for is not None
            self._model = self._model_for(step.goal)
            self._model_since = len(history)
            return self._delegate(observation, history)
        done = self._do(step)
        if isinstance(done, _Unmet):
            return self._heal(observation, history, done)
        return replace(done, by=SCRIPT)

    def _do(self, step: ScriptedStep) -> Decision | _Unmet:
        """The decision for one step of the script, or why it cannot be done as written."""
        match step:
            case WaitUntil(condition=condition, timeout=timeout):
                try:
                    waited = wait_for(condition, timeout, self._stop, self._screen)
                except ConditionTimeout as timed_out:
                    failure = Decision(
                        (Fail(str(timed_out)),), thought=f"step {self._next}: wait_for"
                    )
                    what = f"wait for {condition.describe()}"
                    return _Unmet(what, Unmet.TIMED_OUT, str(timed_out), failure)
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
                    failure = Decision((Fail(f"step {self._next}: {missing}"),), thought=thought)
                    why = (
                        Unmet.AMBIGUOUS if isinstance(missing, AmbiguousTarget) else Unmet.NOT_FOUND
                    )
                    return _Unmet(f"click on {target.describe()}", why, str(missing), failure)
                centre = found.box.center
                click = Click(centre.x, centre.y, button=button, count=count)
                return Decision((click,), thought=f"{thought}: {found.describe()}")
            case ClickIn(window=window, point=point, button=button, count=count, timeout=timeout):
                thought = f"step {self._next}: click at {point.x},{point.y} in window {window!r}"
                box = self._window_box(window, timeout)
                if box is None:
                    absent = f"no window titled {window!r} after {timeout:g}s"
                    return Decision((Fail(f"step {self._next}: {absent}"),), thought=thought)
                click = Click(box.left + point.x, box.top + point.y, button=button, count=count)
                return Decision((click,), thought=thought)
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
            case SubGoal():
                raise AssertionError("a sub-goal is the model's, not a scripted step")
        return Decision((step,), thought=f"step {self._next} of {len(self._steps)}")

    def _heal(
        self, observation: Observation, history: Sequence[StepRecord], unmet: _Unmet
    ) -> Decision:
        """The model's first decision in place of the step that could not be done; the
        step's failure when the run does not heal."""
        if self._heal_goal is None or self._model_for is None:
            return replace(unmet.failure, by=SCRIPT)
        goal = (
            f"A scripted step could not be done as written. Step {self._next} was to "
            f"{unmet.what}, but: {unmet.problem[:400]}. Do what that step was for on the "
            "screen as it is now (the thing may have another name, or be elsewhere), then say "
            "done at once: only that step, the script does the rest."
        )
        if self._heal_goal:
            goal += f" The task's goal, for context: {self._heal_goal}"
        self._model = self._model_for(goal)
        self._model_since = len(history)
        stood_in = Healed(self._next, unmet.what, unmet.why, unmet.problem[:DETAIL_LIMIT])
        self._healing = Healing(stood_in, observation.step, observation.step)
        return self._delegate(observation, history)

    def _window_box(self, window: str, timeout: float) -> Box | None:
        """The outer box of the window titled so, waiting up to `timeout` for it."""
        pattern = re.compile(window)
        deadline = time.monotonic() + timeout
        while True:
            display = self._screen.display if self._screen is not None else None
            for shown in reversed(window_stack(display).windows):  # topmost first
                if shown.client is not None and pattern.search(shown.client.title):
                    return shown.box
            if time.monotonic() >= deadline:
                return None
            self._stop.sleep(0.1)

    def _delegate(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        assert self._model is not None
        decision = self._model.decide(observation, history[self._model_since :])
        # The model's, on an `ai:` step or in a healed step's place (then saying which).
        healing = self._healing
        by: Decider = MODEL if healing is None else healing.stood_in
        for index, action in enumerate(decision.actions):
            if isinstance(action, Done):
                # The sub-goal is reached: what came before Done runs, then the script goes on.
                self._model = None
                if healing is not None:
                    self._healing = None
                    self.healings.append(replace(healing, last_step=observation.step))
                thought = f"ai step {self._next} done: {action.summary}. {decision.thought}"
                return Decision(
                    decision.actions[:index],
                    thought.strip(),
                    decision.usage,
                    decision.raw_reply,
                    by,
                )
        return replace(decision, by=by)
