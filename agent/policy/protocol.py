"""The seam between the loop and whatever decides: a script, a model, a replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from agent.actions import Action
from agent.desktop.protocol import Frame
from agent.geometry import Size
from agent.record.deciders import MODEL, Decider


@dataclass(frozen=True, slots=True)
class Observation:
    step: int
    frame: Frame
    screen: Size


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    actions: tuple[Action, ...]
    thought: str = ""
    usage: Usage = field(default_factory=Usage)
    raw_reply: str = ""  # what the model said, as it said it (for the log and the viewer)
    # Who decided: a model, unless the policy says otherwise (the scripted, replay and
    # do-nothing policies do; the scripted one also says when the model healed a step).
    by: Decider = MODEL


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What happened in one earlier step, as a policy sees it in its history."""

    step: int
    actions: tuple[Action, ...]
    thought: str
    error: str | None = None
    note: str | None = None  # what the boss said or did meanwhile: an answer, a take-over


def latest_notes(history: Sequence[StepRecord]) -> list[str]:
    """What the boss said or did since the policy last decided: the notes of the last step."""
    if not history:
        return []
    last = history[-1].step
    return [record.note for record in history if record.step == last and record.note]


class Policy(Protocol):
    name: str

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision: ...
