"""One task file, run start to finish: log, desktop, setup, steps, checks, teardown.

Whatever happens (a failed setup, a stop, an exception) the run log gets its RunFinished
event and the apps the task launched are closed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.apps import AppLauncher
from agent.checks import CheckResult, evaluate_check
from agent.conditions import Condition, FileExists, WindowAppears, wait_for
from agent.desktop.local import LocalDesktop
from agent.desktop.settle import fingerprint, wait_until_settled
from agent.errors import AgentError, UnsupportedError
from agent.events import CheckEvaluated, EventBus, EventSink, RunFinished, RunStarted, SetupDone
from agent.loop import Budget, Outcome, Runner
from agent.policy.scripted import ScriptedPolicy, ScriptedStep, WaitStep
from agent.runlog import RunLog
from agent.secrets import SecretMasker
from agent.stop import StopToken
from agent.taskfile import (
    AiStep,
    LaunchStep,
    LoadedTask,
    Step,
    WaitForSpec,
    WaitForStep,
    step_to_action,
)

EXIT_SUCCESS, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_STOPPED, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class RunResult:
    status: str  # success | failed | stopped | bad_input | environment_error
    exit_code: int
    reason: str
    run_folder: Path
    steps: int
    seconds: float
    checks: tuple[CheckResult, ...] = field(default=())


def condition_of(spec: WaitForSpec) -> Condition:
    if spec.window is not None:
        return WindowAppears(spec.window, focused=spec.focused)
    return FileExists(str(spec.file))


def scripted_steps(steps: Sequence[Step]) -> list[ScriptedStep]:
    """A task's steps as the scripted policy's; refuses what needs a model (ai steps)."""
    scripted: list[ScriptedStep] = []
    for number, step in enumerate(steps, start=1):
        if isinstance(step, AiStep):
            raise UnsupportedError(
                f"step {number} is an `ai:` step: AI steps need a model policy, "
                "which this version of Shain does not have yet"
            )
        if isinstance(step, WaitForStep):
            scripted.append(WaitStep(condition_of(step.wait_for), step.wait_for.timeout))
            continue
        action = step_to_action(step)
        if action is None:
            raise UnsupportedError(f"step {number} ({type(step).__name__}) cannot be run")
        scripted.append(action)
    return scripted


class TaskSession:
    """Runs a loaded task on the display named by `environment["DISPLAY"]`."""

    def __init__(
        self,
        loaded: LoadedTask,
        *,
        runs_dir: Path,
        environment: Mapping[str, str],
        workdir: Path,
        sinks: Sequence[EventSink] = (),
        stop: StopToken | None = None,
        monitor: int | None = None,
    ) -> None:
        self.loaded = loaded
        self.monitor = monitor
        self.environment = dict(environment)
        self.workdir = workdir
        self.stop = stop or StopToken()
        task = loaded.task
        self.log = RunLog.create(
            runs_dir, task.name, {"task_file": str(loaded.path), "workdir": str(workdir)}
        )
        self.bus = EventBus([self.log, *sinks], SecretMasker(loaded.secret_values))
        self.checks: list[CheckResult] = []
        self._started = time.monotonic()

    @property
    def run_folder(self) -> Path:
        return self.log.folder

    def run(self) -> RunResult:
        launcher = AppLauncher(self.environment)
        outcome = Outcome("failed", "did not start", 0)
        try:
            steps = self._prepare()
            display = self.environment.get("DISPLAY")
            with LocalDesktop(monitor=self.monitor, display=display) as desktop:
                self.bus.emit(
                    RunStarted(
                        self.log.run_id,
                        self.loaded.task.name,
                        self.loaded.task.goal,
                        "scripted",
                        desktop.size,
                        str(self.workdir),
                    )
                )
                self._setup(launcher, desktop)
                budget = self.loaded.task.budget
                runner = Runner(
                    desktop,
                    ScriptedPolicy(steps, self.stop, self.environment.get("DISPLAY")),
                    self.bus,
                    self.stop,
                    budget=Budget(budget.max_steps, budget.max_seconds),
                )
                outcome = runner.run()
                if outcome.status in ("done", "failed"):
                    self._evaluate_checks()
            return self._finish(*self._verdict(outcome), outcome.steps)
        except AgentError as error:
            status = "bad_input" if error.exit_code == EXIT_BAD_INPUT else "environment_error"
            return self._finish(status, error.exit_code, str(error), outcome.steps)
        finally:
            launcher.close_all()
            self.log.close()

    def _prepare(self) -> list[ScriptedStep]:
        task = self.loaded.task
        if not task.steps:
            raise UnsupportedError(
                "this task has a goal but no steps: goal-only tasks need a model policy, "
                "which this version of Shain does not have yet"
            )
        return scripted_steps(task.steps)

    def _setup(self, launcher: AppLauncher, desktop: LocalDesktop) -> None:
        if not self.loaded.task.setup:
            return
        for item in self.loaded.task.setup:
            before = time.monotonic()
            if isinstance(item, LaunchStep):
                spec = item.launch
                launcher.launch(spec.command, cwd=spec.cwd, env=spec.env)
                description = f"launch {spec.command}"
            else:
                condition = condition_of(item.wait_for)
                wait_for(condition, item.wait_for.timeout, self.stop, self.environment["DISPLAY"])
                description = f"wait_for {condition.describe()}"
            self.bus.emit(SetupDone(description, time.monotonic() - before))
        # A window's title shows before the app has drawn and taken the focus: let the
        # screen come to rest before the first step acts on it.
        settle = wait_until_settled(desktop.capture, fingerprint(desktop.capture()), self.stop)
        self.bus.emit(SetupDone("screen at rest", settle.seconds))

    def _evaluate_checks(self) -> None:
        for check in self.loaded.task.checks:
            result = evaluate_check(check, self.environment)
            self.checks.append(result)
            self.bus.emit(CheckEvaluated(result.description, result.passed, result.detail))

    def _verdict(self, outcome: Outcome) -> tuple[str, int, str]:
        match outcome.status:
            case "stopped" | "budget":
                return "stopped", EXIT_STOPPED, outcome.reason
            case "failed":
                return "failed", EXIT_FAILED, outcome.reason
        failed = [check for check in self.checks if not check.passed]
        if failed:
            names = "; ".join(f"{c.description}: {c.detail}" for c in failed)
            return (
                "failed",
                EXIT_FAILED,
                f"{len(failed)} of {len(self.checks)} checks failed: {names}",
            )
        return "success", EXIT_SUCCESS, f"{outcome.reason}; {len(self.checks)} checks hold"

    def _finish(self, status: str, exit_code: int, reason: str, steps: int) -> RunResult:
        seconds = time.monotonic() - self._started
        reason = self.bus.masker.mask_text(reason)
        self.bus.emit(RunFinished(status, exit_code, reason, steps, seconds))
        return RunResult(
            status, exit_code, reason, self.log.folder, steps, seconds, tuple(self.checks)
        )
