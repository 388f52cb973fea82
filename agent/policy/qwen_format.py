"""Qwen computer-use calls -> Shain actions with points in the model's point space.

The model answers with free text (the thought) and one or more `computer_use` calls (read by
`qwen_calls`, in either of their forms), following the function of Qwen's computer-use
cookbooks. Qwen2.5-VL's coordinates are pixels of the image it saw (the policy sends images at
smart_resize size); Qwen3-VL's are on a 0-1000 grid over it. Scroll `pixels` are positive up
(Qwen's definition) and become wheel clicks, about one per 100 pixels.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
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
from agent.policy.qwen_calls import RawCall, calls_in_text
from agent.policy.text_reply import ParsedReply, key_combination, pixel_point, quote

TOOL_NAME = "computer_use"
MAX_WAIT_SECONDS = 300.0
FAILURE_FALLBACK = "The model reported that the task failed."

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


def parse_qwen(text: str, space: Size, previous_point: Point | None = None) -> ParsedReply:
    """A Qwen computer-use reply in text as its thought and actions, points in `space`."""
    thought, calls = calls_in_text(text)
    if not calls:
        raise ModelOutputError(f"reply has no <tool_call> block: {quote(text.strip())}")
    return ParsedReply(thought, qwen_actions(calls, thought, space, previous_point))


def qwen_actions(
    calls: Sequence[RawCall], thought: str, space: Size, previous_point: Point | None = None
) -> tuple[Action, ...]:
    """computer_use calls as Shain actions, points in `space` (`ModelImage.point_space`: the
    image's pixels for Qwen2.5-VL, the 0-1000 grid for Qwen3-VL).

    `previous_point` is the last known pointer position in `space`: the start of a
    `left_click_drag` and the place of a click or scroll that gives no coordinate.
    Raises ModelOutputError naming what is wrong.
    """
    if previous_point is not None and not space.contains(previous_point):
        raise ValueError(f"previous_point {previous_point} is outside the {space} model image")
    actions: list[Action] = []
    for call in calls:
        action, arguments = _checked(call)
        built = _Builder(action, arguments, call.source, space, previous_point, thought).build()
        answered = bool(actions) and isinstance(actions[-1], Done)
        if answered and action == "terminate" and isinstance(built, Done):
            continue  # `answer` then `terminate(success)`: one Done, carrying the answer
        actions.append(built)
        previous_point = pointer_after(built, previous_point)
    return tuple(actions)


def _checked(call: RawCall) -> tuple[str, dict[str, Any]]:
    """The call's action name and its other arguments, refusing what computer_use lacks."""
    source = call.source
    if call.name != TOOL_NAME:
        raise ModelOutputError(f"unknown tool {quote(call.name)} (expected {TOOL_NAME})")
    arguments = call.arguments
    if "action" not in arguments:
        raise ModelOutputError(f"computer_use call has no 'action': {quote(source)}")
    action = arguments["action"]
    if not isinstance(action, str) or action not in _ARGUMENTS:
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
    return action, rest


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Builder:
    """One computer_use action as a Shain action; `build` raises ModelOutputError."""

    def __init__(
        self,
        action: str,
        arguments: dict[str, Any],
        source: str,
        space: Size,
        previous_point: Point | None,
        thought: str,
    ) -> None:
        self.action = action
        self.arguments = arguments
        self.source = source
        self.space = space
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
        return pixel_point(value[0], value[1], self.space)

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
            at = Point(self.space.width // 2, self.space.height // 2)
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


def pointer_after(action: Action, previous: Point | None) -> Point | None:
    """Where the pointer is after `action`, so a later drag in the same reply can start there."""
    match action:
        case Click(x=x, y=y) | Move(x=x, y=y) | Scroll(x=x, y=y):
            return Point(x, y)
        case Drag(path=path):
            return path[-1]
        case _:
            return previous
