"""What the agent can do: a closed set of actions, parsed and checked at the edge.

Every action is a frozen dataclass tagged by `kind`. `parse_action` is the one way from
untrusted data (a model reply, a task file, a run log) to an action: it names the kind, field
or key that is wrong, and refuses points outside the screen. Nothing else turns names into
behaviour, so there is no `getattr(desktop, name)` anywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pydantic

from agent.errors import ActionError
from agent.geometry import Point, Size
from agent.keys import canonical_key, parse_key_combination

MouseButton = Literal["left", "right", "middle", "back", "forward"]
# Keys held down through a pointer action (a shift-click, a ctrl-drag): canonical names.
Held = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Click:
    x: int
    y: int
    button: MouseButton = "left"
    count: Annotated[int, pydantic.Field(ge=1, le=3)] = 1
    hold: Held = ()
    kind: Literal["click"] = "click"


@dataclass(frozen=True, slots=True)
class Move:
    x: int
    y: int
    hold: Held = ()
    kind: Literal["move"] = "move"


@dataclass(frozen=True, slots=True)
class Drag:
    path: Annotated[tuple[Point, ...], pydantic.Field(min_length=2)]
    button: MouseButton = "left"
    hold: Held = ()
    kind: Literal["drag"] = "drag"


@dataclass(frozen=True, slots=True)
class Scroll:
    """Wheel clicks at a point: positive `scroll_y` scrolls down, positive `scroll_x` right."""

    x: int
    y: int
    scroll_x: int = 0
    scroll_y: int = 0
    hold: Held = ()
    kind: Literal["scroll"] = "scroll"


@dataclass(frozen=True, slots=True)
class TypeText:
    text: Annotated[str, pydantic.Field(min_length=1)]
    kind: Literal["type"] = "type"


@dataclass(frozen=True, slots=True)
class KeyPress:
    """One key combination, pressed together and released in reverse order."""

    keys: tuple[str, ...]
    kind: Literal["key"] = "key"


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: Annotated[float, pydantic.Field(ge=0, le=300)] = 1.0
    kind: Literal["wait"] = "wait"


@dataclass(frozen=True, slots=True)
class Done:
    summary: str = ""
    kind: Literal["done"] = "done"


@dataclass(frozen=True, slots=True)
class Fail:
    reason: str
    kind: Literal["fail"] = "fail"


@dataclass(frozen=True, slots=True)
class AskBoss:
    question: str
    kind: Literal["ask_boss"] = "ask_boss"


Action = Click | Move | Drag | Scroll | TypeText | KeyPress | Wait | Done | Fail | AskBoss

_ACTION_CLASSES: dict[str, type[Action]] = {
    "click": Click,
    "move": Move,
    "drag": Drag,
    "scroll": Scroll,
    "type": TypeText,
    "key": KeyPress,
    "wait": Wait,
    "done": Done,
    "fail": Fail,
    "ask_boss": AskBoss,
}
ACTION_KINDS = tuple(_ACTION_CLASSES)
_ACTION_ADAPTER: pydantic.TypeAdapter[Action] = pydantic.TypeAdapter(
    Annotated[Action, pydantic.Field(discriminator="kind")]
)


def parse_action(data: Mapping[str, Any], screen: Size | None = None) -> Action:
    """Build an action from a mapping such as `{"kind": "click", "x": 10, "y": 20}`.

    Key names are normalised to the canonical table; with `screen`, points must lie on it.
    Raises ActionError with a message that names what is wrong.
    """
    if not isinstance(data, Mapping):
        raise ActionError(f"an action must be an object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in ACTION_KINDS:
        raise ActionError(
            f"unknown action kind {kind!r}: expected one of {', '.join(ACTION_KINDS)}"
            if kind is not None
            else f"action has no 'kind': expected one of {', '.join(ACTION_KINDS)}"
        )
    fields = dict(data)
    known = {field.name for field in dataclasses.fields(_ACTION_CLASSES[kind])}
    unknown = sorted(str(name) for name in fields if name not in known)
    if unknown:
        raise ActionError(
            f"invalid {kind} action: unknown field {', '.join(map(repr, unknown))} "
            f"(a {kind} has {', '.join(sorted(known - {'kind'}))})"
        )
    if kind == "key":
        fields["keys"] = _keys_from(fields.get("keys"))
    if fields.get("hold"):
        fields["hold"] = _keys_from(fields["hold"], "hold")
    if kind == "drag" and isinstance(fields.get("path"), list | tuple):
        fields["path"] = [_point_from(point) for point in fields["path"]]
    try:
        action = _ACTION_ADAPTER.validate_python(fields, strict=False)
    except pydantic.ValidationError as error:
        raise ActionError(f"invalid {kind} action: {describe_validation_error(error)}") from None
    if screen is not None:
        check_on_screen(action, screen)
    return action


def _point_from(value: Any) -> Any:
    """`[x, y]` pairs (how models and task files write points) as `{"x": .., "y": ..}`."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return {"x": value[0], "y": value[1]}
    return value


