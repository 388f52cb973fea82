"""Who decided a step, as the run log keeps it on each `Decided` event (`by`):

- the script: a task file's steps, an oracle, a replayed run (no model was asked);
- healed: the model standing in for a script step that could not be done as written
  (`shain run --heal`), with which step, what it was to do and why it could not;
- the model: a goal, or an `ai:` step of a script.

A log written before this was kept says nothing (`by` is None); the report and the viewer
then show no label.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class ByScript:
    kind: ClassVar[str] = "script"


@dataclass(frozen=True, slots=True)
class ByModel:
    kind: ClassVar[str] = "model"


class Unmet(enum.StrEnum):
    """Why a script step could not be done as written."""

    NOT_FOUND = "not_found"  # nothing on the screen matched its target
    AMBIGUOUS = "ambiguous"  # several things matched and the step did not say which
    TIMED_OUT = "timed_out"  # its wait_for did not come true in time

    @property
    def words(self) -> str:
        return _UNMET_WORDS[self]


_UNMET_WORDS = {
    Unmet.NOT_FOUND: "target not found",
    Unmet.AMBIGUOUS: "target ambiguous",
    Unmet.TIMED_OUT: "wait timed out",
}


@dataclass(frozen=True, slots=True)
class Healed:
    """The model did a script step in its place (`--heal`)."""

    kind: ClassVar[str] = "healed"
    step: int  # the step's number in the task file's steps
    what: str  # what it was to do: "click on button 'Send' in window '^Mail$'"
    why: Unmet
    detail: str = ""  # what the locator or the wait said, shortened

    @property
    def how(self) -> str:
        """`step 1 (click on button 'Send'): target not found`."""
        return f"step {self.step} ({self.what}): {self.why.words}"


Decider = ByScript | ByModel | Healed

SCRIPT = ByScript()
MODEL = ByModel()
KINDS = (ByScript.kind, Healed.kind, ByModel.kind)  # in the order counts are told
DETAIL_LIMIT = 300  # characters of a healed step's detail kept in the log


def describe_decider(by: Decider) -> str:
    """`script`, `model`, or `healed: the model did step 1 (click on ...): target not found`."""
    match by:
        case Healed():
            return f"healed: the model did {by.how}"
        case _:
            return by.kind


def count_deciders(deciders: Iterable[Decider | None]) -> str | None:
    """`3 script, 2 healed, 2 model`; None when the log says of no step who decided it."""
    known = [by.kind for by in deciders if by is not None]
    if not known:
        return None
    return ", ".join(f"{known.count(kind)} {kind}" for kind in KINDS)
