"""How a run ended: one status, what it means in words, and whether it counts as a failure.

A StrEnum, so the run log, summary.json and `--json` output keep the plain strings.
"""

from __future__ import annotations

import enum


class RunStatus(enum.StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    STOPPED = "stopped"
    BAD_INPUT = "bad_input"
    ENVIRONMENT_ERROR = "environment_error"
    CRASHED = "crashed"
    INCOMPLETE = "incomplete"  # the log has no end: the run crashed hard, or is still going

    @property
    def words(self) -> str:
        """The status as a heading says it: `Succeeded`, `Environment error`."""
        return _WORDS[self]

    @property
    def is_failure(self) -> bool:
        """Whether the boss should look: the run failed, or could not run. A stop is the boss's
        own doing, and an incomplete log may still be growing."""
        return self in _FAILURES


_WORDS = {
    RunStatus.SUCCESS: "Succeeded",
    RunStatus.FAILED: "Failed",
    RunStatus.STOPPED: "Stopped",
    RunStatus.BAD_INPUT: "Bad input",
    RunStatus.ENVIRONMENT_ERROR: "Environment error",
    RunStatus.CRASHED: "Crashed",
    RunStatus.INCOMPLETE: "Incomplete",
}
_FAILURES = frozenset(
    {RunStatus.FAILED, RunStatus.CRASHED, RunStatus.ENVIRONMENT_ERROR, RunStatus.BAD_INPUT}
)
