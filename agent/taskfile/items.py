"""The items of a task file: every kind of step and setup step, as pydantic models.

Each item is a mapping with exactly one key naming its kind (`click: {x: 1, y: 2}`); a
callable discriminator picks the model from that key, so an error points into the right one.
`step_to_action` turns a scripted step into the action it stands for (a click on a target
becomes one only once the target is found). Checks are in
`agent.taskfile.checks`.
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
from agent.errors import ActionError, UnsupportedError
from agent.geometry import Point
from agent.keys import parse_key_combination
from agent.perception.conditions import (
    Condition,
    FileExists,
    TargetAppears,
    WindowAppears,
    WindowGone,
)
from agent.perception.locator import Locator, Target
from agent.taskfile.lines import VarValue, refuse_unknown_keys


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


class WithinSpec(TaskModel):
    window: Annotated[Text, Field(description="regular expression for the window's title")]

    @field_validator("window")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        return regex(value)


class TargetFields(TaskModel):
    """A thing on the screen named by what it is (see agent.perception.locator)."""

    text: Annotated[Text | None, Field(description="its text: a label, contents, or OCR")] = None
    role: Annotated[Text | None, Field(description="button, menu item, or an AT-SPI role")] = None
    name: Annotated[Text | None, Field(description="its accessible name, whole")] = None
    within: WithinSpec | None = None
    nth: Annotated[int | None, Field(ge=1, description="which match, in reading order")] = None

    def target(self) -> Target:
        window = self.within.window if self.within is not None else None
        return Target(self.text, self.role, self.name, window, self.nth)

    @property
    def names_a_target(self) -> bool:
        return self.text is not None or self.role is not None or self.name is not None


class ClickSpec(TargetFields):
    x: Annotated[Count | None, Field(description="with `within`: from the left of that window")] = (
        None
    )
    y: Annotated[Count | None, Field(description="with `within`: from its top")] = None
    button: MouseButton = "left"
    count: Annotated[int, Field(ge=1, le=3)] = 1
    timeout: Annotated[Seconds, Field(description="with a target: how long to wait for it")] = 5

    @model_validator(mode="after")
    def _point_or_target(self) -> Self:
        has_point = self.x is not None or self.y is not None
        if has_point and self.names_a_target:
            raise problem("click", "give either x and y, or a target (text, role, name)")
        if has_point and (self.x is None or self.y is None):
            raise problem("click", "a point needs both x and y")
        if not has_point and not self.names_a_target:
            raise problem("click", "give x and y, or a target: text, role and/or name")
        if not self.names_a_target and self.nth is not None:
            raise problem("click", "nth goes with a target (text, role, name)")
        return self

    @property
    def in_window(self) -> bool:
        """A point relative to the window `within` names (its frame's top left)."""
        return self.x is not None and self.within is not None


class DoubleClickSpec(ClickSpec):
    count: Annotated[int, Field(ge=2, le=2)] = 2


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
    path = next(s for s in schema["properties"]["path"]["anyOf"] if s.get("type") == "array")
    path["items"] = {"anyOf": [path["items"], {**pair, "maxItems": 2}]}


class DragEnd(TargetFields):
    """One end of a drag between two things on the screen."""

    @model_validator(mode="after")
    def _a_target(self) -> Self:
        if not self.names_a_target:
            raise problem("drag", "a drag's from/to names a target: text, role and/or name")
        return self


class DragSpec(TaskModel):
    model_config = ConfigDict(json_schema_extra=_drag_schema, populate_by_name=True)
    path: Annotated[list[PathPoint] | None, Field(min_length=2)] = None
    start: Annotated[
        DragEnd | None,
        Field(alias="from", description="drag from the start (left edge) of this target"),
    ] = None
    end: Annotated[
        DragEnd | None, Field(alias="to", description="...to the end (right edge) of this one")
    ] = None
    button: MouseButton = "left"
    timeout: Annotated[Seconds, Field(description="with from/to: how long to wait for them")] = 5

    @model_validator(mode="after")
    def _path_or_targets(self) -> Self:
        targets = self.start is not None or self.end is not None
        if (self.path is None) == (not targets) or (targets and None in (self.start, self.end)):
            raise problem("drag", "drag needs either a path, or from and to (targets)")
        return self


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


class WaitForSpec(TargetFields):
    window: Annotated[Text | None, Field(description="regular expression for a title")] = None
    file: Text | None = None
    timeout: Seconds = 10
    focused: bool = Field(
        True, description="with window: also wait until it holds the keyboard focus"
    )
    gone: bool = Field(
        False, description="with window: wait until no window has such a title (it closed)"
    )

    @field_validator("window")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        return None if value is None else regex(value)

    @model_validator(mode="after")
    def _one_condition(self) -> WaitForSpec:
        given = (self.window is not None) + (self.file is not None) + self.names_a_target
        if given != 1:
            raise problem(
                "wait_for",
                "wait_for needs exactly one of window, file, or a target (text, role, name)",
            )
        if not self.names_a_target and (self.within is not None or self.nth is not None):
            raise problem("wait_for", "within and nth go with a target (text, role, name)")
        if self.gone and self.window is None:
            raise problem("wait_for", "gone goes with window: wait for a window to close")
        return self

    def condition(self, locator: Locator | None) -> Condition:
        """What to wait for; a target is looked for with `locator`, on the run's screen."""
        if self.window is not None and self.gone:
            return WindowGone(self.window)
        if self.window is not None:
            return WindowAppears(self.window, focused=self.focused)
        if self.file is not None:
            return FileExists(self.file)
        if locator is None:
            raise UnsupportedError("wait_for a target needs a screen to look at")
        return TargetAppears(self.target(), locator)


class LaunchSpec(TaskModel):
    command: Text
    cwd: Text | None = None
    env: dict[str, VarValue] = Field(default_factory=dict)  # numbers become strings
    window: Seconds | None = Field(
        None, description="wait this many seconds at most for the app to open a new window"
    )

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
        case ClickStep(click=spec) | DoubleClickStep(double_click=spec):
            if spec.x is None or spec.y is None or spec.in_window:
                return None  # a target, or a window: found on the screen when the step runs
            return Click(spec.x, spec.y, button=spec.button, count=spec.count)
        case MoveStep(move=spec):
            return Move(spec.x, spec.y)
        case DragStep(drag=spec):
            if spec.path is None:
                return None  # between targets: found on the screen when the step runs
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
