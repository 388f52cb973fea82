"""GLM-4.5V replies on a desktop -> a thought and Shain actions on its 0-1000 grid.

Following zai-org/GLM-V's desktop agent guide, the model explains briefly, puts its one action
in a box, and ends with its memory::

    The search box is in the middle of the page; I click it.
    <|begin_of_box|>left_click(start_box='[376,465]', element_info='search box')<|end_of_box|>
    Memory:
    []

Points are thousandths of the screenshot (`[x,y]`, 0-999; 1000 is taken as the edge too).
Actions: left_click, right_click, middle_click, hover, left_double_click, left_drag, key,
type, scroll (`step` wheel clicks), WAIT() (5 s), DONE() and FAIL().
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.actions import Action, Click, Done, Drag, Fail, KeyPress, Move, Scroll, TypeText, Wait
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.call_syntax import Call, box_centre, read_calls
from agent.policy.text_reply import ParsedReply, key_combination, pixel_point, quote

BOX_OPEN = "<|begin_of_box|>"
BOX_CLOSE = "<|end_of_box|>"
WAIT_SECONDS = 5.0
SCROLL_STEP = 5  # wheel clicks when the model gives no `step`
MAX_SCROLL_STEP = 50
FAIL_FALLBACK = "The model said the task cannot be done."

_CLICKS = {
    "left_click": ("left", 1),
    "right_click": ("right", 1),
    "middle_click": ("middle", 1),
    "left_double_click": ("left", 2),
}
_ARGUMENTS: dict[str, tuple[str, ...]] = {
    **{name: ("start_box", "element_info") for name in (*_CLICKS, "hover")},
    "left_drag": ("start_box", "end_box", "element_info"),
    "key": ("keys", "key"),
    "type": ("content",),
    "scroll": ("start_box", "direction", "step", "element_info"),
    "wait": (),
    "done": (),
    "fail": (),
}
ACTION_NAMES = ("left_click", "right_click", "middle_click", "hover", "left_double_click",
                "left_drag", "key", "type", "scroll", "WAIT", "DONE", "FAIL")  # fmt: skip
_MEMORY = re.compile(r"^\s*Memory\s*:", re.MULTILINE)


def without_box(text: str) -> str:
    """The reply as its history shows it to the model again: the box tokens taken out."""
    return text.replace(BOX_OPEN, "").replace(BOX_CLOSE, "")


def memory_of(text: str) -> str:
    """What the model asked to remember: the text after its `Memory:` line."""
    found = _MEMORY.search(text)
    return text[found.end() :].strip() if found else ""


def parse_glm(text: str, space: Size) -> ParsedReply:
    """A GLM-V reply as its thought and action, points in `space` (the 0-1000 grid)."""
    start = text.find(BOX_OPEN)
    if start < 0:
        raise ModelOutputError(f"GLM-V reply has no {BOX_OPEN} action: {quote(text.strip())}")
    end = text.find(BOX_CLOSE, start)
    inside = text[start + len(BOX_OPEN) : end if end >= 0 else len(text)].strip()
    if not inside:
        raise ModelOutputError("GLM-V reply has an empty action box")
    thought = text[:start].strip()
    calls = read_calls(inside, "GLM-V")

    def point(call: Call, name: str) -> Point:
        spec = call.arguments.get(name)
        if spec is None:
            raise ModelOutputError(f"{call.name} needs {name}: {quote(call.source)}")
        return pixel_point(*box_centre(name, spec), space)

    return ParsedReply(thought, tuple(_action(call, thought, point) for call in calls))


def _action(call: Call, thought: str, point: Callable[[Call, str], Point]) -> Action:
    if call.name not in _ARGUMENTS:
        raise ModelOutputError(
            f"unknown GLM-V action {quote(call.name)} (expected one of {', '.join(ACTION_NAMES)})"
        )
    for name in call.arguments:
        if name not in _ARGUMENTS[call.name]:
            raise ModelOutputError(f"{call.name} has no argument {name!r}: {quote(call.source)}")
    arguments = call.arguments
    match call.name:
        case "left_click" | "right_click" | "middle_click" | "left_double_click":
            button, count = _CLICKS[call.name]
            at = point(call, "start_box")
            return Click(at.x, at.y, button=button, count=count)  # type: ignore[arg-type]
        case "hover":
            at = point(call, "start_box")
            return Move(at.x, at.y)
        case "left_drag":
            return Drag((point(call, "start_box"), point(call, "end_box")))
        case "key":
            keys = arguments.get("keys", arguments.get("key", ""))
            return KeyPress(key_combination(keys.split(), f"key {quote(keys)}"))
        case "type":
            content = arguments.get("content", "")
            if not content:
                raise ModelOutputError(f"type content is empty: {quote(call.source)}")
            return TypeText(content)
        case "scroll":
            return _scroll(call, point(call, "start_box"))
        case "wait":
            return Wait(WAIT_SECONDS)
        case "done":
            return Done(thought)
        case _:  # fail
            return Fail(thought or FAIL_FALLBACK)


def _scroll(call: Call, at: Point) -> Scroll:
    direction = call.arguments.get("direction", "").strip().lower()
    step_text = call.arguments.get("step", str(SCROLL_STEP)).strip()
    if not step_text.isdigit() or not 1 <= int(step_text) <= MAX_SCROLL_STEP:
        raise ModelOutputError(
            f"scroll step must be a whole number from 1 to {MAX_SCROLL_STEP}: {quote(call.source)}"
        )
    clicks = int(step_text)
    match direction:
        case "down":
            return Scroll(at.x, at.y, scroll_y=clicks)
        case "up":
            return Scroll(at.x, at.y, scroll_y=-clicks)
    raise ModelOutputError(f"scroll direction must be up or down: {quote(call.source)}")