def _keys_from(value: Any, field: str = "keys") -> tuple[str, ...]:
    if isinstance(value, str):
        return parse_key_combination(value)
    if isinstance(value, list | tuple) and value and all(isinstance(k, str) for k in value):
        return tuple(canonical_key(k) for k in value)
    what = "key action: 'keys'" if field == "keys" else "action: 'hold'"
    raise ActionError(f"invalid {what} must be a combination like 'ctrl+s' or a list of key names")


def describe_validation_error(error: pydantic.ValidationError) -> str:
    """pydantic's errors as one line: `x: Field required; button: Input should be 'left', ...`."""
    parts = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"] if part not in ACTION_KINDS)
        parts.append(f"{location}: {item['msg']}" if location else item["msg"])
    return "; ".join(parts)


def points_of(action: Action) -> tuple[Point, ...]:
    """The screen points an action touches, in order."""
    match action:
        case Click(x=x, y=y) | Move(x=x, y=y) | Scroll(x=x, y=y):
            return (Point(x, y),)
        case Drag(path=path):
            return path
        case _:
            return ()


def with_points(action: Action, transform: Callable[[Point], Point]) -> Action:
    """The same action with every point it touches passed through `transform`."""
    match action:
        case Click(x=x, y=y) | Move(x=x, y=y) | Scroll(x=x, y=y):
            moved = transform(Point(x, y))
            return dataclasses.replace(action, x=moved.x, y=moved.y)
        case Drag(path=path):
            return dataclasses.replace(action, path=tuple(transform(p) for p in path))
        case _:
            return action


def check_on_screen(action: Action, screen: Size) -> None:
    for point in points_of(action):
        if not screen.contains(point):
            raise ActionError(
                f"{action.kind} at ({point.x}, {point.y}) is outside the {screen} screen"
            )


def action_to_dict(action: Action) -> dict[str, Any]:
    """The JSON form of an action, `kind` first; `parse_action` reads it back."""
    fields = dataclasses.asdict(action)
    kind = fields.pop("kind")
    if isinstance(action, KeyPress):
        fields["keys"] = list(action.keys)
    if "hold" in fields:
        if fields["hold"]:
            fields["hold"] = list(fields["hold"])
        else:
            del fields["hold"]  # the usual case: no key held, and logs stay as they were
    return {"kind": kind, **fields}


def describe_action(action: Action) -> str:
    """A short human line for consoles and logs: `click left (400, 300)`, `type 'hello'`;
    keys held through it go first: `shift+click left (400, 300)`."""
    held = action.hold if isinstance(action, Click | Move | Drag | Scroll) else ()
    line = _describe(action)
    return "+".join(held) + "+" + line if held else line


def _describe(action: Action) -> str:
    match action:
        case Click(x=x, y=y, button=button, count=count):
            times = "" if count == 1 else f" x{count}"
            return f"click {button}{times} ({x}, {y})"
        case Move(x=x, y=y):
            return f"move ({x}, {y})"
        case Drag(path=path):
            start, end = path[0], path[-1]
            return f"drag ({start.x}, {start.y}) -> ({end.x}, {end.y}) via {len(path)} points"
        case Scroll(x=x, y=y, scroll_x=dx, scroll_y=dy):
            return f"scroll ({x}, {y}) by x={dx} y={dy}"
        case TypeText(text=text):
            shown = text if len(text) <= 40 else text[:37] + "..."
            return f"type {shown!r} ({len(text)} chars)"
        case KeyPress(keys=keys):
            return "key " + "+".join(keys)
        case Wait(seconds=seconds):
            return f"wait {seconds:g}s"
        case Done(summary=summary):
            return f"done: {summary}" if summary else "done"
        case Fail(reason=reason):
            return f"fail: {reason}"
        case AskBoss(question=question):
            return f"ask boss: {question}"
