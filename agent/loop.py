"""The runner: observe, decide, act, settle, until done, failed, stopped or out of budget."""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from agent.actions import Action, AskBoss, Click, Done, Fail, Wait, describe_action
from agent.desktop.current_frame import CurrentFrame
from agent.desktop.protocol import Desktop, Frame
from agent.desktop.settle import Fingerprint, SettlePolicy, fingerprint, wait_until_settled
from agent.errors import (
    ActionError,
    BudgetExceeded,
    DesktopError,
    ModelOutputError,
    ScreenGone,
    Stopped,
)
from agent.geometry import Point
from agent.guard import Guard, RuleGuard
from agent.perception.pointed import ClickWitness, PointedElement, PointedWindow
from agent.policy.protocol import Decision, Observation, Policy, StepRecord
from agent.record.events import (
    ActionContext,
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
from agent.secret_places import SecretKeeper
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
    # Waiting (or only looking) this long with no change on the screen (None: off). Waiting
    # is bounded by time, not by repeats: a model that waits for a slow app is not stuck.
    idle_seconds: float | None = None


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
    idle_print: Fingerprint | None = None  # the screen since the model began only watching
    idle_since: float = 0.0
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
        secrets: SecretKeeper | None = None,
        witness: ClickWitness | None = None,
    ) -> None:
        self.desktop = desktop
        self._screen_now = CurrentFrame(desktop)
        self.policy = policy
        self.bus = bus
        self.stop = stop
        self.budget = budget
        self.settle = settle
        self.limits = limits
        self.guard = guard or RuleGuard()
        self.approve = approve or _deny
        self.ask_boss = ask_boss
        # Puts secrets' values into the actions that carry their placeholders, and paints
        # them over on frames (its guard is in `guard`).
        self.secrets = secrets
        # Looks at what each click points at, for `shain learn` (ActionContext events).
        self.witness = witness
        self.spent = Spent()
        self.step = 0  # the step under way (or the last one): what a fault is reported at
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
                self.step = step
                final = self._step(step)
                if final is not None:
                    return final
        except Stopped as stopped:
            return Outcome("stopped", str(stopped) or "stopped", step)
        except BudgetExceeded as exceeded:
            return Outcome("budget", str(exceeded), step)
        except ScreenGone as gone:
            # The run ends as an environment error that says when; its log keeps the steps.
            raise ScreenGone(f"the screen went away at step {step}: {gone}") from gone
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
        frame = self._screen_now()
        if self.secrets is not None:
            frame = self.secrets.censor(frame)  # before the model or the log sees it
        self.bus.emit(Observed(step, frame, frame.captured_at - before))
        decision = self._decide(step, Observation(step, frame, self.desktop.size))
        if decision is None:
            return self._give_up_on_replies(step)
        idle = self._note_idle(decision, frame)
        if idle is not None:
            return Outcome("failed", idle, step)
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
            reference = fingerprint(self._screen_now())
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
                decision.by,
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
        pointed = self._pointed(action)  # before the press: a button may go with it
        drawing = self.desktop.drawing
        if drawing is not None:
            drawing.forget()  # what was drawn before the action is not its effect
        before = time.monotonic()
        try:
            executed = action if self.secrets is None else self.secrets.resolve(action)
            self.desktop.execute(executed, self.stop)
        except (ActionError, DesktopError) as problem:
            message = f"{describe_action(action)}: {problem}"
            self.bus.emit(ActionFailed(step, action, message))
            self._streaks.failed_actions += 1
            self._streaks.last_error = message
            return message, False
        acted = time.monotonic() - before
        settled = wait_until_settled(
            self._screen_now, reference, self.stop, self.settle, drawing, action
        )
        if self.secrets is not None:
            self.secrets.settled()
        self.bus.emit(
            ActionExecuted(step, action, acted, settled.seconds, settled.settled, settled.changed)
        )
        self._witnessed(step, pointed)
        return None, settled.changed

    def _pointed(self, action: Action) -> tuple[PointedWindow, PointedElement | None] | None:
        if self.witness is None or not isinstance(action, Click):
            return None
        try:
            return self.witness.pointed(Point(action.x, action.y))
        except Exception:  # a record for learning: not seeing it never fails the run
            return None

    def _witnessed(
        self, step: int, pointed: tuple[PointedWindow, PointedElement | None] | None
    ) -> None:
        if self.witness is None:
            return
        try:
            titles, focused = self.witness.windows()
        except Exception:  # as in _pointed
            titles, focused = (), ""
        window, element = pointed or (PointedWindow("", None), None)
        self.bus.emit(ActionContext(step, window.title, window.box, element, titles, focused))

    def _note_idle(self, decision: Decision, frame: Frame) -> str | None:
        """Why a model that only waits (or looks) on an unchanging screen is stuck, or None."""
        streaks = self._streaks
        if any(not isinstance(action, Wait) for action in decision.actions):
            streaks.idle_print = None  # it acts (or ends): the repeats rule watches that
            return None
        now, current = time.monotonic(), fingerprint(frame)
        if streaks.idle_print is None or not np.array_equal(current, streaks.idle_print):
            streaks.idle_print, streaks.idle_since = current.copy(), now
            return None
        idle, limit = now - streaks.idle_since, self.limits.idle_seconds
        if limit is not None and idle >= limit:
            return f"waited {idle:.0f}s with no change on the screen: the agent is stuck"
        return None

    def _note_repeat(self, action: Action, changed: bool) -> str | None:
        streaks = self._streaks
        if isinstance(action, Wait):
            return None  # waiting is bounded by time (_note_idle), not by repeats
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
