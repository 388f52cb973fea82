"""`replay`: the decisions of an earlier run, again, in order: for regression tests and demos.

The run log keeps every decision with its actions in screen coordinates; replaying them needs
no model. When the recorded decisions run out the replay says it is done, and the task's
checks decide whether the screen ended up where the original run left it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agent.actions import Action, Done
from agent.errors import ConfigError
from agent.policy.protocol import Decision, Observation, StepRecord
from agent.record.deciders import SCRIPT
from agent.record.events import Decided, UnreadableAction
from agent.record.log import read_run


class ReplayPolicy:
    name = "replay"

    def __init__(self, run_folder: Path) -> None:
        try:
            record = read_run(run_folder)
        except FileNotFoundError as error:
            raise ConfigError(str(error)) from None
        self.source = record.run_id
        self._decisions: list[tuple[tuple[Action, ...], str]] = []
        for event in record.events_of(Decided):
            actions: list[Action] = []
            for action in event.actions:
                if isinstance(action, UnreadableAction):
                    raise ConfigError(f"{run_folder}: step {event.step}: {action.error}")
                actions.append(action)
            if actions:
                self._decisions.append((tuple(actions), event.thought))
        if not self._decisions:
            raise ConfigError(f"{run_folder}: the run recorded no actions to replay")
        self._next = 0

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        if self._next >= len(self._decisions):
            done = Done(f"replayed {len(self._decisions)} decisions of {self.source}")
            return Decision((done,), by=SCRIPT)
        actions, thought = self._decisions[self._next]
        self._next += 1
        # No model is asked: the recorded decisions are a script.
        return Decision(
            actions, f"replay {self._next}/{len(self._decisions)}: {thought}", by=SCRIPT
        )
