"""Qwen2.5-VL computer-use replies -> a thought and Shain actions in model-image pixels.

The model answers with free text (the thought) and one or more blocks::

    <tool_call>
    {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [x, y]}}
    </tool_call>

following the `computer_use` function of Qwen's computer-use cookbook. Coordinates are pixels
of the image the model saw (the policy sends images at smart_resize size). Scroll `pixels` are
positive up (Qwen's definition) and become wheel clicks, about one per 100 pixels.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from agent.actions import (
    Action,
    Click,
    Done,
    Drag,
    Fail,
    KeyPress,
    MouseButton,
    Move,
    Scroll,
    TypeText,
    Wait,
)
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.computer_actions import wheel_clicks
from agent.policy.text_reply import ParsedReply, key_combination, pixel_point, quote

TOOL_NAME = "computer_use"
MAX_WAIT_SECONDS = 300.0
FAILURE_FALLBACK = "The model reported that the task failed."

_OPEN = "<tool_call>"
_CLOSE = "</tool_call>"
_CLICKS: dict[str, tuple[MouseButton, int]] = {
    "left_click": ("left", 1),
    "right_click": ("right", 1),
    "middle_click": ("middle", 1),
    "double_click": ("left", 2),
    "triple_click": ("left", 3),
}
_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "key": ("keys",),
    "type": ("text",),
    "mouse_move": ("coordinate",),
    **{name: ("coordinate",) for name in _CLICKS},
    "left_click_drag": ("coordinate", "start_coordinate"),
    "scroll": ("pixels", "coordinate"),
    "hscroll": ("pixels", "coordinate"),
    "wait": ("time",),
    "terminate": ("status",),
    "answer": ("text",),
}
ACTION_NAMES = tuple(_ARGUMENTS)


def parse_qwen(text: str, image: Size, previous_point: Point | None = None) -> ParsedReply:
    """A Qwen computer-use reply as its thought and actions, points in pixels of `image`.

    `previous_point` is the last known pointer position in model pixels: the start of a
    `left_click_drag` and the place of a click or scroll that gives no coordinate.
    Raises ModelOutputError naming what is wrong.
    """
    if previous_point is not None and not image.contains(previous_point):
        raise ValueError(f"previous_point {previous_point} is outside the {image} model image")
    thought_parts, blocks = _split(text)
    thought = "\n".join(part for part in (p.strip() for p in thought_parts) if part)
    if not blocks:
        raise ModelOutputError(f"reply has no <tool_call> block: {quote(text.strip())}")
    actions: list[Action] = []
    for block in blocks:
        action, arguments, source = _call(block)
        built = _Builder(action, arguments, source, image, previous_point, thought).build()
        answered = bool(actions) and isinstance(actions[-1], Done)
        if answered and action == "terminate" and isinstance(built, Done):
            continue  # `answer` then `terminate(success)`: one Done, carrying the answer
        actions.append(built)
        previous_point = _pointer_after(built, previous_point)
    return ParsedReply(thought=thought, actions=tuple(actions))


def _split(text: str) -> tuple[list[str], list[str]]:
    """The text outside the <tool_call> blocks, and each block's content.

    A final block whose closing tag is missing (a server that strips it) runs to the end.
    """
    outside: list[str] = []
    blocks: list[str] = []
    pos = 0
    while True:
        start = text.find(_OPEN, pos)
        if start < 0:
            outside.append(text[pos:])
            return outside, blocks
        outside.append(text[pos:start])
        end = text.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            blocks.append(text[start + len(_OPEN) :])
            return outside, blocks
        blocks.append(text[start + len(_OPEN) : end])
        pos = end + len(_CLOSE)


def _call(block: str) -> tuple[str, dict[str, Any], str]:
    """A block's JSON as (action name, its other arguments, the JSON text)."""
    source = block.strip()
    if source.startswith("```"):  # a fenced block: ```json ... ```
        source = source.removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        data = json.loads(source)
    except json.JSONDecodeError as error:
        raise ModelOutputError(
            f"tool call is not valid JSON ({error.msg} at line {error.lineno} column "
            f"{error.colno}): {quote(source)}"
        ) from None
    if not isinstance(data, dict):
        raise ModelOutputError(
            f"tool call must be a JSON object with 'name' and 'arguments', got "
            f"{type(data).__name__}: {quote(source)}"
        )
    if "name" not in data:
        raise ModelOutputError(f"tool call has no 'name': {quote(source)}")
    if data["name"] != TOOL_NAME:
        raise ModelOutputError(f"unknown tool {quote(str(data['name']))} (expected {TOOL_NAME})")
    if "arguments" not in data:
        raise ModelOutputError(f"tool call has no 'arguments': {quote(source)}")
    arguments = data["arguments"]
    if isinstance(arguments, str):  # OpenAI-style servers send the arguments as a JSON string
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as error:
            raise ModelOutputError(
                f"tool call arguments are not valid JSON ({error.msg}): {quote(data['arguments'])}"
            ) from None
    if not isinstance(arguments, dict):
        raise ModelOutputError(
            f"tool call 'arguments' must be an object, got {type(arguments).__name__}: "
            f"{quote(source)}"
        )
    if "action" not in arguments:
        raise ModelOutputError(f"computer_use call has no 'action': {quote(source)}")
    action = arguments["action"]
    if action not in _ARGUMENTS:
        raise ModelOutputError(
            f"unknown computer_use action {quote(str(action))} "
            f"(expected one of {', '.join(ACTION_NAMES)})"
        )
    allowed = _ARGUMENTS[action]
    rest = {k: v for k, v in arguments.items() if k != "action" and v is not None}
    for name in rest:
        if name not in allowed:
            raise ModelOutputError(
                f"{action} has no argument {name!r} (it takes {', '.join(allowed)}): "
                f"{quote(source)}"
            )
    return action, rest, source


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Builder:
    """One computer_use action as a Shain action; `build` raises ModelOutputError."""

    def __init__(
        self,
        action: str,
        arguments: dict[str, Any],
        source: str,
        image: Size,
        previous_point: Point | None,
        thought: str,
    ) -> None:
        self.action = action
        self.arguments = arguments
        self.source = source
        self.image = image
        self.previous_point = previous_point
        self.thought = thought

    def build(self) -> Action:
        handlers: Mapping[str, Callable[[], Action]] = {
            "key": self._key,
            "type": self._type,
            "mouse_move": self._move,
            "left_click_drag": self._drag,
            "scroll": self._scroll,
            "hscroll": self._scroll,
            "wait": self._wait,
            "terminate": self._terminate,
            "answer": self._answer,
        }
        if self.action in _CLICKS:
            return self._click()
        return handlers[self.action]()

    def _error(self, problem: str) -> ModelOutputError:
        return ModelOutputError(f"{self.action} {problem}: {quote(self.source)}")

    def _required(self, name: str) -> Any:
        if name not in self.arguments:
            raise self._error(f"needs {name}")
        return self.arguments[name]

    def _point(self, name: str) -> Point:
        value = self._required(name)
        if not (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))):
            raise self._error(f"{name} must be [x, y] numbers, got {quote(json.dumps(value))}")
        return pixel_point(value[0], value[1], self.image)

    def _point_or_pointer(self) -> Point:
        """`coordinate`, else where the pointer is; the model's own tool acts there too."""
        if "coordinate" in self.arguments or self.previous_point is None:
            return self._point("coordinate")
        return self.previous_point

    def _text(self, name: str) -> str:
        value = self._required(name)
        if not isinstance(value, str):
            raise self._error(f"{name} must be a string, got {quote(json.dumps(value))}")
        return value

    def _key(self) -> Action:
        keys = self._required("keys")
        if isinstance(keys, str):
            keys = [keys]
        if not (isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)):
            raise self._error(f"keys must be a list of key names, got {quote(json.dumps(keys))}")
        return KeyPress(key_combination(keys, f"key {quote(json.dumps(keys))}"))

    def _type(self) -> Action:
        text = self._text("text")
        if not text:
            raise self._error("text is empty")
        return TypeText(text)

    def _move(self) -> Action:
        at = self._point("coordinate")
        return Move(at.x, at.y)

    def _click(self) -> Action:
        button, count = _CLICKS[self.action]
        at = self._point_or_pointer()
        return Click(at.x, at.y, button=button, count=count)

    def _drag(self) -> Action:
        end = self._point("coordinate")
        if "start_coordinate" in self.arguments:
            start = self._point("start_coordinate")
        elif self.previous_point is not None:
            start = self.previous_point
        else:
            raise ModelOutputError(
                "left_click_drag without a start point (give start_coordinate; the pointer "
                f"position is not known): {quote(self.source)}"
            )
        return Drag((start, end))

    def _scroll(self) -> Action:
        pixels = self._required("pixels")
        if not _is_number(pixels):
            raise self._error(f"pixels must be a number, got {quote(json.dumps(pixels))}")
        if pixels == 0:
            raise self._error("pixels is 0: nothing to scroll")
        clicks = wheel_clicks(pixels)
        if "coordinate" in self.arguments:
            at = self._point("coordinate")
        elif self.previous_point is not None:
            at = self.previous_point
        else:
            at = Point(self.image.width // 2, self.image.height // 2)
        if self.action == "hscroll":  # positive scrolls right
            return Scroll(at.x, at.y, scroll_x=clicks)
        # Qwen: positive scrolls up; Shain: positive scroll_y scrolls down.
        return Scroll(at.x, at.y, scroll_y=-clicks)

    def _wait(self) -> Action:
        seconds = self._required("time")
        if not (_is_number(seconds) and 0 <= seconds <= MAX_WAIT_SECONDS):
            raise self._error(
                f"time must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}, got "
                f"{quote(json.dumps(seconds))}"
            )
        return Wait(float(seconds))

    def _terminate(self) -> Action:
        status = self._required("status")
        if status == "success":
            return Done(self.thought)
        if status == "failure":
            return Fail(self.thought or FAILURE_FALLBACK)
        raise self._error(f"status must be 'success' or 'failure', got {quote(json.dumps(status))}")

    def _answer(self) -> Action:
        return Done(self._text("text"))


def _pointer_after(action: Action, previous: Point | None) -> Point | None:
    """Where the pointer is after `action`, so a later drag in the same reply can start there."""
    match action:
        case Click(x=x, y=y) | Move(x=x, y=y) | Scroll(x=x, y=y):
            return Point(x, y)
        case Drag(path=path):
            return path[-1]
        case _:
            return previous
