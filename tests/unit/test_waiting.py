"""Waiting is not being stuck: the same input three times on an unchanging screen ends a model
run, but waiting (or only looking) ends it only after a while with nothing new on the screen."""

from __future__ import annotations

import time
from collections.abc import Sequence

from agent.actions import Action, Click, Done, Wait
from agent.loop import Budget, Limits, Outcome, Runner
from agent.policy.protocol import Decision, Observation, StepRecord
from agent.record.events import EventBus
from agent.stop import StopToken
from tests.unit.test_loop import TINY_SETTLE, FakeDesktop

MODEL_LIMITS = Limits(repeats=3, idle_seconds=0.5)


class _StillDesktop(FakeDesktop):
    """Waiting shows nothing new; the app 'appears' (the screen changes) after `appears_after`
    seconds; input changes the screen as in FakeDesktop."""

    def __init__(self, appears_after: float | None = None) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.appears_after = appears_after

    def execute(self, action: Action, stop: StopToken) -> None:
        if isinstance(action, Wait):
            stop.sleep(action.seconds)
            if self.appears_after is not None:
                appeared = time.monotonic() - self.started >= self.appears_after
                self.pixels[:, :, 1] = 200 if appeared else 0
            return
        super().execute(action, stop)


class _Waits:
    """Waits (or, with `look`, only asks for a new screenshot) until the screen changes, then
    clicks and is done."""

    name = "waits"

    def __init__(self, look: bool = False) -> None:
        self.look = look
        self.first: bytes | None = None

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        pixels = observation.frame.pixels.tobytes()
        self.first = self.first or pixels
        if pixels != self.first:
            return Decision((Click(5, 5), Done("the app came")))
        if self.look:
            time.sleep(0.01)  # a model takes a moment to answer
            return Decision(())
        return Decision((Wait(0.05),))


def _run(desktop: FakeDesktop, policy: _Waits) -> Outcome:
    runner = Runner(
        desktop, policy, EventBus(), StopToken(), budget=Budget(max_steps=200),
        settle=TINY_SETTLE, limits=MODEL_LIMITS,
    )  # fmt: skip
    return runner.run()


def test_waiting_for_a_slow_app_is_not_stuck() -> None:
    outcome = _run(_StillDesktop(appears_after=0.4), _Waits())
    assert outcome.status == "done", outcome
    assert outcome.steps > 3  # more waits than the repeats rule allows for input


def test_waiting_on_a_screen_that_never_changes_ends_after_the_idle_limit() -> None:
    started = time.monotonic()
    outcome = _run(_StillDesktop(), _Waits())
    assert outcome.status == "failed"
    assert "with no change on the screen: the agent is stuck" in outcome.reason
    assert outcome.reason.startswith("waited ")
    assert time.monotonic() - started >= MODEL_LIMITS.idle_seconds  # type: ignore[operator]


def test_only_looking_is_bounded_the_same_way() -> None:
    outcome = _run(_StillDesktop(), _Waits(look=True))
    assert outcome.status == "failed" and outcome.reason.startswith("waited ")


class _ClicksNowhere:
    name = "clicks"

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        return Decision((Wait(0.01), Click(5, 5)))


def test_input_repeated_on_an_unchanging_screen_is_still_stuck() -> None:
    desktop = _StillDesktop()
    desktop.execute = lambda action, stop: None  # type: ignore[method-assign]  # nothing reacts
    runner = Runner(
        desktop, _ClicksNowhere(), EventBus(), StopToken(), settle=TINY_SETTLE,
        limits=MODEL_LIMITS,
    )  # fmt: skip
    outcome = runner.run()
    assert outcome.status == "failed" and outcome.steps == 3
    assert "repeated 3 times with no change on the screen" in outcome.reason
