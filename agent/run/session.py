"""One task, run start to finish on one screen: setup, the runner, checks, the verdict.

Whatever happens (a failed setup, a stop, an exception) the run log gets its RunFinished
event and the apps the task launched are closed. What drives the run is chosen with the
policies (`agent/policy/choose.py`); the task file's steps become scripted steps there too.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from agent.config.profiles import Profile
from agent.desktop.apps import AppLauncher
from agent.desktop.local import LocalDesktop
from agent.desktop.protocol import Desktop, Frame
from agent.desktop.screen import Screen
from agent.desktop.windows import list_windows
from agent.errors import AgentError, RunLogUnwritable, UnsupportedError
from agent.guard import GuardRules, RuleGuard
from agent.learn.repair import HealedStep, propose_repair
from agent.loop import BossQuestion, Budget, Limits, Outcome, Runner, Spent
from agent.perception.pointed import screen_witness
from agent.perception.screen_elements import default_text_reader, screen_locator
from agent.policy.choose import PolicyChoice, PolicyContext, PolicyRequest, choose_policy
from agent.policy.client import RetryNotice
from agent.policy.scripted import Healing, ScriptedPolicy
from agent.record.events import (
    CheckEvaluated,
    EventBus,
    EventSink,
    ModelRetried,
    RunFinished,
    RunStarted,
)
from agent.record.log import RunLog
from agent.record.secrets import SecretMasker
from agent.record.status import RunStatus
from agent.run.approvals import ApprovalDesk, Approver, LatestFrame
from agent.run.checks import CheckResult, evaluate_check
from agent.run.setup import run_setup
from agent.run.verdict import EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_FAILED, RunResult, verdict
from agent.secret_places import Guards, Secret, SecretKeeper
from agent.stop import StopToken
from agent.taskfile.task import LoadedTask, Task

# The same action this many times with no change on the screen: a model is stuck.
MODEL_REPEAT_LIMIT = 3

# Opens the desktop a run acts on; the boss's tray adds what it must know of the agent's input.
DesktopOpener = Callable[[Screen], Desktop]


def guard_rules(task: Task, profile: Profile) -> GuardRules:
    """The task file's `guard:` when it has one, else the profile's, else the defaults."""
    if "guard" in task.model_fields_set or profile.guard is None:
        return task.guard
    return profile.guard


def _run_vars(loaded: LoadedTask) -> dict[str, str]:
    """The variables this run substituted (its params as its seed picked them), for `shain
    learn`; never the secrets, nor the workdir, which each run gets anew."""
    left_out = {*loaded.task.secrets, "workdir"}
    return {name: value for name, value in loaded.variables.items() if name not in left_out}


class TaskSession:
    """Runs a loaded task on `screen`; `run()` once."""

    def __init__(
        self,
        loaded: LoadedTask,
        screen: Screen,
        *,
        runs_dir: Path,
        workdir: Path,
        policy: PolicyRequest | None = None,
        sinks: Sequence[EventSink] = (),
        stop: StopToken | None = None,
        approver: Approver | None = None,
        ask_boss: BossQuestion | None = None,
        notes: queue.SimpleQueue[str] | None = None,
        open_desktop: DesktopOpener = LocalDesktop,
        run_id: str | None = None,  # the run folder's name; None: a new one (the fleet names its)
    ) -> None:
        self.loaded = loaded
        self.screen = screen
        self.workdir = workdir
        self.request = policy or PolicyRequest()
        self.stop = stop or StopToken()
        self.open_desktop = open_desktop
        self.ask_boss = ask_boss  # None: a model's question ends the run, as headless
        self.notes = notes  # what the boss did meanwhile, for the policy (see Runner)
        task = loaded.task
        self.log = RunLog.create(
            runs_dir,
            task.name,
            {"task_file": str(loaded.path), "workdir": str(workdir), "vars": _run_vars(loaded)},
            run_id,
        )
        latest = LatestFrame()  # the screen an approval request shows
        self.bus = EventBus([self.log, *sinks, latest], SecretMasker(loaded.secret_values))
        # approver None: the task file answers what needs the boss, as headless
        self.approvals = ApprovalDesk(self.bus.emit, latest, approver, task.approvals == "approve")
        self.checks: list[CheckResult] = []
        # Finds things by what they are (`click: {text: Save}`), on the desktop once it is open.
        self._desktop: Desktop | None = None
        self.locator, self._screen_elements = screen_locator(
            screen, self._capture, default_text_reader()
        )
        # The task's secrets: typed only where they belong, painted over where they show.
        places = task.secret_places()
        self.secrets = SecretKeeper(
            [Secret(name, loaded.variables[name], places[name]) for name in places],
            self._screen_elements,
            lambda: list_windows(screen.display),
            self._capture,
        )
        self.spent = Spent()
        self._runner: Runner | None = None
        self._started = time.monotonic()

    @property
    def run_folder(self) -> Path:
        return self.log.folder

    def run(self) -> RunResult:
        launcher = AppLauncher(self.screen)
        outcome = Outcome("failed", "did not start", 0)
        task = self.loaded.task
        try:
            choice = choose_policy(task, self.request, self._policy_context())
            if choice.client is not None:
                self.bus.masker.add(choice.client.api_key)
            desktop = self.open_desktop(self.screen)
            try:
                self._desktop = desktop
                outcome = self._work(choice, desktop, launcher)
            finally:
                desktop.close()
            status, code, reason = verdict(outcome, self.checks, expect_fail=task.expect == "fail")
            return self._finish(status, code, reason, outcome.steps, outcome.declared)
        except AgentError as error:
            status = (
                RunStatus.BAD_INPUT
                if error.exit_code == EXIT_BAD_INPUT
                else RunStatus.ENVIRONMENT_ERROR
            )
            return self._finish(status, error.exit_code, str(error), self._steps_taken(outcome))
        except Exception as error:
            # A bug: the log still gets its ending, then the error goes on to the command,
            # naming the step and the run's folder so that the boss can send the report.
            steps = self._steps_taken(outcome)
            reason = f"internal error at step {steps}: {type(error).__name__}: {error}"
            with contextlib.suppress(RunLogUnwritable):
                self._finish(RunStatus.CRASHED, EXIT_FAILED, reason, steps)
            error.add_note(f"in the run at step {steps}; its folder: {self.run_folder}")
            raise
        finally:
            self._desktop = None
            self._screen_elements.close()
            launcher.close_all()
            self.log.close()

    def _work(self, choice: PolicyChoice, desktop: Desktop, launcher: AppLauncher) -> Outcome:
        """Setup, the runner, and the checks when the agent finished (done or failed)."""
        task = self.loaded.task
        self.bus.emit(
            RunStarted(
                self.log.run_id, task.name, task.goal, choice.label, desktop.size, str(self.workdir)
            )
        )
        run_setup(
            task.setup,
            screen=self.screen,
            desktop=desktop,
            launcher=launcher,
            workdir=self.workdir,
            locator=self.locator,
            stop=self.stop,
            emit=self.bus.emit,
        )
        limits = Limits()
        if choice.client is not None:
            profile = choice.profile
            limits = Limits(
                bad_replies=profile.max_bad_replies,
                repeats=MODEL_REPEAT_LIMIT,
                idle_seconds=profile.max_idle_seconds,
            )
        budget = task.budget
        runner = Runner(
            desktop,
            choice.policy,
            self.bus,
            self.stop,
            budget=Budget(
                budget.max_steps, budget.max_seconds, budget.max_tokens, budget.max_cost_usd
            ),
            limits=limits,
            guard=Guards(RuleGuard(guard_rules(task, choice.profile)), self.secrets),
            approve=self.approvals.approve_action,
            ask_boss=self.ask_boss,
            notes=self.notes,
            secrets=self.secrets,
            witness=screen_witness(self._screen_elements, self.screen.display),
        )
        self.spent = runner.spent
        self._runner = runner
        outcome = runner.run()
        if isinstance(choice.policy, ScriptedPolicy) and choice.policy.healings:
            self._propose_repair(choice.policy.healings)
        if outcome.status in ("done", "failed"):
            self._evaluate_checks()
        return outcome

    def _propose_repair(self, healings: Sequence[Healing]) -> None:
        """`--heal`: a repaired task file beside the original, which is never changed."""
        healed = [HealedStep(h.step, h.first_step, h.last_step) for h in healings]
        self.bus.emit(propose_repair(self.loaded.path, healed, self.log.folder))

    def _policy_context(self) -> PolicyContext:
        return PolicyContext(
            stop=self.stop,
            screen=self.screen,
            locator=self.locator,
            elements=self._screen_elements,
            approve=self.approvals.approve_safety_checks,
            on_retry=self._retried,
            secrets={secret.name: secret.value for secret in self.secrets.secrets},
        )

    def _steps_taken(self, outcome: Outcome) -> int:
        """The steps a run took, also when it ended by an error in the middle of one."""
        return self._runner.step if self._runner is not None else outcome.steps

    def _capture(self) -> Frame:
        if self._desktop is None:
            raise UnsupportedError("the screen is not open yet")
        return self._desktop.capture()

    def _retried(self, notice: RetryNotice) -> None:
        self.bus.emit(ModelRetried(notice.attempt, notice.reason, notice.wait_seconds))

    def _evaluate_checks(self) -> None:
        for check in self.loaded.task.checks:
            result = evaluate_check(check, self.screen, self.locator)
            self.checks.append(result)
            self.bus.emit(CheckEvaluated(result.description, result.passed, result.detail))

    def _finish(
        self,
        status: RunStatus,
        exit_code: int,
        reason: str,
        steps: int,
        declared: str | None = None,
    ) -> RunResult:
        seconds = time.monotonic() - self._started
        reason = self.bus.masker.mask_text(reason)
        spent = self.spent
        try:
            self.bus.emit(
                RunFinished(
                    status,
                    exit_code,
                    reason,
                    steps,
                    seconds,
                    spent.input_tokens,
                    spent.output_tokens,
                    spent.cost_usd,
                )
            )
        except RunLogUnwritable as error:
            # The work ended, but its record did not: the boss must hear that it is not whole.
            status, exit_code = RunStatus.ENVIRONMENT_ERROR, EXIT_ENVIRONMENT
            reason = f"{reason}; but {error}"
        return RunResult(
            status,
            exit_code,
            reason,
            self.log.folder,
            steps,
            seconds,
            tuple(self.checks),
            spent,
            declared,
        )
