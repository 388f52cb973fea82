"""Events to JSON and back: the one place that knows how a run log spells an event.

    {"kind": "action_executed", "step": 3, "action": {"kind": "click", "x": 400, ...}, ...}

Writing is `encode_event`; reading is `decode_event`, which gives back the same dataclasses
that were written: actions through `parse_action`, sizes as `Size`, statuses as `RunStatus`.
Reading never fails on what a newer version (or a damaged file) wrote:

- a kind this version does not know, or a line whose fields do not fit, reads as an
  `UnknownEvent` holding the line as it was. A field does not fit when it has the wrong type,
  or is missing and is what makes the event what it is (its step, the actions it is about, a
  run's status, a check's verdict); other fields may be missing and read as empty: "" for a
  text, 0 for a number, a time or a duration;
- an action that no longer parses reads as an `UnreadableAction` holding it as it was;
- fields this version does not know are left out: the rest of the event is still of use.

A frame is never inline: `Observed` is written with the frame's file name (the run log writes
the file), and read back with that name and no frame.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Mapping
from typing import Any

from agent.actions import Action, action_to_dict, parse_action
from agent.errors import ActionError
from agent.geometry import Box, Size
from agent.perception.pointed import PointedElement
from agent.record.deciders import MODEL, SCRIPT, ByModel, ByScript, Decider, Healed, Unmet
from agent.record.events import (
    ActionContext,
    ActionExecuted,
    ActionFailed,
    ActionRejected,
    ApprovalAnswered,
    ApprovalRequested,
    CheckEvaluated,
    Decided,
    Event,
    HandedBack,
    LoggedAction,
    LoggedEvent,
    ModelRetried,
    Observed,
    Paused,
    QuestionAnswered,
    QuestionAsked,
    RepairProposed,
    ReplyRejected,
    Resumed,
    RunFinished,
    RunStarted,
    SetupDone,
    StepStarted,
    TakenOver,
    UnknownEvent,
    UnreadableAction,
)
from agent.record.status import RunStatus

SCHEMA = "shain.runlog"
SCHEMA_VERSION = 1


# ---- writing


def encode_action(action: LoggedAction) -> Any:
    """An action's JSON form, `kind` first; an unreadable one as it was logged."""
    if isinstance(action, UnreadableAction):
        return action.data
    return _jsonable(action_to_dict(action))


def encode_event(event: LoggedEvent) -> dict[str, Any]:
    """An event as one JSON object: `kind`, then its fields in order."""
    if isinstance(event, UnknownEvent):
        return dict(event.data)
    data: dict[str, Any] = {"kind": event.kind}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        match field.name:
            case "frame_file":
                continue  # written as `frame`, in the frame's place
            case "by" if value is None:
                continue  # a log from before deciders were kept: written back as it was
            case "frame" if isinstance(event, Observed):
                data["frame"] = event.frame_file
            case _:
                data[field.name] = _jsonable(value)
    return data


def _jsonable(value: Any) -> Any:
    match value:
        case enum.Enum():
            return value.value
        case Size(width=width, height=height):
            return {"width": width, "height": height}
        case Box() | PointedElement():
            return {name: _jsonable(getattr(value, name)) for name in value.__slots__}
        case ByScript() | ByModel() | Healed():
            fields = {name: _jsonable(getattr(value, name)) for name in value.__slots__}
            return {"kind": value.kind, **fields}
        case UnreadableAction(data=data):
            return data
        case list() | tuple():
            return [_jsonable(item) for item in value]
        case dict():
            return {str(key): _jsonable(item) for key, item in value.items()}
        case _ if isinstance(value, Action):
            return encode_action(value)
        case _:
            return value


# ---- reading


def json_object(line: str | bytes) -> dict[str, Any] | None:
    """One line's JSON object; None for a line a crash tore mid-write, or any other line that
    is not a JSON object."""
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def is_header(data: Mapping[str, Any]) -> bool:
    """Whether a log's first line is its header (schema and version), not an event."""
    return data.get("schema") == SCHEMA


def decode_event(data: Mapping[str, Any]) -> LoggedEvent:
    """The event a JSON object holds; an `UnknownEvent` when it is none this version knows."""
    kind = data.get("kind")
    read = _READERS.get(kind) if isinstance(kind, str) else None
    if read is None:
        return UnknownEvent(str(kind or ""), dict(data))
    try:
        return read(_Fields(data))
    except _Misfit:
        return UnknownEvent(str(kind), dict(data))


def decode_action(data: Any) -> LoggedAction:
    try:
        return parse_action(data)
    except ActionError as error:
        return UnreadableAction(data, str(error))


class _Misfit(Exception):
    """A field is missing, or not of its type."""


