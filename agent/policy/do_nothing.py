"""A policy that does nothing and says it is done: a benchmark's floor.

Every task of a benchmark must fail under it; one that passes has checks that do not look
at the work.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.actions import Done
from agent.policy.protocol import Decision, Observation, StepRecord
from agent.record.deciders import SCRIPT


class DoNothingPolicy:
    name = "do-nothing"

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        return Decision((Done("did nothing"),), thought="the do-nothing control", by=SCRIPT)
