"""OpenCUA replies -> a thought and Shain actions in model-image pixels, without running them.

OpenCUA (xlang-ai) answers with its reasoning and a block of pyautogui code::

    ## Thought:
    The red button is at the top right.
    ## Action:
    Click the red button.
    ## Code:
    ```python
    pyautogui.click(x=1203, y=210)
    ```

The code is model output, so it is never executed: it is parsed with `ast` and every statement
must be one call from an allow-list (`pyautogui.click`, `computer.terminate`, ...) whose
arguments are literals (numbers, strings, lists of them). Anything else (an import, a name, an
attribute chain, a call hidden in an argument, a comprehension, a number that is not finite)
is a rejected reply. Points are pixels of the image the model saw: the Qwen2.5-VL based
OpenCUA-7B and 32B answer in the smart_resize image the policy sends.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.actions import Action, Click, Done, Drag, Fail, KeyPress, Move, Scroll, TypeText, Wait
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.qwen_format import pointer_after
from agent.policy.text_reply import ParsedReply, key_combination, pixel_point, quote

MAX_CODE_CHARS = 4000  # a step is a few calls; more is not an answer to parse
MAX_TEXT_CHARS = 5000
MAX_WAIT_SECONDS = 60.0
MAX_SCROLL_CLICKS = 50
DEFAULT_WAIT_SECONDS = 1.0
FAILURE_FALLBACK = "The model reported that the task failed."

_CODE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
# Each call: its parameters in order (positional arguments fill them), and the ones it needs.
_SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pyautogui.click": (("x", "y", "clicks", "interval", "button", "duration"), ()),
    "pyautogui.doubleClick": (("x", "y", "interval", "button", "duration"), ()),
    "pyautogui.rightClick": (("x", "y", "duration"), ()),
    "pyautogui.middleClick": (("x", "y", "duration"), ()),
    "pyautogui.tripleClick": (("x", "y", "interval", "button", "duration"), ()),
    "computer.triple_click": (("x", "y"), ()),
    "pyautogui.moveTo": (("x", "y", "duration"), ("x", "y")),
    "pyautogui.dragTo": (("x", "y", "duration", "button"), ("x", "y")),
    "pyautogui.scroll": (("clicks", "x", "y"), ("clicks",)),
    "pyautogui.hscroll": (("clicks", "x", "y"), ("clicks",)),
    "pyautogui.write": (("message", "interval"), ("message",)),
    "pyautogui.typewrite": (("message", "interval"), ("message",)),
    "pyautogui.press": (("keys", "presses", "interval"), ("keys",)),
    "pyautogui.hotkey": ((), ()),  # keys as positional arguments (or one list)
    "computer.wait": (("seconds",), ()),
    "computer.terminate": (("status", "answer"), ("status",)),
}
ALLOWED_CALLS = tuple(_SIGNATURES)
_BUTTONS = {"left": "left", "right": "right", "middle": "middle", "primary": "left"}


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    arguments: dict[str, Any]
    positional: tuple[Any, ...]  # pyautogui.hotkey's keys
    source: str


def parse_opencua(text: str, space: Size, pointer: Point | None = None) -> ParsedReply:
    """An OpenCUA reply as its thought and actions, points in pixels of `space`.

    `pointer` is where the last action left the pointer (the start of a `dragTo`, the place
    of a click or scroll without coordinates). Raises ModelOutputError naming what is wrong.
    """
    blocks = list(_CODE.finditer(text))
    if not blocks:
        raise ModelOutputError(f"OpenCUA reply has no ```python code block: {quote(text.strip())}")
    code = blocks[-1].group(1)
    thought = text[: blocks[-1].start()].split("## Code", 1)[0].strip()
    actions: list[Action] = []
    for call in _calls(code):
        action = _action(call, space, pointer, thought)
        actions.append(action)
        pointer = pointer_after(action, pointer)
    if not actions:
        raise ModelOutputError("OpenCUA reply's code block has no call in it")
    return ParsedReply(thought, tuple(actions))


# ---------------------------------------------------------------- reading, never running


def _calls(code: str) -> list[_Call]:
    if len(code) > MAX_CODE_CHARS:
        raise ModelOutputError(f"the code block is longer than {MAX_CODE_CHARS} characters")
    try:
        tree = ast.parse(code, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise ModelOutputError(f"the code block is not Python: {error}: {quote(code)}") from None
    calls = []
    for statement in tree.body:
        if isinstance(statement, ast.Import) and [a.name for a in statement.names] == ["pyautogui"]:
            continue  # what a script starts with; nothing to do
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            raise _refused(statement, code, "is not a call")
        calls.append(_call(statement.value, code))
    return calls


def _refused(node: ast.AST, code: str, why: str) -> ModelOutputError:
    shown = ast.get_source_segment(code, node) or type(node).__name__
    return ModelOutputError(
        f"code {quote(shown)} {why}: only calls of {', '.join(ALLOWED_CALLS)} with literal "
        "arguments are carried out"
    )


def _call(node: ast.Call, code: str) -> _Call:
    function = node.func
    if not (
        isinstance(function, ast.Attribute)
        and isinstance(function.value, ast.Name)
        and f"{function.value.id}.{function.attr}" in _SIGNATURES
    ):
        raise _refused(node, code, "is not an allowed call")
    name = f"{function.value.id}.{function.attr}"
    parameters, required = _SIGNATURES[name]
    source = ast.get_source_segment(code, node) or name
    positional = tuple(_literal(argument, code) for argument in node.args)
    if name != "pyautogui.hotkey" and len(positional) > len(parameters):
        raise ModelOutputError(f"{name} takes at most {len(parameters)} arguments: {quote(source)}")
    arguments: dict[str, Any] = {}
    if name != "pyautogui.hotkey":
        arguments = dict(zip(parameters, positional, strict=False))
    for keyword in node.keywords:
        if keyword.arg is None or keyword.arg not in parameters:
            raise _refused(node, code, f"has an argument {keyword.arg or '**'!r} it does not take")
        if keyword.arg in arguments:
            raise ModelOutputError(f"{name} gives {keyword.arg} twice: {quote(source)}")
        arguments[keyword.arg] = _literal(keyword.value, code)
    for needed in required:
        if arguments.get(needed) is None:
            raise ModelOutputError(f"{name} needs {needed}: {quote(source)}")
    return _Call(name, arguments, positional if name == "pyautogui.hotkey" else (), source)


def _literal(node: ast.AST, code: str) -> Any:
    """A literal argument: a finite number, a string, True/False/None, or a list of them."""
    match node:
        case ast.Constant(value=bool() | None as value):
            return value
        case ast.Constant(value=int() | float() as value) if math.isfinite(value):
            return value
        case ast.Constant(value=str() as value) if len(value) <= MAX_TEXT_CHARS:
            return value
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=int() | float() as value)) if (
            not isinstance(value, bool) and math.isfinite(value)
        ):
            return -value
        case ast.List(elts=items) | ast.Tuple(elts=items) if len(items) <= 10:
            return [_literal(item, code) for item in items]
    raise _refused(node, code, "is not a literal number, string or list")


# ---------------------------------------------------------------- actions


def _number(call: _Call, name: str) -> float:
    value = call.arguments.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelOutputError(f"{call.name} needs a number {name}: {quote(call.source)}")
    return float(value)


def _at(call: _Call, space: Size, pointer: Point | None) -> Point:
    """The call's (x, y), else where the pointer is (pyautogui acts there too)."""
    if call.arguments.get("x") is None and call.arguments.get("y") is None:
        if pointer is None:
            raise ModelOutputError(
                f"{call.name} without x and y, and the pointer's place is not known: "
                f"{quote(call.source)}"
            )
        return pointer
    return pixel_point(_number(call, "x"), _number(call, "y"), space)


