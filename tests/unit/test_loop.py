"""The runner's logic on a fake desktop: order, outcomes, budgets, stops, failures, events."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pytest

from agent.actions import (
    Action,
    AskBoss,
    Click,
    Done,
    Fail,
    KeyPress,
    Move,
    TypeText,
    Wait,
)
from agent.desktop.protocol import Frame
from agent.desktop.settle import SettlePolicy
from agent.errors import DesktopError, Stopped
from agent.geometry import Size
from agent.loop import Budget, Outcome, Runner
from agent.policy.protocol import Decision, Observation, StepRecord
from agent.policy.scripted import ScriptedPolicy
from agent.record.events import (
    ActionExecuted,
    ActionFailed,
    Decided,
    Event,
    EventBus,
    Observed,
    StepStarted,
)
from agent.stop import StopToken

TINY_SETTLE = SettlePolicy(interval=0.001, quiet_intervals=1, first_change_grace=0.001, ceiling=1)


class FakeDesktop:
    """A screen in memory: records actions; an action in `failing` raises DesktopError."""

    def __init__(self, failing: Sequence[Action] = (), execute_seconds: float = 0.0) -> None:
        self.pixels = np.zeros((48, 64, 4), dtype=np.uint8)
        self.executed: list[Action] = []
        self.failing = list(failing)
        self.execute_seconds = execute_seconds
        self.captures = 0
        self.released = 0
        self.closed = False
        self.drawing = None  # no drawing reports: settle samples

    @property
    def size(self) -> Size:
        return Size(64, 48)

    def capture(self) -> Frame:
        self.captures += 1
        return Frame(self.pixels.copy(), time.monotonic())

    def execute(self, action: Action, stop: StopToken) -> None:
        stop.raise_if_stopped()
        if action in self.failing:
            raise DesktopError("the window went away")
        if self.execute_seconds:
            time.sleep(self.execute_seconds)
        self.executed.append(action)
        self.pixels[::8, ::8, 0] = len(self.executed) % 256  # the screen reacts

    def release_held_keys(self) -> None:
        self.released += 1

    def close(self) -> None:
        self.closed = True


class ListSink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


def _run(
    steps: Sequence[Action],
    *,
    desktop: FakeDesktop | None = None,
    stop: StopToken | None = None,
    budget: Budget = Budget(),
) -> tuple[Outcome, FakeDesktop, ListSink]:
    desktop = desktop or FakeDesktop()
    stop = stop or StopToken()
    sink = ListSink()
    runner = Runner(
        desktop,
        ScriptedPolicy(steps, stop),
        EventBus([sink]),
        stop,
        budget=budget,
        settle=TINY_SETTLE,
    )
    return runner.run(), desktop, sink


def test_scripted_actions_run_in_order_and_end_done() -> None:
    script: list[Action] = [Click(10, 20), TypeText("hello"), KeyPress(("ctrl", "s")), Wait(0)]
    outcome, desktop, _ = _run(script)
    assert desktop.executed == script
    assert outcome == Outcome("done", "all 4 scripted steps done", 5, declared="done")
    assert desktop.released == 1


def test_empty_script_is_done_at_once() -> None:
    outcome, desktop, _ = _run([])
    assert outcome == Outcome("done", "all 0 scripted steps done", 1, declared="done")
    assert desktop.executed == []


def test_a_desktop_error_makes_the_script_fail_on_the_next_step() -> None:
    broken = Click(5, 5)
    desktop = FakeDesktop(failing=[broken])
    outcome, desktop, sink = _run([Move(1, 1), broken, TypeText("never typed")], desktop=desktop)
    assert outcome.status == "failed"
    assert outcome.steps == 3
    assert "the window went away" in outcome.reason
    assert "click left (5, 5)" in outcome.reason
    assert outcome.reason.startswith("scripted step 2 failed:")
    assert desktop.executed == [Move(1, 1)]
    failed = [e for e in sink.events if isinstance(e, ActionFailed)]
    assert len(failed) == 1
    assert failed[0].step == 2
    assert failed[0].action == broken
    assert failed[0].error == "click left (5, 5): the window went away"
    assert desktop.released == 1


class _AlwaysClicks:
    """A policy that never gives up (as a model might): the runner must stop it."""

    name = "stubborn"

    def __init__(self) -> None:
        self.histories: list[tuple[StepRecord, ...]] = []

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        self.histories.append(tuple(history))
        return Decision((Click(1, 1),), thought=f"try {observation.step}")


def test_repeated_failures_end_the_run() -> None:
    desktop = FakeDesktop(failing=[Click(1, 1)])
    policy = _AlwaysClicks()
    stop = StopToken()
    outcome = Runner(desktop, policy, EventBus(), stop, settle=TINY_SETTLE).run()
    assert outcome.status == "failed"
    assert outcome.steps == 3
    assert outcome.reason.startswith("3 failed actions in a row:")
    assert "the window went away" in outcome.reason
    # Each failure is fed back to the policy in its history.
    assert [record.error for record in policy.histories[-1]] == [
        "click left (1, 1): the window went away"
    ] * 2


def test_step_budget_ends_with_status_budget() -> None:
    script = [Move(i, i) for i in range(5)]
    outcome, desktop, _ = _run(script, budget=Budget(max_steps=2))
    assert outcome == Outcome("budget", "step budget of 2 used up", 2)
    assert desktop.executed == script[:2]
    assert desktop.released == 1


def test_time_budget_ends_with_status_budget() -> None:
    desktop = FakeDesktop(execute_seconds=0.05)
    script = [Move(i, i) for i in range(20)]
    outcome, desktop, _ = _run(script, desktop=desktop, budget=Budget(max_seconds=0.03))
    assert outcome.status == "budget"
    assert outcome.reason == "time budget of 0.03s used up"
    assert outcome.steps == 1
    assert desktop.executed == script[:1]


def test_stopped_before_the_run() -> None:
    stop = StopToken()
    stop.stop()
    outcome, desktop, sink = _run([Click(1, 1)], stop=stop)
    assert outcome == Outcome("stopped", "stopped by the boss", 0)
    assert desktop.executed == []
    assert sink.events == []
    assert desktop.released == 1


def test_stop_during_an_action_ends_the_run_as_stopped() -> None:
    stop = StopToken()

    class StopsOnType(FakeDesktop):
        def execute(self, action: Action, stop_token: StopToken) -> None:
            if isinstance(action, TypeText):
                stop.stop("Ctrl-C")
                raise Stopped(stop.reason)
            super().execute(action, stop_token)

    script: list[Action] = [Move(1, 1), TypeText("x"), Move(2, 2)]
    outcome, desktop, _ = _run(script, desktop=StopsOnType(), stop=stop)
    assert outcome == Outcome("stopped", "Ctrl-C", 2)
    assert desktop.executed == [Move(1, 1)]
    assert desktop.released == 1


@pytest.mark.parametrize(
    ("final", "status", "reason", "declared"),
    [
        (Done("note saved"), "done", "note saved", "done"),
        (Done(), "done", "done", "done"),
        (Fail("no such window"), "failed", "no such window", "fail"),
        (AskBoss("which printer?"), "failed", "needs the boss: which printer?", None),
    ],
)
def test_final_actions_end_the_run(
    final: Action, status: str, reason: str, declared: str | None
) -> None:
    outcome, desktop, _ = _run([Move(1, 1), final, Click(9, 9)])
    assert outcome == Outcome(status, reason, 2, declared)  # type: ignore[arg-type]
    assert desktop.executed == [Move(1, 1)]  # nothing after the final action


def test_events_of_one_step_in_order() -> None:
    outcome, _, sink = _run([Click(3, 4)])
    first_step = [e for e in sink.events if getattr(e, "step", None) == 1]
    assert [type(e) for e in first_step] == [StepStarted, Observed, Decided, ActionExecuted]
    _, observed, decided, executed = first_step
    assert isinstance(observed, Observed)
    assert observed.frame.width == 64 and observed.frame.height == 48
    assert isinstance(decided, Decided)
    assert decided.actions == (Click(3, 4),)
    assert decided.thought == "step 1 of 1"
    assert isinstance(executed, ActionExecuted)
    assert executed.action == Click(3, 4)
    assert executed.settled is True
    assert executed.screen_changed is True
    assert executed.action_seconds >= 0 and executed.settle_seconds >= 0
    # The last step only decides: done.
    assert [type(e) for e in sink.events[4:]] == [StepStarted, Observed, Decided]
    assert isinstance(sink.events[-1], Decided)
    assert sink.events[-1].actions == (Done("all 1 scripted steps done"),)
    assert outcome.steps == 2


def test_an_action_that_changes_nothing_is_reported_so() -> None:
    class Inert(FakeDesktop):
        def execute(self, action: Action, stop: StopToken) -> None:
            self.executed.append(action)

    _, _, sink = _run([Move(1, 1)], desktop=Inert())
    executed = [e for e in sink.events if isinstance(e, ActionExecuted)]
    assert len(executed) == 1
    assert executed[0].screen_changed is False
    assert executed[0].settled is True


def test_the_policy_sees_the_screen_and_its_history() -> None:
    seen: list[tuple[Observation, tuple[StepRecord, ...]]] = []

    class Recording:
        name = "recording"

        def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
            seen.append((observation, tuple(history)))
            if observation.step == 3:
                return Decision((Done("enough"),))
            return Decision((Move(observation.step, 0), Wait(0)), thought=f"t{observation.step}")

    desktop = FakeDesktop()
    outcome = Runner(desktop, Recording(), EventBus(), StopToken(), settle=TINY_SETTLE).run()
    assert outcome == Outcome("done", "enough", 3, declared="done")
    assert desktop.executed == [Move(1, 0), Wait(0), Move(2, 0), Wait(0)]
    assert [obs.step for obs, _ in seen] == [1, 2, 3]
    assert all(obs.screen == Size(64, 48) for obs, _ in seen)
    assert seen[2][1] == (
        StepRecord(1, (Move(1, 0), Wait(0)), "t1"),
        StepRecord(2, (Move(2, 0), Wait(0)), "t2"),
    )


def test_release_held_keys_even_when_the_policy_crashes() -> None:
    class Crashing:
        name = "crashing"

        def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
            raise RuntimeError("model exploded")

    desktop = FakeDesktop()
    with pytest.raises(RuntimeError, match="model exploded"):
        Runner(desktop, Crashing(), EventBus(), StopToken(), settle=TINY_SETTLE).run()
    assert desktop.released == 1


class ReportedDrawing:
    """Drawing reports of a FakeDesktop: each executed action draws once."""

    def __init__(self) -> None:
        self.latest: float | None = None
        self.count = 0

    def forget(self) -> None:
        self.latest = None

    def wait(self, timeout: float) -> float | None:
        time.sleep(min(timeout, 0.001))
        return self.latest

    def reported(self) -> int:
        return self.count

    def drew(self) -> None:
        self.count += 1
        self.latest = time.monotonic()


def test_with_drawing_reports_each_action_costs_one_capture() -> None:
    """Settle's capture at rest is also the next action's reference and the next step's
    observation while nothing is drawn: one capture per action, not three."""
    desktop = FakeDesktop()
    drawing = ReportedDrawing()
    desktop.drawing = drawing  # type: ignore[assignment]
    acting = desktop.execute

    def execute_and_draw(action: Action, stop: StopToken) -> None:
        acting(action, stop)
        drawing.drew()

    desktop.execute = execute_and_draw  # type: ignore[method-assign]
    script: list[Action] = [Click(1, 1), Click(2, 2), TypeText("a")]
    outcome, _, sink = _run([*script, Done()], desktop=desktop)
    assert outcome.status == "done"
    assert desktop.captures == 1 + len(script)  # the first look, then one per action
    observed = [event.frame for event in sink.events if isinstance(event, Observed)]
    # Every observation shows what the screen showed then (the action's mark on it).
    assert [int(frame.pixels[0, 0, 0]) for frame in observed] == [0, 1, 2, 3]
