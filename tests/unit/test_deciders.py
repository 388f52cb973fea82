"""Who decided each step reaches the run's events: the script's own steps, the model on an
`ai:` step, and the model standing in for a step that could not be done as written (`--heal`),
saying which step, what it was to do and why."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agent.actions import Click, Done, KeyPress, TypeText
from agent.loop import Outcome, Runner
from agent.perception.conditions import FileExists
from agent.policy.protocol import Decision, Observation, Policy, StepRecord, Usage
from agent.policy.scripted import Healing, ScriptedPolicy, ScriptedStep, SubGoal, WaitUntil
from agent.record.deciders import MODEL, SCRIPT, Healed, Unmet
from agent.record.events import Decided, EventBus
from agent.record.steps import StepFolder
from agent.stop import StopToken
from tests.unit.test_loop import TINY_SETTLE, FakeDesktop, ListSink


class _Model:
    """The model's judgement, faked: one click, then done."""

    name = "fake-model"

    def __init__(self) -> None:
        self.calls = 0

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        self.calls += 1
        if self.calls == 1:
            return Decision((Click(3, 4),), "clicking", Usage(100, 5))
        return Decision((Done("did it"),))


def _run(steps: list[ScriptedStep], heal: bool) -> tuple[Outcome, ScriptedPolicy, ListSink]:
    stop, sink = StopToken(), ListSink()

    def model_for(goal: str) -> Policy:
        return _Model()

    heal_goal = "Send the mail" if heal else None
    policy = ScriptedPolicy(steps, stop, model_for=model_for, heal_goal=heal_goal)
    runner = Runner(FakeDesktop(), policy, EventBus([sink]), stop, settle=TINY_SETTLE)
    return runner.run(), policy, sink


def test_script_model_and_healed_steps_say_who_decided(tmp_path: Path) -> None:
    missing = str(tmp_path / "never-written")
    steps: list[ScriptedStep] = [
        TypeText("a"),
        SubGoal("press the button"),
        WaitUntil(FileExists(missing), 0.2),
        KeyPress(("enter",)),
    ]
    outcome, policy, sink = _run(steps, heal=True)
    assert outcome.status == "done", outcome
    healed = Healed(
        3,
        f"wait for the file {missing}",
        Unmet.TIMED_OUT,
        f"waited 0.2s for the file {missing}; {missing} does not exist",
    )
    decided = [(event.step, event.by) for event in sink.events if isinstance(event, Decided)]
    assert decided == [
        (1, SCRIPT),  # type
        (2, MODEL),  # the ai step: a click
        (3, MODEL),  # its done
        (4, healed),  # in the wait's place: a click
        (5, healed),  # its done
        (6, SCRIPT),  # the key
        (7, SCRIPT),  # all done
    ]
    assert policy.healings == [Healing(healed, 4, 5)]
    assert StepFolder.of(sink.events).deciders == "3 script, 2 healed, 2 model"


def test_without_heal_the_step_fails_as_the_script(tmp_path: Path) -> None:
    outcome, policy, sink = _run([WaitUntil(FileExists(str(tmp_path / "never")), 0.1)], False)
    assert outcome.status == "failed" and "waited 0.1s" in outcome.reason
    decided = [event.by for event in sink.events if isinstance(event, Decided)]
    assert decided == [SCRIPT] and policy.healings == []