class _Fields:
    """Typed access to one event's fields; a field that does not fit raises _Misfit. Without a
    default, a field must be there."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def text(self, name: str, default: str | None = None) -> str:
        value = self._data.get(name, default)
        if not isinstance(value, str):
            raise _Misfit(name)
        return value

    def optional_text(self, name: str) -> str | None:
        value = self._data.get(name)
        return None if value is None else self.text(name)

    def integer(self, name: str, default: int | None = None) -> int:
        value = self._data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Misfit(name)
        return value

    def optional_integer(self, name: str) -> int | None:
        return None if self._data.get(name) is None else self.integer(name)

    def number(self, name: str, default: float | None = None) -> float:
        """A float as logged (a whole number stays an int, so it is written back the same)."""
        value = self._data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Misfit(name)
        return value

    def flag(self, name: str) -> bool:
        value = self._data.get(name)
        if not isinstance(value, bool):
            raise _Misfit(name)
        return value

    def size(self, name: str) -> Size:
        value = self._data.get(name, {"width": 0, "height": 0})
        if not isinstance(value, dict):
            raise _Misfit(name)
        size = _Fields(value)
        return Size(size.integer("width"), size.integer("height"))

    def box(self, name: str) -> Box | None:
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _Misfit(name)
        box = _Fields(value)
        return Box(box.integer("left"), box.integer("top"), box.integer("width"),
                   box.integer("height"))  # fmt: skip

    def element(self, name: str) -> PointedElement | None:
        value = self._data.get(name)
        if value is None:
            return None
        element = _Fields(value) if isinstance(value, dict) else None
        box = element.box("box") if element is not None else None
        if element is None or box is None:
            raise _Misfit(name)
        return PointedElement(
            element.text("role"), element.text("name"), element.text("window"),
            element.integer("nth"), element.integer("matches"), box,
        )  # fmt: skip

    def decider(self, name: str) -> Decider | None:
        """Who decided; None when the log does not say (an older log) or names a kind this
        version does not know."""
        value = self._data.get(name)
        if value is None:
            return None
        by = _Fields(value) if isinstance(value, dict) else None
        if by is None:
            raise _Misfit(name)
        match by.text("kind", ""):
            case ByScript.kind:
                return SCRIPT
            case ByModel.kind:
                return MODEL
            case Healed.kind:
                try:
                    why = Unmet(by.text("why"))
                except ValueError:
                    raise _Misfit(name) from None
                return Healed(by.integer("step"), by.text("what", ""), why, by.text("detail", ""))
        return None

    def titles(self, name: str) -> tuple[str, ...]:
        value = self._data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Misfit(name)
        return tuple(value)

    def status(self, name: str) -> RunStatus:
        try:
            return RunStatus(self.text(name))
        except ValueError:
            raise _Misfit(name) from None

    def action(self, name: str) -> LoggedAction:
        if name not in self._data:
            raise _Misfit(name)
        return decode_action(self._data[name])

    def optional_action(self, name: str) -> LoggedAction | None:
        return None if self._data.get(name) is None else self.action(name)

    def actions(self, name: str) -> tuple[LoggedAction, ...]:
        value = self._data.get(name)
        if not isinstance(value, list):
            raise _Misfit(name)
        return tuple(decode_action(item) for item in value)


def _run_started(f: _Fields) -> RunStarted:
    return RunStarted(
        f.text("run_id", ""),
        f.text("task_name", ""),
        f.optional_text("goal"),
        f.text("policy", ""),
        f.size("screen"),
        f.text("workdir", ""),
        at=f.number("at", 0.0),
    )


def _setup_done(f: _Fields) -> SetupDone:
    return SetupDone(f.text("description", ""), f.number("seconds", 0.0), at=f.number("at", 0.0))


def _step_started(f: _Fields) -> StepStarted:
    return StepStarted(f.integer("step"), at=f.number("at", 0.0))


def _observed(f: _Fields) -> Observed:
    return Observed(
        f.integer("step"),
        None,
        f.number("capture_seconds", 0.0),
        at=f.number("at", 0.0),
        frame_file=f.optional_text("frame"),
    )


def _decided(f: _Fields) -> Decided:
    return Decided(
        f.integer("step"),
        f.actions("actions"),
        f.text("thought", ""),
        f.number("decide_seconds", 0.0),
        f.integer("input_tokens", 0),
        f.integer("output_tokens", 0),
        f.number("cost_usd", 0.0),
        f.text("raw_reply", ""),
        f.decider("by"),
        at=f.number("at", 0.0),
    )


def _reply_rejected(f: _Fields) -> ReplyRejected:
    return ReplyRejected(
        f.integer("step"),
        f.text("error", ""),
        f.number("decide_seconds", 0.0),
        at=f.number("at", 0.0),
    )


def _model_retried(f: _Fields) -> ModelRetried:
    return ModelRetried(
        f.integer("attempt", 0),
        f.text("reason", ""),
        f.number("wait_seconds", 0.0),
        at=f.number("at", 0.0),
    )


def _approval_requested(f: _Fields) -> ApprovalRequested:
    return ApprovalRequested(
        f.text("reason", ""),
        f.optional_integer("step"),
        f.optional_action("action"),
        at=f.number("at", 0.0),
    )


def _approval_answered(f: _Fields) -> ApprovalAnswered:
    return ApprovalAnswered(f.flag("approved"), f.text("by", ""), at=f.number("at", 0.0))


def _question_asked(f: _Fields) -> QuestionAsked:
    return QuestionAsked(f.integer("step"), f.text("question", ""), at=f.number("at", 0.0))


def _question_answered(f: _Fields) -> QuestionAnswered:
    return QuestionAnswered(
        f.integer("step"), f.text("answer", ""), f.text("by", ""), at=f.number("at", 0.0)
    )


def _paused(f: _Fields) -> Paused:
    return Paused(f.text("reason", ""), at=f.number("at", 0.0))


def _resumed(f: _Fields) -> Resumed:
    return Resumed(at=f.number("at", 0.0))


def _taken_over(f: _Fields) -> TakenOver:
    return TakenOver(f.text("by", ""), at=f.number("at", 0.0))


def _handed_back(f: _Fields) -> HandedBack:
    return HandedBack(f.number("seconds", 0.0), at=f.number("at", 0.0))


def _action_rejected(f: _Fields) -> ActionRejected:
    return ActionRejected(
        f.integer("step"), f.action("action"), f.text("reason", ""), at=f.number("at", 0.0)
    )


def _action_executed(f: _Fields) -> ActionExecuted:
    return ActionExecuted(
        f.integer("step"),
        f.action("action"),
        f.number("action_seconds", 0.0),
        f.number("settle_seconds", 0.0),
        f.flag("settled"),
        f.flag("screen_changed"),
        at=f.number("at", 0.0),
    )


def _action_context(f: _Fields) -> ActionContext:
    return ActionContext(
        f.integer("step"),
        f.text("window", ""),
        f.box("window_box"),
        f.element("element"),
        f.titles("windows"),
        f.text("focused", ""),
        at=f.number("at", 0.0),
    )


def _action_failed(f: _Fields) -> ActionFailed:
    return ActionFailed(
        f.integer("step"), f.action("action"), f.text("error", ""), at=f.number("at", 0.0)
    )


def _check_evaluated(f: _Fields) -> CheckEvaluated:
    return CheckEvaluated(
        f.text("description", ""),
        f.flag("passed"),
        f.text("detail", ""),
        at=f.number("at", 0.0),
    )


def _repair_proposed(f: _Fields) -> RepairProposed:
    steps = f._data.get("steps", [])
    if not isinstance(steps, list) or not all(type(step) is int for step in steps):
        raise _Misfit("steps")
    return RepairProposed(f.text("path"), tuple(steps), f.text("diff", ""), at=f.number("at", 0.0))


def _run_finished(f: _Fields) -> RunFinished:
    return RunFinished(
        f.status("status"),
        f.integer("exit_code"),
        f.text("reason", ""),
        f.integer("steps", 0),
        f.number("seconds", 0.0),
        f.integer("input_tokens", 0),
        f.integer("output_tokens", 0),
        f.number("cost_usd", 0.0),
        at=f.number("at", 0.0),
    )


_READERS: dict[str, Callable[[_Fields], Event]] = {
    RunStarted.kind: _run_started,
    SetupDone.kind: _setup_done,
    StepStarted.kind: _step_started,
    Observed.kind: _observed,
    Decided.kind: _decided,
    ReplyRejected.kind: _reply_rejected,
    ModelRetried.kind: _model_retried,
    ApprovalRequested.kind: _approval_requested,
    ApprovalAnswered.kind: _approval_answered,
    QuestionAsked.kind: _question_asked,
    QuestionAnswered.kind: _question_answered,
    Paused.kind: _paused,
    Resumed.kind: _resumed,
    TakenOver.kind: _taken_over,
    HandedBack.kind: _handed_back,
    ActionRejected.kind: _action_rejected,
    ActionExecuted.kind: _action_executed,
    ActionContext.kind: _action_context,
    ActionFailed.kind: _action_failed,
    CheckEvaluated.kind: _check_evaluated,
    RepairProposed.kind: _repair_proposed,
    RunFinished.kind: _run_finished,
}
