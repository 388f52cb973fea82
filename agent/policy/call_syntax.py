"""Actions written as Python-like calls, as UI-TARS and GLM-V write them::

    click(start_box='<|box_start|>(235,512)<|box_end|>')  type(content='hi\\n')  WAIT()

`read_calls` reads one or more calls separated by whitespace into their names (lower case)
and argument strings, leniently: a quote the model forgot to escape stays in the string when
the call cannot end there. `box_centre` reads a point as the models spell it: `(x,y)`, a box
`(x1,y1,x2,y2)` (its centre), `[x, y]`, `<|box_start|>(x,y)<|box_end|>`, `<point>x y</point>`
or `<bbox>x1 y1 x2 y2</bbox>`. What the calls mean is for each model's format module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.errors import ModelOutputError
from agent.policy.text_reply import quote

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
class Call:
    name: str  # lower case
    arguments: dict[str, str]
    source: str


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def read_calls(text: str, model: str) -> list[Call]:
    calls: list[Call] = []
    pos = _skip_space(text, 0)
    while pos < len(text):
        call, pos = _call(text, pos, model)
        calls.append(call)
        pos = _skip_space(text, pos)
    return calls


def _call(text: str, start: int, model: str) -> tuple[Call, int]:
    def fail(problem: str) -> ModelOutputError:
        return ModelOutputError(f"{problem} in {model} action {quote(text[start:].strip())}")

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
    return Call(name.group().lower(), arguments, text[start:pos]), pos


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


def box_centre(argument: str, spec: str) -> tuple[float, float]:
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
