"""One task file, run start to finish: log, desktop, setup, steps, checks, teardown.

Whatever happens (a failed setup, a stop, an exception) the run log gets its RunFinished
event and the apps the task launched are closed.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.actions import Action
from agent.config.profiles import MODEL_POLICIES, Profile
from agent.desktop.apps import AppLauncher
from agent.desktop.boss_input import InjectionWindow
from agent.desktop.exclusions import ExcludedRegions
from agent.desktop.local import LocalDesktop
from agent.desktop.protocol import Frame
from agent.desktop.settle import fingerprint, wait_until_settled
from agent.errors import AgentError, EnvironmentProblem, UnsupportedError
from agent.guard import GuardRules, RuleGuard
from agent.loop import Budget, Limits, Outcome, Runner, Spent
from agent.perception.conditions import (
    Condition,
    FileExists,
    TargetAppears,
    WindowAppears,
    WindowGone,
    wait_for,
)
from agent.perception.locator import Locator
from agent.perception.screen_elements import default_text_reader, screen_locator
from agent.policy.client import ModelClient, RetryNotice
from agent.policy.do_nothing import DoNothingPolicy
from agent.policy.factory import model_policy
from agent.policy.openai_cua import SafetyCheck
from agent.policy.protocol import Policy
from agent.policy.replay import ReplayPolicy
from agent.policy.scripted import (
    AiStep,
    ClickOn,
    DragBetween,
    ScriptedPolicy,
    ScriptedStep,
    WaitStep,
)
from agent.record.events import (
    ApprovalAnswered,
    ApprovalRequested,
    CheckEvaluated,
    EventBus,
    EventSink,
    ModelRetried,
    RunFinished,
    RunStarted,
    SetupDone,
)
from agent.record.log import RunLog
from agent.record.secrets import SecretMasker
from agent.run.approvals import ApprovalRequest, Approver, LatestFrame
from agent.run.checks import CheckResult, evaluate_check
from agent.stop import StopToken
from agent.taskfile.items import AiStep as AiStepModel
from agent.taskfile.items import (
    ClickStep,
    DoubleClickStep,
    DragStep,
    LaunchStep,
    RunStep,
    Step,
    WaitForSpec,
    WaitForStep,
    WriteFileStep,
    step_to_action,
)
from agent.taskfile.task import LoadedTask, Task

EXIT_SUCCESS, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_STOPPED, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4
# The same action this many times with no change on the screen: a model is stuck.
MODEL_REPEAT_LIMIT = 3


@dataclass(frozen=True)
class RunResult:
    status: str  # success | failed | stopped | bad_input | environment_error
    exit_code: int
    reason: str
    run_folder: Path
    steps: int
    seconds: float
    checks: tuple[CheckResult, ...] = field(default=())
    spent: Spent = field(default_factory=Spent)
    declared: str | None = None  # what the agent said at the end: done, fail, or nothing


def guard_rules(task: Task, profile: Profile) -> GuardRules:
    """The task file's `guard:` when it has one, else the profile's, else the defaults."""
    if "guard" in task.model_fields_set or profile.guard is None:
        return task.guard
    return profile.guard


def condition_of(spec: WaitForSpec, locator: Locator | None) -> Condition:
    if spec.window is not None and spec.gone:
        return WindowGone(spec.window)
    if spec.window is not None:
        return WindowAppears(spec.window, focused=spec.focused)
    if spec.file is not None:
        return FileExists(spec.file)
    if locator is None:
        raise UnsupportedError("wait_for a target needs a screen to look at")
    return TargetAppears(spec.target(), locator)


def run_setup_command(
    command: str, timeout: float, environment: Mapping[str, str], workdir: Path
) -> None:
    """A setup `run:`: a shell command in the task's workdir that must succeed."""
    try:
        result = subprocess.run(
            command,
            shell=True,
            cwd=workdir,
            env=dict(environment),
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(
            f"setup run {command!r} did not finish within {timeout:g}s"
        ) from None
    if result.returncode != 0:
        output = result.stderr.decode("utf-8", "replace").strip()[-500:]
        raise EnvironmentProblem(
            f"setup run {command!r} exited with {result.returncode}"
            + (f": {output}" if output else "")
        )


def scripted_steps(steps: Sequence[Step], locator: Locator | None = None) -> list[ScriptedStep]:
    """A task's steps as the scripted policy runs them."""
    scripted: list[ScriptedStep] = []
    for number, step in enumerate(steps, start=1):
        if isinstance(step, AiStepModel):
            scripted.append(AiStep(step.ai))
        elif isinstance(step, WaitForStep):
            condition = condition_of(step.wait_for, locator)
            scripted.append(WaitStep(condition, step.wait_for.timeout))
        elif isinstance(step, ClickStep | DoubleClickStep) and step_to_action(step) is None:
            spec = step.click if isinstance(step, ClickStep) else step.double_click
            scripted.append(ClickOn(spec.target(), spec.button, spec.count, spec.timeout))
        elif isinstance(step, DragStep) and step.drag.start and step.drag.end:
            drag, start, end = step.drag, step.drag.start, step.drag.end
            scripted.append(DragBetween(start.target(), end.target(), drag.button, drag.timeout))
        else:
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
        profile: Profile | None = None,
        model_environ: Mapping[str, str] | None = None,
        replay: Path | None = None,
        injection: InjectionWindow | None = None,
        excluded: ExcludedRegions | None = None,
        approver: Approver | None = None,
        oracle: Sequence[Step] | None = None,
    ) -> None:
        self.oracle = loaded.task.oracle if oracle is None else oracle  # for --policy oracle
        self.approver = approver  # None: the task file answers what needs the boss
        self.replay = replay
        self.injection = injection  # shared with a BossWatcher, which then knows our input
        self.excluded = excluded  # Shain's own windows: masked in captures, never clicked
        self.loaded = loaded
        self.monitor = monitor
        self.profile = profile or Profile(policy="scripted")
        self.model_environ = model_environ
        self.environment = dict(environment)
        self.workdir = workdir
        self.stop = stop or StopToken()
        task = loaded.task
        self.log = RunLog.create(
            runs_dir, task.name, {"task_file": str(loaded.path), "workdir": str(workdir)}
        )
        self._seen = LatestFrame()  # the screen an approval request shows
        self.bus = EventBus([self.log, *sinks, self._seen], SecretMasker(loaded.secret_values))
        self.checks: list[CheckResult] = []
        # Finds things by what they are (`click: {text: Save}`), on the desktop once it is open.
        self._desktop: LocalDesktop | None = None
        self.locator, self._screen_elements = screen_locator(
            self.environment, self._capture, default_text_reader()
        )
        self.spent = Spent()
        self._started = time.monotonic()

    @property
    def run_folder(self) -> Path:
        return self.log.folder

    def run(self) -> RunResult:
        launcher = AppLauncher(self.environment)
        outcome = Outcome("failed", "did not start", 0)
        try:
            policy, limits = self._policy()
            display = self.environment.get("DISPLAY")
            with LocalDesktop(
                monitor=self.monitor,
                display=display,
                injection=self.injection,
                excluded=self.excluded,
            ) as desktop:
                self._desktop = desktop
                task = self.loaded.task
                self.bus.emit(
                    RunStarted(
                        self.log.run_id,
                        task.name,
                        task.goal,
                        self._policy_label(),
                        desktop.size,
                        str(self.workdir),
                    )
                )
                self._setup(launcher, desktop)
                budget = task.budget
                runner = Runner(
                    desktop,
                    policy,
                    self.bus,
                    self.stop,
                    budget=Budget(
                        budget.max_steps,
                        budget.max_seconds,
                        budget.max_tokens,
                        budget.max_cost_usd,
                    ),
                    limits=limits,
                    guard=RuleGuard(guard_rules(task, self.profile)),
                    approve=self._approve_action,
                )
                self.spent = runner.spent
                outcome = runner.run()
                if outcome.status in ("done", "failed"):
                    self._evaluate_checks()
            return self._finish(*self._verdict(outcome), outcome.steps, outcome.declared)
        except AgentError as error:
            status = "bad_input" if error.exit_code == EXIT_BAD_INPUT else "environment_error"
            return self._finish(status, error.exit_code, str(error), outcome.steps)
        except Exception as error:
            # A bug: the log still gets its ending, then the error goes on to the command.
            reason = f"internal error: {type(error).__name__}: {error}"
            self._finish("crashed", EXIT_FAILED, reason, outcome.steps)
            raise
        finally:
            self._desktop = None
            self._screen_elements.close()
            launcher.close_all()
            self.log.close()

    def _capture(self) -> Frame:
        if self._desktop is None:
            raise UnsupportedError("the screen is not open yet")
        return self._desktop.capture()

    def _policy_label(self) -> str:
        if self.replay is not None:
            return f"replay ({self.replay.name})"
        if self.profile.policy in MODEL_POLICIES:
            return f"{self.profile.policy} ({self.profile.model_name})"
        return self.profile.policy

    def _policy(self) -> tuple[Policy, Limits]:
        """The policy that drives this task, and when to give up on it."""
        task = self.loaded.task
        if self.replay is not None:
            return ReplayPolicy(self.replay), Limits()
        if self.profile.policy == "do-nothing":
            return DoNothingPolicy(), Limits()
        if self.profile.policy == "oracle":
            if not self.oracle:
                raise UnsupportedError(f"--policy oracle: the task {task.name!r} has no oracle")
            display = self.environment.get("DISPLAY")
            steps = scripted_steps(self.oracle, self.locator)
            return ScriptedPolicy(steps, self.stop, display, locator=self.locator), Limits()
        steps = scripted_steps(task.steps, self.locator)
        needs_model = not steps or any(isinstance(step, AiStep) for step in steps)
        if needs_model and self.profile.policy not in MODEL_POLICIES:
            what = "a goal but no steps" if not steps else "`ai:` steps"
            raise UnsupportedError(
                f"this task has {what}: it needs a model policy. Choose one with --policy "
                "(openai-chat, openai-cua, ui-tars, qwen-vl) or a --profile from the config"
            )
        if not needs_model:
            self.profile = Profile(policy="scripted")  # a model is not used: say so in the log
            display = self.environment.get("DISPLAY")
            return ScriptedPolicy(steps, self.stop, display, locator=self.locator), Limits()
        client = ModelClient(
            self.profile, self.stop, environ=self.model_environ, on_retry=self._retried
        )
        self.bus.masker.add(client.api_key)
        limits = Limits(bad_replies=self.profile.max_bad_replies, repeats=MODEL_REPEAT_LIMIT)
        if not steps:
            assert task.goal is not None
            return (
                model_policy(self.profile, task.goal, client, self._approve, self._screen_elements),
                limits,
            )
        display = self.environment.get("DISPLAY")

        def model_for(goal: str) -> Policy:
            return model_policy(self.profile, goal, client, self._approve, self._screen_elements)

        return ScriptedPolicy(steps, self.stop, display, model_for, self.locator), limits

    def _answer(self, reason: str, step: int | None = None, action: Action | None = None) -> bool:
        """The boss answers through the approver; headless, the task file (deny by default)."""
        self.bus.emit(ApprovalRequested(reason, step, action))
        if self.approver is not None:
            approved = self.approver(ApprovalRequest(reason, step, action, self._seen.frame))
            by = "boss"
        else:
            approved, by = self.loaded.task.approvals == "approve", "task file"
        self.bus.emit(ApprovalAnswered(approved, by))
        return approved

    def _approve_action(self, step: int, action: Action, reason: str) -> bool:
        return self._answer(reason, step, action)

    def _approve(self, checks: tuple[SafetyCheck, ...]) -> bool:
        reason = "; ".join(f"{check.code}: {check.message}" for check in checks)
        return self._answer(f"the model raised safety checks: {reason}")

    def _retried(self, notice: RetryNotice) -> None:
        self.bus.emit(ModelRetried(notice.attempt, notice.reason, notice.wait_seconds))

    def _setup(self, launcher: AppLauncher, desktop: LocalDesktop) -> None:
        if not self.loaded.task.setup:
            return
        for item in self.loaded.task.setup:
            before = time.monotonic()
            match item:
                case LaunchStep(launch=spec):
                    launcher.launch(spec.command, cwd=spec.cwd, env=spec.env)
                    description = f"launch {spec.command}"
                case RunStep(run=spec):
                    run_setup_command(spec.command, spec.timeout, self.environment, self.workdir)
                    description = f"run {spec.command}"
                case WriteFileStep(write_file=spec):
                    path = self.workdir / spec.path  # an absolute path stays as it is
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(spec.text, encoding="utf-8")
                    description = f"write_file {path}"
                case WaitForStep(wait_for=spec):
                    condition = condition_of(spec, self.locator)
                    wait_for(condition, spec.timeout, self.stop, self.environment["DISPLAY"])
                    description = f"wait_for {condition.describe()}"
            self.bus.emit(SetupDone(description, time.monotonic() - before))
        # A window's title shows before the app has drawn and taken the focus: let the
        # screen come to rest before the first step acts on it.
        settle = wait_until_settled(desktop.capture, fingerprint(desktop.capture()), self.stop)
        self.bus.emit(SetupDone("screen at rest", settle.seconds))

    def _evaluate_checks(self) -> None:
        for check in self.loaded.task.checks:
            result = evaluate_check(check, self.environment, self.locator)
            self.checks.append(result)
            self.bus.emit(CheckEvaluated(result.description, result.passed, result.detail))

    def _verdict(self, outcome: Outcome) -> tuple[str, int, str]:
        expect_fail = self.loaded.task.expect == "fail"
        match outcome.status:
            case "stopped" | "budget":
                return "stopped", EXIT_STOPPED, outcome.reason
            case "failed" if not (expect_fail and outcome.declared == "fail"):
                return "failed", EXIT_FAILED, outcome.reason
            case "done" if expect_fail:
                return (
                    "failed",
                    EXIT_FAILED,
                    f"the task cannot be done, yet the agent said done: {outcome.reason}",
                )
        failed = [check for check in self.checks if not check.passed]
        if failed:
            names = "; ".join(f"{c.description}: {c.detail}" for c in failed)
            count = f"{len(failed)} of {len(self.checks)} checks failed"
            return "failed", EXIT_FAILED, f"{count}: {names}"
        return "success", EXIT_SUCCESS, f"{outcome.reason}; {len(self.checks)} checks hold"

    def _finish(
        self, status: str, exit_code: int, reason: str, steps: int, declared: str | None = None
    ) -> RunResult:
        seconds = time.monotonic() - self._started
        reason = self.bus.masker.mask_text(reason)
        spent = self.spent
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
