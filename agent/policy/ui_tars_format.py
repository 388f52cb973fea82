"""UI-TARS (1.0 and 1.5) replies -> a thought and Shain actions in model-image pixels.

A reply looks like::

    Thought: I need to click the Save button.
    Action: click(start_box='(235,512)')

Some deployments put `Reflection:` and `Action_Summary:` lines before `Action:`. After
`Action:` come one or more calls such as `type(content='hi\\n')` or `drag(start_box='(1,2)',
end_box='(3,4)')`, separated by whitespace. Points are written `(x,y)`, as a box
`(x1,y1,x2,y2)` (its centre is used), `<|box_start|>(x,y)<|box_end|>`, `<point>x y</point>`,
`<bbox>x1 y1 x2 y2</bbox>` or `[x, y]`.

Coordinates are either `absolute` pixels of the image the model saw (UI-TARS-1.5, built on
Qwen2.5-VL, sent images at smart_resize size) or `relative` thousandths of it (UI-TARS 1.0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

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
from agent.policy.text_reply import (
    ParsedReply,
    key_combination,
    pixel_point,
    point_text,
    quote,
)

Coordinates = Literal["absolute", "relative"]

SCROLL_CLICKS = 3  # wheel clicks per UI-TARS scroll
WAIT_SECONDS = 5.0  # what `wait()` means
RELATIVE_RANGE = 1000  # UI-TARS 1.0 coordinates run 0..1000 across the image
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
_NAME = re.compile(r"[A-Za-z_]\w*")
# A quote ends a string only where the call can go on: before ')', before ', name=' or
# ', )', or at the very end. Elsewhere it is a quote the model forgot to escape.
_STRING_END = re.compile(r"\s*(?:\)|,\s*(?:[A-Za-z_]\w*\s*=|\))|\Z)")
_BARE_VALUE = re.compile(r"[^,\s)]+")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_WRAPPERS = (
    ("<|box_start|>", "<|box_end|>"),
    ("<point>", "</point>"),
    ("<bbox>", "</bbox>"),
    ("(", ")"),
    ("[", "]"),
)
_BOX_SPELLINGS = "(x,y), (x1,y1,x2,y2), [x,y], <point>x y</point> or <bbox>x1 y1 x2 y2</bbox>"


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    arguments: dict[str, str]
    source: str


def parse_ui_tars(text: str, image: Size, coordinates: Coordinates = "absolute") -> ParsedReply:
    """A UI-TARS reply as its thought and actions, points in pixels of `image`.

    Raises ModelOutputError naming what is wrong: no `Action:` line, an unknown action, a
    missing or unknown argument, a malformed box, a point outside the image.
    """
    if coordinates not in ("absolute", "relative"):
        raise ValueError(f"coordinates must be 'absolute' or 'relative', not {coordinates!r}")
    action_label = _ACTION_LABEL.search(text)
    if action_label is None:
        raise ModelOutputError(f"UI-TARS reply has no 'Action:' line: {quote(text.strip())}")
    thought = _thought(text[: action_label.start()])
    # Some deployments repeat the label before each action.
    action_text = _ACTION_LABEL.sub("", text[action_label.end() :]).strip()
    if not action_text:
        raise ModelOutputError("UI-TARS reply has an empty 'Action:' line")
    to_point = _point_reader(image, coordinates)
    centre = Point(image.width // 2, image.height // 2)
    actions = tuple(_action(call, thought, to_point, centre) for call in _calls(action_text))
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


# ---------------------------------------------------------------- reading the calls


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _calls(text: str) -> list[_Call]:
    calls: list[_Call] = []
    pos = _skip_space(text, 0)
    while pos < len(text):
        call, pos = _call(text, pos)
        calls.append(call)
        pos = _skip_space(text, pos)
    return calls


def _call(text: str, start: int) -> tuple[_Call, int]:
    def fail(problem: str) -> ModelOutputError:
        return ModelOutputError(f"{problem} in UI-TARS action {quote(text[start:].strip())}")

    name = _NAME.match(text, start)
    if name is None:
        raise fail("expected an action such as click(start_box='(x,y)')")
    pos = _skip_space(text, name.end())
    if pos >= len(text) or text[pos] != "(":
        raise fail(f"expected '(' after {name.group()!r}")
    pos = _skip_space(text, pos + 1)
    arguments: dict[str, str] = {}
    while True:
        if pos >= len(text):
            raise fail("missing ')'")
        if text[pos] == ")":
            pos += 1
            break
        key = _NAME.match(text, pos)
        if key is None:
            raise fail("expected an argument name")
        pos = _skip_space(text, key.end())
        if pos >= len(text) or text[pos] != "=":
            raise fail(f"expected '=' after argument {key.group()!r}")
        value, pos = _value(text, _skip_space(text, pos + 1), fail)
        if key.group() in arguments:
            raise fail(f"argument {key.group()!r} given twice")
        arguments[key.group()] = value
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        elif pos < len(text) and text[pos] != ")":
            raise fail(f"expected ',' or ')' after argument {key.group()!r}")
    return _Call(name.group().lower(), arguments, text[start:pos]), pos


def _value(text: str, pos: int, fail: Callable[[str], ModelOutputError]) -> tuple[str, int]:
    """One argument value: a quoted string (escapes decoded), a bracketed point, or a word."""
    if pos >= len(text):
        raise fail("argument has no value")
    opening = text[pos]
    if opening in "'\"":
        chars: list[str] = []
        first_quote: tuple[str, int] | None = None  # the string so far, the index after
        index = pos + 1
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                following = text[index + 1]
                chars.append(_ESCAPES.get(following, "\\" + following))
                index += 2
            elif char == opening and _STRING_END.match(text, index + 1):
                return "".join(chars), index + 1
            else:
                if char == opening and first_quote is None:
                    first_quote = "".join(chars), index + 1
                chars.append(char)
                index += 1
        if first_quote is None:
            raise fail("unterminated string")
        return first_quote  # no quote can end the string: the first one does, as in Python
    if opening in "([":
        closing = text.find(")" if opening == "(" else "]", pos)
        if closing < 0:
            raise fail(f"unclosed {opening!r}")
        return text[pos : closing + 1], closing + 1
    bare = _BARE_VALUE.match(text, pos)
    if bare is None:
        raise fail("argument has no value")
    return bare.group(), bare.end()


# ---------------------------------------------------------------- points


def _point_reader(image: Size, coordinates: Coordinates) -> Callable[[str, str], Point]:
    def read(argument: str, spec: str) -> Point:
        x, y = _box_centre(argument, spec)
        if coordinates == "absolute":
            return pixel_point(x, y, image)
        if not (0 <= x <= RELATIVE_RANGE and 0 <= y <= RELATIVE_RANGE):
            raise ModelOutputError(
                f"point {point_text(x, y)} is outside the 0-{RELATIVE_RANGE} range of relative "
                "coordinates"
            )
        return Point(_from_relative(x, image.width), _from_relative(y, image.height))

    return read


def _from_relative(value: float, size: int) -> int:
    """0..1000 -> a pixel of a `size`-pixel side, rounding half up; 1000 is the last pixel."""
    return min(math.floor(value * size / RELATIVE_RANGE + 0.5), size - 1)


def _box_centre(argument: str, spec: str) -> tuple[float, float]:
    inner = spec.strip()
    unwrapped = True
    while unwrapped:
        unwrapped = False
        for opening, closing in _WRAPPERS:
            if inner.startswith(opening) and inner.endswith(closing):
                inner = inner[len(opening) : -len(closing)].strip()
                unwrapped = True
    parts = [part for part in re.split(r"[\s,]+", inner) if part]
    if not parts or not all(_NUMBER.fullmatch(part) for part in parts):
        raise ModelOutputError(f"malformed {argument} {quote(spec)}: expected {_BOX_SPELLINGS}")
    numbers = [float(part) for part in parts]
    if len(numbers) == 2:
        return numbers[0], numbers[1]
    if len(numbers) == 4:
        return (numbers[0] + numbers[2]) / 2, (numbers[1] + numbers[3]) / 2
    raise ModelOutputError(
        f"{argument} {quote(spec)} has {len(numbers)} numbers: expected x,y or x1,y1,x2,y2"
    )


# ---------------------------------------------------------------- building actions


def _arguments(call: _Call) -> dict[str, str]:
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


def _required(call: _Call, arguments: dict[str, str], name: str) -> str:
    value = arguments.get(name)
    if value is None:
        raise ModelOutputError(f"{call.name} needs {name}: {quote(call.source)}")
    return value


def _action(
    call: _Call, thought: str, to_point: Callable[[str, str], Point], centre: Point
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


def _keys(call: _Call, spec: str) -> tuple[str, ...]:
    """'ctrl c', 'ctrl+c', 'ctrl + c' -> ('ctrl', 'c')."""
    text = spec.strip()
    if "+" in text and text != "+":
        text = re.sub(r"\s*\+\s*", "+", text)
    return key_combination(text.split(), f"{call.name} key {quote(spec)}")


def _scroll(call: _Call, arguments: dict[str, str], at: Point) -> Scroll:
    """Three wheel clicks in `direction` at `at` (the image centre when no box is given)."""
    direction = _required(call, arguments, "direction")
    steps = _SCROLL_STEPS.get(direction.strip().lower())
    if steps is None:
        raise ModelOutputError(
            f"scroll direction {quote(direction)} is not one of {', '.join(_SCROLL_STEPS)}"
        )
    return Scroll(at.x, at.y, scroll_x=steps[0], scroll_y=steps[1])
