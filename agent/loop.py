"""The runner: observe, decide, act, settle, until done, failed, stopped or out of budget."""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from agent.actions import Action, AskBoss, Done, Fail, describe_action
from agent.desktop.protocol import Desktop
from agent.desktop.settle import Fingerprint, SettlePolicy, fingerprint, wait_until_settled
from agent.errors import (
    ActionError,
    BudgetExceeded,
    DesktopError,
    ModelOutputError,
    ScreenGone,
    Stopped,
)
from agent.guard import Guard, RuleGuard
from agent.policy.protocol import Decision, Observation, Policy, StepRecord
from agent.record.events import (
    ActionExecuted,
    ActionFailed,
    ActionRejected,
    Decided,
    EventBus,
    Observed,
    QuestionAnswered,
    QuestionAsked,
    ReplyRejected,
    StepStarted,
)
from agent.stop import StopToken

# Asked by the runner when the guard holds an action: (step, action, reason) -> approved?
ActionApprover = Callable[[int, Action, str], bool]
# Asked by the runner when the model asks the boss: (step, question) -> the answer, or None
# when no boss can answer (a headless run).
BossQuestion = Callable[[int, str], str | None]


def _deny(step: int, action: Action, reason: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Budget:
    max_steps: int = 50
    max_seconds: float = 600.0
    max_tokens: int | None = None
    max_cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """When a run stops making sense: failures in a row, bad replies, the same thing again."""

    failed_actions: int = 3
    bad_replies: int = 3
    repeats: int | None = None  # the same action N times with no screen change (None: off)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Literal["done", "failed", "stopped", "budget"]
    reason: str
    steps: int
    # What the agent itself said: `done` or `fail`; None when the run ended for it.
    declared: Literal["done", "fail"] | None = None


@dataclass
class Spent:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class _Streaks:
    failed_actions: int = 0
    bad_replies: int = 0
    repeats: int = 0
    last_action: Action | None = None
    last_error: str = ""
    history: list[StepRecord] = field(default_factory=list)


class Runner:
    """Runs one policy on one desktop. Every step is announced on the bus."""

    def __init__(
        self,
        desktop: Desktop,
        policy: Policy,
        bus: EventBus,
        stop: StopToken,
        *,
        budget: Budget = Budget(),
        settle: SettlePolicy = SettlePolicy(),
        limits: Limits = Limits(),
        guard: Guard | None = None,
        approve: ActionApprover | None = None,
        ask_boss: BossQuestion | None = None,
        notes: queue.SimpleQueue[str] | None = None,
    ) -> None:
        self.desktop = desktop
        self.policy = policy
        self.bus = bus
        self.stop = stop
        self.budget = budget
        self.settle = settle
        self.limits = limits
        self.guard = guard or RuleGuard()
        self.approve = approve or _deny
        self.ask_boss = ask_boss
        self.spent = Spent()
        self._streaks = _Streaks()
        # What the boss did meanwhile (took the screen over and handed it back), put here
        # from any thread: the policy is told at its next step, and a decision made before
        # it is not carried out on a screen that has changed hands.
        self._notes: queue.SimpleQueue[str] = notes if notes is not None else queue.SimpleQueue()

    @property
    def history(self) -> list[StepRecord]:
        return self._streaks.history

    def run(self) -> Outcome:
        started = time.monotonic()
        step = 0
        try:
            while True:
                self.stop.wait_while_paused()
                self._check_budget(step, time.monotonic() - started)
                step += 1
                final = self._step(step)
                if final is not None:
                    return final
        except Stopped as stopped:
            return Outcome("stopped", str(stopped) or "stopped", step)
        except BudgetExceeded as exceeded:
            return Outcome("budget", str(exceeded), step)
        except ScreenGone as gone:
            # The run ends as an environment error that says when; its log keeps the steps.
            raise ScreenGone(f"the screen went away at step {step}: {gone}", step) from gone
        finally:
            with contextlib.suppress(Exception):  # on a screen that went away, nothing to release
                self.desktop.release_held_keys()

    def _check_budget(self, steps: int, seconds: float) -> None:
        budget = self.budget
        if steps >= budget.max_steps:
            raise BudgetExceeded(f"step budget of {budget.max_steps} used up")
        if seconds > budget.max_seconds:
            raise BudgetExceeded(f"time budget of {budget.max_seconds:g}s used up")
        if budget.max_tokens is not None and self.spent.tokens >= budget.max_tokens:
            raise BudgetExceeded(f"token budget of {budget.max_tokens} used up")
        if budget.max_cost_usd is not None and self.spent.cost_usd >= budget.max_cost_usd:
            raise BudgetExceeded(f"cost budget of ${budget.max_cost_usd:g} used up")

    def _step(self, step: int) -> Outcome | None:
        """One step: a final outcome, or None to go on."""
        while not self._notes.empty():
            self.history.append(StepRecord(step - 1, (), "", note=self._notes.get()))
        self.bus.emit(StepStarted(step))
        before = time.monotonic()
        frame = self.desktop.capture()
        self.bus.emit(Observed(step, frame, frame.captured_at - before))
        decision = self._decide(step, Observation(step, frame, self.desktop.size))
        if decision is None:
            return self._give_up_on_replies(step)
        reference = fingerprint(frame)
        for action in decision.actions:
            match action:
                case Done(summary=summary):
                    return Outcome("done", summary or "done", step, declared="done")
                case Fail(reason=reason):
                    return Outcome("failed", reason, step, declared="fail")
                case AskBoss(question=question):
                    if self.ask_boss is None:
                        # No boss is watching a headless run: asking means it cannot go on.
                        return Outcome("failed", f"needs the boss: {question}", step)
                    self.bus.emit(QuestionAsked(step, question))
                    answer = self.ask_boss(step, question)
                    if answer is None:
                        self.stop.raise_if_stopped()
                        return Outcome("failed", f"the boss did not answer: {question}", step)
                    self.bus.emit(QuestionAnswered(step, answer, "boss"))
                    note = f"You asked the boss: {question!r}. The boss answered: {answer!r}"
                    self.history.append(
                        StepRecord(step, decision.actions, decision.thought, note=note)
                    )
                    return None
            self.stop.wait_while_paused()
            if not self._notes.empty():
                undone = "not carried out: the boss took over the screen after it was decided"
                self.history.append(StepRecord(step, decision.actions, decision.thought, undone))
                return None
            refusal = self._guarded(step, action)
            if refusal is not None:
                self.history.append(StepRecord(step, decision.actions, decision.thought, refusal))
                return self._give_up_on_actions(step)
            with self.stop.acting():  # a take-over waits for the action and its settle
                error, changed = self._act(step, action, reference)
            if error is not None:
                self.history.append(StepRecord(step, decision.actions, decision.thought, error))
                return self._give_up_on_actions(step)
            repeated = self._note_repeat(action, changed)
            if repeated is not None:
                return Outcome("failed", repeated, step)
            reference = fingerprint(self.desktop.capture())
        self._streaks.failed_actions = 0
        self.history.append(StepRecord(step, decision.actions, decision.thought))
        return None

    def _decide(self, step: int, observation: Observation) -> Decision | None:
        before = time.monotonic()
        try:
            decision = self.policy.decide(observation, tuple(self.history))
        except ModelOutputError as error:
            seconds = time.monotonic() - before
            self.bus.emit(ReplyRejected(step, str(error), seconds))
            self.history.append(StepRecord(step, (), "", f"reply rejected: {error}"))
            self._streaks.bad_replies += 1
            self._streaks.last_error = str(error)
            return None
        self._streaks.bad_replies = 0
        usage = decision.usage
        self.spent.input_tokens += usage.input_tokens
        self.spent.output_tokens += usage.output_tokens
        self.spent.cost_usd += usage.cost_usd
        self.bus.emit(
            Decided(
                step,
                decision.actions,
                decision.thought,
                time.monotonic() - before,
                usage.input_tokens,
                usage.output_tokens,
                usage.cost_usd,
                decision.raw_reply,
            )
        )
        return decision

    def _guarded(self, step: int, action: Action) -> str | None:
        """Why the action may not run (rejected, or not approved), or None to run it."""
        verdict = self.guard.check(action)
        match verdict.outcome:
            case "allow":
                return None
            case "reject":
                self.bus.emit(ActionRejected(step, action, verdict.reason))
                refusal = f"{describe_action(action)} was rejected: {verdict.reason}"
            case "ask":
                if self.approve(step, action, verdict.reason):
                    return None
                refusal = f"the boss did not approve {describe_action(action)}: {verdict.reason}"
        self._streaks.failed_actions += 1
        self._streaks.last_error = refusal
        return refusal

    def _act(self, step: int, action: Action, reference: Fingerprint) -> tuple[str | None, bool]:
        """Execute and settle; returns (error, whether the screen changed)."""
        before = time.monotonic()
        try:
            self.desktop.execute(action, self.stop)
        except (ActionError, DesktopError) as problem:
            message = f"{describe_action(action)}: {problem}"
            self.bus.emit(ActionFailed(step, action, message))
            self._streaks.failed_actions += 1
            self._streaks.last_error = message
            return message, False
        acted = time.monotonic() - before
        settled = wait_until_settled(self.desktop.capture, reference, self.stop, self.settle)
        self.bus.emit(
            ActionExecuted(step, action, acted, settled.seconds, settled.settled, settled.changed)
        )
        return None, settled.changed

    def _note_repeat(self, action: Action, changed: bool) -> str | None:
        streaks = self._streaks
        if changed or action != streaks.last_action:
            streaks.repeats = 0 if changed else 1
        else:
            streaks.repeats += 1
        streaks.last_action = action
        limit = self.limits.repeats
        if limit is not None and streaks.repeats >= limit:
            return (
                f"{describe_action(action)} repeated {limit} times with no change on the "
                "screen: the agent is stuck"
            )
        return None

    def _give_up_on_replies(self, step: int) -> Outcome | None:
        streaks = self._streaks
        if streaks.bad_replies >= self.limits.bad_replies:
            reason = f"{streaks.bad_replies} unusable model replies in a row"
            return Outcome("failed", f"{reason}; last: {streaks.last_error}", step)
        return None

    def _give_up_on_actions(self, step: int) -> Outcome | None:
        streaks = self._streaks
        if streaks.failed_actions >= self.limits.failed_actions:
            return Outcome(
                "failed",
                f"{streaks.failed_actions} failed actions in a row: {streaks.last_error}",
                step,
            )
        return None
