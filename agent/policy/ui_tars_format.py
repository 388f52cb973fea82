"""UI-TARS (1.0 and 1.5) replies -> a thought and Shain actions in model-image pixels.

A reply looks like::

    Thought: I need to click the Save button.
    Action: click(start_box='(235,512)')

Some deployments put `Reflection:` and `Action_Summary:` lines before `Action:`. After
`Action:` come one or more calls such as `type(content='hi\\n')` or `drag(start_box='(1,2)',
end_box='(3,4)')`, separated by whitespace. Points are written `(x,y)`, as a box
`(x1,y1,x2,y2)` (its centre is used), `<|box_start|>(x,y)<|box_end|>`, `<point>x y</point>`,
`<bbox>x1 y1 x2 y2</bbox>` or `[x, y]`.

Coordinates are either pixels of the image the model saw (UI-TARS-1.5, built on Qwen2.5-VL,
sent images at smart_resize size) or thousandths of it (UI-TARS 1.0): the policy says which.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.actions import (
    Action,
    AskBoss,
    Click,
    Done,
    Drag,
    KeyPress,
    Move,
    Scroll,
    TypeText,
    Wait,
)
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.call_syntax import Call, box_centre, read_calls
from agent.policy.text_reply import ParsedReply, key_combination, pixel_point, quote

SCROLL_CLICKS = 3  # wheel clicks per UI-TARS scroll
WAIT_SECONDS = 5.0  # what `wait()` means
CALL_USER_FALLBACK = "The model asked for help without saying why."

# Argument names as the models write them -> the name used here.
_ARGUMENT_ALIASES = {
    "start_box": "start_box",
    "point": "start_box",
    "start_point": "start_box",
    "end_box": "end_box",
    "end_point": "end_box",
}
_POINT_ACTIONS = ("click", "left_single", "left_double", "right_single", "hover", "mouse_move")
_ARGUMENTS: dict[str, tuple[str, ...]] = {
    **{name: ("start_box",) for name in _POINT_ACTIONS},
    "drag": ("start_box", "end_box"),
    "hotkey": ("key",),
    "press": ("key",),
    "type": ("content",),
    "scroll": ("start_box", "direction"),
    "wait": (),
    "finished": ("content",),
    "call_user": (),
}
ACTION_NAMES = tuple(_ARGUMENTS)
_SCROLL_STEPS = {
    "down": (0, SCROLL_CLICKS),
    "up": (0, -SCROLL_CLICKS),
    "right": (SCROLL_CLICKS, 0),
    "left": (-SCROLL_CLICKS, 0),
}

_LABEL = re.compile(r"^[ \t]*(Thought|Reflection|Action_Summary|Action)[ \t]*:", re.MULTILINE)
_ACTION_LABEL = re.compile(r"^[ \t]*Action[ \t]*:", re.MULTILINE)


def parse_ui_tars(text: str, space: Size) -> ParsedReply:
    """A UI-TARS reply as its thought and actions, points in `space` (`ModelImage.point_space`:
    the image's pixels for UI-TARS-1.5, the 0-1000 grid for UI-TARS 1.0).

    Raises ModelOutputError naming what is wrong: no `Action:` line, an unknown action, a
    missing or unknown argument, a malformed box, a point outside the image.
    """
    action_label = _ACTION_LABEL.search(text)
    if action_label is None:
        raise ModelOutputError(f"UI-TARS reply has no 'Action:' line: {quote(text.strip())}")
    thought = _thought(text[: action_label.start()])
    # Some deployments repeat the label before each action.
    action_text = _ACTION_LABEL.sub("", text[action_label.end() :]).strip()
    if not action_text:
        raise ModelOutputError("UI-TARS reply has an empty 'Action:' line")

    def to_point(argument: str, spec: str) -> Point:
        return pixel_point(*box_centre(argument, spec), space)

    centre = Point(space.width // 2, space.height // 2)
    calls = read_calls(action_text, "UI-TARS")
    actions = tuple(_action(call, thought, to_point, centre) for call in calls)
    return ParsedReply(thought=thought, actions=actions)


def _thought(head: str) -> str:
    """The `Thought:` text; without one the `Action_Summary:`, else any unlabelled text."""
    labels = list(_LABEL.finditer(head))
    sections: dict[str, list[str]] = {}
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(head)
        sections.setdefault(label.group(1), []).append(head[label.end() : end].strip())
    for name in ("Thought", "Action_Summary"):
        if name in sections:
            return "\n".join(part for part in sections[name] if part)
    if labels:
        return head[: labels[0].start()].strip()
    return head.strip()


# ---------------------------------------------------------------- building actions


def _arguments(call: Call) -> dict[str, str]:
    """The call's arguments under their canonical names, refusing unknown ones and clashes."""
    allowed = _ARGUMENTS[call.name]
    result: dict[str, str] = {}
    written: dict[str, str] = {}
    for name, value in call.arguments.items():
        canonical = _ARGUMENT_ALIASES.get(name, name)
        if canonical not in allowed:
            takes = f"it takes {', '.join(allowed)}" if allowed else "it takes no arguments"
            raise ModelOutputError(
                f"{call.name} has no argument {name!r} ({takes}): {quote(call.source)}"
            )
        if canonical in result:
            raise ModelOutputError(
                f"{call.name} gives both {written[canonical]} and {name}: {quote(call.source)}"
            )
        result[canonical] = value
        written[canonical] = name
    return result


def _required(call: Call, arguments: dict[str, str], name: str) -> str:
    value = arguments.get(name)
    if value is None:
        raise ModelOutputError(f"{call.name} needs {name}: {quote(call.source)}")
    return value


def _action(
    call: Call, thought: str, to_point: Callable[[str, str], Point], centre: Point
) -> Action:
    if call.name not in _ARGUMENTS:
        raise ModelOutputError(
            f"unknown UI-TARS action {quote(call.name)} (expected one of {', '.join(ACTION_NAMES)})"
        )
    arguments = _arguments(call)

    def point(name: str) -> Point:
        return to_point(name, _required(call, arguments, name))

    match call.name:
        case "click" | "left_single":
            at = point("start_box")
            return Click(at.x, at.y)
        case "left_double":
            at = point("start_box")
            return Click(at.x, at.y, count=2)
        case "right_single":
            at = point("start_box")
            return Click(at.x, at.y, button="right")
        case "hover" | "mouse_move":
            at = point("start_box")
            return Move(at.x, at.y)
        case "drag":
            return Drag((point("start_box"), point("end_box")))
        case "hotkey" | "press":
            return KeyPress(_keys(call, _required(call, arguments, "key")))
        case "type":
            content = _required(call, arguments, "content")
            if not content:
                raise ModelOutputError(f"type content is empty: {quote(call.source)}")
            return TypeText(content)
        case "scroll":
            return _scroll(
                call, arguments, point("start_box") if "start_box" in arguments else centre
            )
        case "wait":
            return Wait(WAIT_SECONDS)
        case "finished":
            return Done(arguments.get("content", ""))
        case _:  # call_user
            return AskBoss(thought or CALL_USER_FALLBACK)


def _keys(call: Call, spec: str) -> tuple[str, ...]:
    """'ctrl c', 'ctrl+c', 'ctrl + c' -> ('ctrl', 'c')."""
    text = spec.strip()
    if "+" in text and text != "+":
        text = re.sub(r"\s*\+\s*", "+", text)
    return key_combination(text.split(), f"{call.name} key {quote(spec)}")


def _scroll(call: Call, arguments: dict[str, str], at: Point) -> Scroll:
    """Three wheel clicks in `direction` at `at` (the image centre when no box is given)."""
    direction = _required(call, arguments, "direction")
    steps = _SCROLL_STEPS.get(direction.strip().lower())
    if steps is None:
        raise ModelOutputError(
            f"scroll direction {quote(direction)} is not one of {', '.join(_SCROLL_STEPS)}"
        )
    return Scroll(at.x, at.y, scroll_x=steps[0], scroll_y=steps[1])
