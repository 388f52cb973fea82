"""Events and actions as lines of text: what a terminal shows while a run goes (the console
sink) and what `shain show` prints afterwards are the same lines, from `describe_event`."""

from __future__ import annotations

import json

from agent.actions import describe_action
from agent.record.deciders import Healed, describe_decider
from agent.record.events import (
    ActionExecuted,
    ActionFailed,
    ActionRejected,
    ApprovalAnswered,
    ApprovalRequested,
    CheckEvaluated,
    Decided,
    HandedBack,
    LoggedAction,
    LoggedEvent,
    ModelRetried,
    Paused,
    QuestionAnswered,
    QuestionAsked,
    RepairProposed,
    ReplyRejected,
    Resumed,
    RunStarted,
    SetupDone,
    TakenOver,
    UnreadableAction,
)

# Events that are not a step's own but may happen during one: notes on it.
Note = (
    ModelRetried
    | ApprovalRequested
    | ApprovalAnswered
    | QuestionAsked
    | QuestionAnswered
    | Paused
    | Resumed
    | TakenOver
    | HandedBack
)


def describe_logged(action: LoggedAction) -> str:
    """`click left (400, 300)`; an action that no longer parses as it was logged."""
    if isinstance(action, UnreadableAction):
        return "unreadable action " + json.dumps(action.data, ensure_ascii=False, default=str)
    return describe_action(action)


def describe_event(event: LoggedEvent) -> str | None:
    """The line for an event, or None for one that says nothing on its own (a step starting,
    a screenshot, a decision: the actions that follow say it, but for the model doing a step
    of the script in its place). The end of a run has none: each command sums it up in its own
    way."""
    match event:
        case Decided(step=step, by=Healed() as stood_in, actions=actions) if actions:
            return f"  step {step:>4} {describe_decider(stood_in)}"
        case RunStarted(task_name=name, screen=screen, run_id=run_id):
            return f"run {run_id}: task {name!r} on a {screen} screen"
        case SetupDone(description=description, seconds=seconds):
            return f"  setup     {description} ({seconds:.2f}s)"
        case ActionExecuted(step=step, action=action, action_seconds=acted, settled=settled):
            unsettled = "" if settled else " (did not settle)"
            return (
                f"  step {step:>4} {describe_logged(action):<48} "
                f"act {acted:.3f}s settle {event.settle_seconds:.2f}s{unsettled}"
            )
        case ActionFailed(step=step, error=error):
            return f"  step {step:>4} FAILED {error}"
        case ActionRejected(step=step, action=action, reason=reason):
            return f"  step {step:>4} REJECTED {describe_logged(action)}: {reason}"
        case ReplyRejected(step=step, error=error):
            return f"  step {step:>4} unusable model reply: {error}"
        case ModelRetried(attempt=attempt, reason=reason):
            return f"  model     retry {attempt}: {reason}"
        case ApprovalRequested(reason=reason):
            return f"  needs approval: {reason}"
        case ApprovalAnswered(approved=approved, by=by):
            return f"  {'approved' if approved else 'denied'} by the {by}"
        case CheckEvaluated(description=description, passed=passed, detail=detail):
            mark = "ok  " if passed else "FAIL"
            return f"  check {mark} {description} {detail}".rstrip()
        case RepairProposed(path=path, steps=steps):
            healed = ", ".join(map(str, steps))
            return f"  heal      step {healed} done by the model; repaired file proposed: {path}"
        case (
            QuestionAsked() | QuestionAnswered() | Paused() | Resumed() | TakenOver() | HandedBack()
        ):
            return f"  boss      {describe_note(event)}"
        case _:
            return None


def describe_note(note: Note) -> str:
    """A retry or an approval as a note on the step it happened in."""
    match note:
        case ModelRetried(attempt=attempt, reason=reason, wait_seconds=wait):
            return f"model retried (attempt {attempt}, waited {wait:.1f}s): {reason}"
        case ApprovalRequested(reason=reason):
            return f"approval requested: {reason}"
        case ApprovalAnswered(approved=approved, by=by):
            return f"{'approved' if approved else 'denied'} by {by or 'someone'}"
        case QuestionAsked(question=question):
            return f"asked the boss: {question}"
        case QuestionAnswered(answer=answer, by=by):
            return f"answered by the {by or 'boss'}: {answer}"
        case Paused(reason=reason):
            return f"paused: {reason}"
        case Resumed():
            return "resumed"
        case TakenOver(by=by):
            return f"taken over by the {by or 'boss'}"
        case HandedBack(seconds=seconds):
            return f"handed back after {seconds:.1f}s"
