"""OpenAI's computer-use action vocabulary -> Shain actions on the screen.

Both OpenAI policies speak it: the Responses API's `computer_call` items, and the `computer`
function that the Chat Completions policy offers any OpenAI-compatible model. Points are
pixels of the image the model saw; they are checked against it and mapped to the screen here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.actions import Action, Click, Drag, KeyPress, Move, Scroll, TypeText, Wait
from agent.errors import ActionError, ModelOutputError
from agent.geometry import Point
from agent.keys import canonical_key
from agent.policy.model_image import ModelImage

COMPUTER_ACTION_TYPES = (
    "click",
    "double_click",
    "drag",
    "keypress",
    "move",
    "scroll",
    "type",
    "wait",
    "screenshot",
)
_BUTTONS = {
    "left": "left",
    "right": "right",
    "wheel": "middle",
    "middle": "middle",
    "back": "back",
    "forward": "forward",
}
# Scroll amounts come in pixels; a wheel click scrolls about this many.
PIXELS_PER_WHEEL_CLICK = 100


def _number(data: Mapping[str, Any], name: str, kind: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelOutputError(f"{kind} needs a number '{name}', got {value!r}")
    return round(value)


def _point(data: Any, kind: str, image: ModelImage) -> Point:
    if isinstance(data, list | tuple) and len(data) == 2:
        data = {"x": data[0], "y": data[1]}  # [x, y], as some models write points
    if not isinstance(data, Mapping):
        raise ModelOutputError(f"{kind} needs points as {{x, y}}, got {data!r:.60}")
    point = Point(_number(data, "x", kind), _number(data, "y", kind))
    if not image.size.contains(point):
        raise ModelOutputError(
            f"{kind} at ({point.x}, {point.y}) is outside the {image.size} screenshot"
        )
    return image.to_screen(point)


def wheel_clicks(pixels: float) -> int:
    """Wheel clicks for a scroll given in pixels, sign kept; any movement is at least one."""
    if pixels == 0:
        return 0
    clicks = max(1, round(abs(pixels) / PIXELS_PER_WHEEL_CLICK))
    return clicks if pixels > 0 else -clicks


def _held(data: Mapping[str, Any], kind: str) -> tuple[str, ...]:
    """The keys held down through a pointer action (`keys` of the GA computer tool)."""
    keys = data.get("keys")
    if keys is None or keys == []:
        return ()
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise ModelOutputError(f"{kind} needs 'keys' to be a list of key names, got {keys!r:.60}")
    try:
        return tuple(canonical_key(key) for key in keys)
    except ActionError as error:
        raise ModelOutputError(str(error)) from None


def _marked(data: Mapping[str, Any], kind: str, marks: Mapping[int, Point]) -> Point:
    """The screen point of `mark`: the centre of the element numbered so on the screenshot."""
    number = data["mark"]
    if isinstance(number, bool) or not isinstance(number, int):
        raise ModelOutputError(f"{kind} needs 'mark' to be a mark's number, got {number!r}")
    if number not in marks:
        shown = f"1 to {len(marks)}" if marks else "none"
        raise ModelOutputError(f"{kind} on mark {number}: no such mark (marks: {shown})")
    return marks[number]


def from_computer_action(
    data: Mapping[str, Any], image: ModelImage, marks: Mapping[int, Point] | None = None
) -> Action | None:
    """One computer-use action as a Shain action on the screen; None for `screenshot`.

    With `marks` (set-of-marks), a click, double click or move may name a `mark` instead of
    x and y."""
    if not isinstance(data, Mapping):
        raise ModelOutputError(f"a computer action must be an object, got {type(data).__name__}")
    kind = data.get("type")
    match kind:
        case "click" | "double_click":
            if marks is not None and "mark" in data:
                at = _marked(data, kind, marks)
            else:
                at = _point(data, kind, image)
            button = _BUTTONS.get(str(data.get("button", "left")))
            if button is None:
                raise ModelOutputError(f"click with unsupported button {data.get('button')!r}")
            count = 2 if kind == "double_click" else 1
            hold = _held(data, kind)
            return Click(at.x, at.y, button=button, count=count, hold=hold)  # type: ignore[arg-type]
        case "move":
            marked = marks is not None and "mark" in data
            at = _marked(data, kind, marks or {}) if marked else _point(data, kind, image)
            return Move(at.x, at.y, hold=_held(data, kind))
        case "drag":
            path = data.get("path")
            if not isinstance(path, list) or len(path) < 2:
                raise ModelOutputError("drag needs a 'path' of at least two {x, y} points")
            points = tuple(_point(point, "drag", image) for point in path)
            return Drag(points, hold=_held(data, kind))
        case "scroll":
            at = _point(data, kind, image)
            down = wheel_clicks(_number(data, "scroll_y", kind) if "scroll_y" in data else 0)
            right = wheel_clicks(_number(data, "scroll_x", kind) if "scroll_x" in data else 0)
            return Scroll(at.x, at.y, scroll_x=right, scroll_y=down, hold=_held(data, kind))
        case "type":
            text = data.get("text")
            if not isinstance(text, str) or not text:
                raise ModelOutputError("type needs a non-empty 'text'")
            return TypeText(text)
        case "keypress":
            keys = data.get("keys")
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                raise ModelOutputError("keypress needs 'keys', a list of key names")
            try:
                return KeyPress(tuple(canonical_key(key) for key in keys))
            except ActionError as error:
                raise ModelOutputError(str(error)) from None
        case "wait":
            return Wait(1.0)
        case "screenshot":
            return None
    raise ModelOutputError(
        f"unknown computer action {kind!r}: expected one of {', '.join(COMPUTER_ACTION_TYPES)}"
    )
