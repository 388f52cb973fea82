"""How a run ended, in one status, an exit code and a reason: from the runner's outcome, what
the agent declared, and the checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.loop import Outcome, Spent
from agent.record.status import RunStatus
from agent.run.checks import CheckResult

EXIT_SUCCESS, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_STOPPED, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    exit_code: int
    reason: str
    run_folder: Path
    steps: int
    seconds: float
    checks: tuple[CheckResult, ...] = field(default=())
    spent: Spent = field(default_factory=Spent)
    declared: str | None = None  # what the agent said at the end: done, fail, or nothing


def verdict(
    outcome: Outcome, checks: Sequence[CheckResult], *, expect_fail: bool
) -> tuple[RunStatus, int, str]:
    """(status, exit code, reason). With `expect_fail` the task cannot be done: success is the
    agent saying so."""
    match outcome.status:
        case "stopped" | "budget":
            return RunStatus.STOPPED, EXIT_STOPPED, outcome.reason
        case "failed" if not (expect_fail and outcome.declared == "fail"):
            return RunStatus.FAILED, EXIT_FAILED, outcome.reason
        case "done" if expect_fail:
            return (
                RunStatus.FAILED,
                EXIT_FAILED,
                f"the task cannot be done, yet the agent said done: {outcome.reason}",
            )
    failed = [check for check in checks if not check.passed]
    if failed:
        names = "; ".join(f"{c.description}: {c.detail}" for c in failed)
        count = f"{len(failed)} of {len(checks)} checks failed"
        return RunStatus.FAILED, EXIT_FAILED, f"{count}: {names}"
    return RunStatus.SUCCESS, EXIT_SUCCESS, f"{outcome.reason}; {len(checks)} checks hold"
