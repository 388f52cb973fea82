"""The items of a task file: every kind of step and setup step, as pydantic models.

Each item is a mapping with exactly one key naming its kind (`click: {x: 1, y: 2}`); a
callable discriminator picks the model from that key, so an error points into the right one.
`step_to_action` turns a scripted step into the action it stands for. Checks are in
`agent.taskfile_checks`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    ModelWrapValidatorHandler,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agent.actions import (
    Action,
    Click,
    Drag,
    Fail,
    KeyPress,
    MouseButton,
    Move,
    Scroll,
    TypeText,
    Wait,
)
from agent.desktop.keys import parse_key_combination
from agent.errors import ActionError
from agent.geometry import Point
from agent.taskfile_lines import VarValue, refuse_unknown_keys


def problem(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, "{reason}", {"reason": message})


class TaskModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _known_keys_only(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        return refuse_unknown_keys(cls, cls._normalise(data), handler)

    @classmethod
    def _normalise(cls, data: Any) -> Any:
        """Turn a short form (a string, a list) into the mapping form; raise for a refused one."""
        return data


class Item(TaskModel):
    """A step, setup step or check: one field, named after its kind."""

    @property
    def kind(self) -> str:
        return next(iter(type(self).model_fields))


def regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise problem("regex", f"invalid regular expression: {error}") from None
    return pattern


# ---- specs: the mapping under a step's kind

Count = Annotated[int, Field(ge=0)]
Text = Annotated[str, Field(min_length=1)]
Seconds = Annotated[float, Field(gt=0)]


class PointSpec(TaskModel):
    x: Count
    y: Count


_TARGET_KEYS = ("text", "role", "name", "within", "nth")


def _refuse_target(kind: str, data: Any) -> Any:
    if isinstance(data, dict) and any(key in data for key in _TARGET_KEYS):
        raise problem(
            "unsupported",
            f"{kind} by text/role is not supported yet "
            "(grounding comes in a later version); use {x, y}",
        )
    return data


class ClickSpec(PointSpec):
    button: MouseButton = "left"
    count: Annotated[int, Field(ge=1, le=3)] = 1

    @classmethod
    def _normalise(cls, data: Any) -> Any:
        return _refuse_target("click", data)


class DoubleClickSpec(PointSpec):
    button: MouseButton = "left"

    @classmethod
    def _normalise(cls, data: Any) -> Any:
        return _refuse_target("double_click", data)


class PathPoint(PointSpec):
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise problem("point", "a point is [x, y] or {x: .., y: ..}")
            return {"x": data[0], "y": data[1]}
        return data


def _drag_schema(schema: dict[str, Any]) -> None:
    pair = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2}
    path = schema["properties"]["path"]
    path["items"] = {"anyOf": [path["items"], {**pair, "maxItems": 2}]}


class DragSpec(TaskModel):
    model_config = ConfigDict(json_schema_extra=_drag_schema)
    path: Annotated[list[PathPoint], Field(min_length=2)]
    button: MouseButton = "left"


class ScrollSpec(PointSpec):
    up: Count = 0
    down: Count = 0
    left: Count = 0
    right: Count = 0

    @model_validator(mode="after")
    def _some_direction(self) -> ScrollSpec:
        if not self.model_fields_set & {"up", "down", "left", "right"}:
            raise problem("scroll", "scroll needs at least one of up, down, left, right")
        return self


class WaitForSpec(TaskModel):
    window: Annotated[Text | None, Field(description="regular expression for a title")] = None
    file: Text | None = None
    timeout: Seconds = 10
    focused: bool = Field(
        True, description="with window: also wait until it holds the keyboard focus"
    )

    @field_validator("window")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        return None if value is None else regex(value)

    @model_validator(mode="after")
    def _window_or_file(self) -> WaitForSpec:
        if (self.window is None) == (self.file is None):
            raise problem("wait_for", "wait_for needs exactly one of window, file")
        return self


class LaunchSpec(TaskModel):
    command: Text
    cwd: Text | None = None
    env: dict[str, VarValue] = Field(default_factory=dict)  # numbers become strings

    @classmethod
    def _normalise(cls, data: Any) -> Any:
        return {"command": data} if isinstance(data, str) else data


def _launch_schema(schema: dict[str, Any]) -> None:
    launch = schema["properties"]["launch"]
    schema["properties"]["launch"] = {"anyOf": [{"type": "string", "minLength": 1}, launch]}


# ---- steps, setup steps and checks


class ClickStep(Item):
    click: ClickSpec


class DoubleClickStep(Item):
    double_click: DoubleClickSpec


class MoveStep(Item):
    move: PointSpec


class DragStep(Item):
    drag: DragSpec


class ScrollStep(Item):
    scroll: ScrollSpec


class TypeStep(Item):
    type: Text


class KeyStep(Item):
    key: Text

    @field_validator("key")
    @classmethod
    def _known_keys(cls, value: str) -> str:
        try:
            parse_key_combination(value)
        except ActionError as error:
            raise problem("key", str(error)) from None
        return value


class WaitStep(Item):
    wait: Annotated[float, Field(ge=0, le=300)]


class WaitForStep(Item):
    wait_for: WaitForSpec


class AiStep(Item):
    ai: Text


class FailStep(Item):
    """Give up on purpose: the right answer to a task that cannot be done."""

    fail: Text


class LaunchStep(Item):
    model_config = ConfigDict(json_schema_extra=_launch_schema)
    launch: LaunchSpec


class RunSpec(TaskModel):
    command: Text
    timeout: Seconds = 30

    @classmethod
    def _normalise(cls, data: Any) -> Any:
        return {"command": data} if isinstance(data, str) else data


def _run_schema(schema: dict[str, Any]) -> None:
    run = schema["properties"]["run"]
    schema["properties"]["run"] = {"anyOf": [{"type": "string", "minLength": 1}, run]}


class RunStep(Item):
    """A shell command that prepares the task (files, folders) and must exit with 0."""

    model_config = ConfigDict(json_schema_extra=_run_schema)
    run: RunSpec


class WriteFileSpec(TaskModel):
    path: Text
    text: str


class WriteFileStep(Item):
    write_file: WriteFileSpec


def kind_of(value: Any) -> str | None:
    """The discriminator: the one key of a mapping (or the one field of a built item)."""
    if isinstance(value, Item):
        return value.kind
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return None


_STEPS = "click double_click move drag scroll type key wait wait_for ai fail"
STEP_KINDS = tuple(_STEPS.split())
SETUP_KINDS = ("launch", "run", "write_file", "wait_for")

Step = Annotated[
    Annotated[ClickStep, Tag("click")]
    | Annotated[DoubleClickStep, Tag("double_click")]
    | Annotated[MoveStep, Tag("move")]
    | Annotated[DragStep, Tag("drag")]
    | Annotated[ScrollStep, Tag("scroll")]
    | Annotated[TypeStep, Tag("type")]
    | Annotated[KeyStep, Tag("key")]
    | Annotated[WaitStep, Tag("wait")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[AiStep, Tag("ai")]
    | Annotated[FailStep, Tag("fail")],
    Discriminator(kind_of),
]
SetupStep = Annotated[
    Annotated[LaunchStep, Tag("launch")]
    | Annotated[RunStep, Tag("run")]
    | Annotated[WriteFileStep, Tag("write_file")]
    | Annotated[WaitForStep, Tag("wait_for")],
    Discriminator(kind_of),
]


def step_to_action(step: Step) -> Action | None:
    """The action of a scripted step; None for `wait_for` and `ai`, which the runner handles."""
    match step:
        case ClickStep(click=spec):
            return Click(spec.x, spec.y, button=spec.button, count=spec.count)
        case DoubleClickStep(double_click=spec):
            return Click(spec.x, spec.y, button=spec.button, count=2)
        case MoveStep(move=spec):
            return Move(spec.x, spec.y)
        case DragStep(drag=spec):
            return Drag(tuple(Point(p.x, p.y) for p in spec.path), button=spec.button)
        case ScrollStep(scroll=spec):
            dx, dy = spec.right - spec.left, spec.down - spec.up
            return Scroll(spec.x, spec.y, scroll_x=dx, scroll_y=dy)
        case TypeStep(type=text):
            return TypeText(text)
        case KeyStep(key=combination):
            return KeyPress(parse_key_combination(combination))
        case WaitStep(wait=seconds):
            return Wait(seconds)
        case FailStep(fail=reason):
            return Fail(reason)
    return None