def _keys(call: _Call) -> tuple[str, ...]:
    given: Sequence[Any] = call.positional or [call.arguments.get("keys")]
    if len(given) == 1 and isinstance(given[0], list):
        given = given[0]
    if not given or not all(isinstance(key, str) for key in given):
        raise ModelOutputError(f"{call.name} needs key names: {quote(call.source)}")
    return key_combination(list(given), f"{call.name} {quote(call.source)}")


def _action(call: _Call, space: Size, pointer: Point | None, thought: str) -> Action:
    arguments = call.arguments
    match call.name:
        case "pyautogui.click":
            at = _at(call, space, pointer)
            button = _BUTTONS.get(str(arguments.get("button", "left")))
            clicks = arguments.get("clicks", 1)
            if button is None or clicks not in (1, 2, 3):
                raise ModelOutputError(f"unsupported click: {quote(call.source)}")
            return Click(at.x, at.y, button=button, count=int(clicks))  # type: ignore[arg-type]
        case "pyautogui.doubleClick":
            at = _at(call, space, pointer)
            return Click(at.x, at.y, count=2)
        case "pyautogui.tripleClick" | "computer.triple_click":
            at = _at(call, space, pointer)
            return Click(at.x, at.y, count=3)
        case "pyautogui.rightClick" | "pyautogui.middleClick":
            at = _at(call, space, pointer)
            return Click(at.x, at.y, button="right" if "right" in call.name else "middle")
        case "pyautogui.moveTo":
            at = _at(call, space, pointer)
            return Move(at.x, at.y)
        case "pyautogui.dragTo":
            if pointer is None:
                raise ModelOutputError(
                    f"dragTo from an unknown place (move there first): {quote(call.source)}"
                )
            return Drag((pointer, _at(call, space, pointer)))
        case "pyautogui.scroll" | "pyautogui.hscroll":
            clicks = _number(call, "clicks")
            if clicks != int(clicks) or not 0 < abs(clicks) <= MAX_SCROLL_CLICKS:
                raise ModelOutputError(f"scroll clicks out of range: {quote(call.source)}")
            placed = pointer is not None or arguments.get("x") is not None
            at = _at(call, space, pointer) if placed else Point(space.width // 2, space.height // 2)
            if call.name == "pyautogui.hscroll":  # positive scrolls right
                return Scroll(at.x, at.y, scroll_x=int(clicks))
            return Scroll(at.x, at.y, scroll_y=-int(clicks))  # pyautogui: positive scrolls up
        case "pyautogui.write" | "pyautogui.typewrite":
            text = arguments["message"]
            if not isinstance(text, str) or not text:
                raise ModelOutputError(f"{call.name} needs text: {quote(call.source)}")
            return TypeText(text)
        case "pyautogui.press" | "pyautogui.hotkey":
            return KeyPress(_keys(call))
        case "computer.wait":
            seconds = arguments.get("seconds", DEFAULT_WAIT_SECONDS)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ModelOutputError(f"wait needs seconds: {quote(call.source)}")
            return Wait(min(max(float(seconds), 0.0), MAX_WAIT_SECONDS))
    # computer.terminate
    status, answer = arguments["status"], arguments.get("answer")
    summary = answer if isinstance(answer, str) and answer else thought
    if status == "success":
        return Done(summary)
    if status == "failure":
        return Fail(summary or FAILURE_FALLBACK)
    raise ModelOutputError(f"terminate status must be success or failure: {quote(call.source)}")
