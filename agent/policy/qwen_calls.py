"""The `<tool_call>` blocks of a Qwen reply, in either form, as (name, arguments) calls.

Qwen2.5-VL and Qwen3-VL write JSON::

    <tool_call>
    {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [500, 300]}}
    </tool_call>

Qwen3.5 and later write the XML form of their chat template::

    <tool_call>
    <function=computer_use>
    <parameter=action>
    left_click
    </parameter>
    <parameter=coordinate>
    [500, 300]
    </parameter>
    </function>
    </tool_call>

A server with a tool-call parser (vLLM's hermes) hands the same calls over already parsed, as
the message's `tool_calls`; raw text comes from servers without one (Ollama, plain vLLM).
What the calls mean is for `qwen_format`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.errors import ModelOutputError
from agent.policy.chat_reply import ToolCall
from agent.policy.text_reply import quote

_OPEN = "<tool_call>"
_CLOSE = "</tool_call>"
_FUNCTION = re.compile(r"<function=([^>\s]+)>")
_PARAMETER = re.compile(r"<parameter=([^>\s]+)>(.*?)</parameter>", re.DOTALL)
# XML parameter values are text; these stay text even when they look like JSON (typing "42").
_TEXT_PARAMETERS = frozenset({"action", "text", "status"})


@dataclass(frozen=True, slots=True)
class RawCall:
    name: str
    arguments: dict[str, Any]
    source: str  # as the model wrote it, for error messages


def calls_in_text(text: str) -> tuple[str, list[RawCall]]:
    """The text outside the blocks (the thought) and each block's call, in order."""
    outside, blocks = _split(text)
    thought = "\n".join(part for part in (p.strip() for p in outside) if part)
    return thought, [_block_call(block) for block in blocks]


def calls_from_tools(tool_calls: Sequence[ToolCall]) -> list[RawCall]:
    """Calls a server's tool-call parser already read."""
    return [
        _call_of(call.name, call.arguments, f"{call.name} {call.arguments}") for call in tool_calls
    ]


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


def _block_call(block: str) -> RawCall:
    source = block.strip()
    if source.startswith("<function="):
        return _xml_call(source)
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
    if "arguments" not in data:
        raise ModelOutputError(f"tool call has no 'arguments': {quote(source)}")
    return _call_of(data["name"], data["arguments"], source)


def _call_of(name: Any, arguments: Any, source: str) -> RawCall:
    if not isinstance(name, str):
        raise ModelOutputError(f"tool call 'name' must be a string: {quote(source)}")
    if isinstance(arguments, str):  # OpenAI-style servers send the arguments as a JSON string
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError as error:
            raise ModelOutputError(
                f"tool call arguments are not valid JSON ({error.msg}): {quote(arguments)}"
            ) from None
    if not isinstance(arguments, dict):
        raise ModelOutputError(
            f"tool call 'arguments' must be an object, got {type(arguments).__name__}: "
            f"{quote(source)}"
        )
    return RawCall(name, arguments, source)


def _xml_call(source: str) -> RawCall:
    function = _FUNCTION.match(source)
    if function is None:
        raise ModelOutputError(f"tool call has no <function=name>: {quote(source)}")
    body = source[function.end() :]
    body = body[: body.rfind("</function>")] if "</function>" in body else body
    arguments: dict[str, Any] = {}
    for parameter in _PARAMETER.finditer(body):
        name, value = parameter.group(1), parameter.group(2)
        # The template puts each value on lines of its own; only those newlines are removed.
        value = value.removeprefix("\n").removesuffix("\n")
        if name in arguments:
            raise ModelOutputError(f"parameter {name!r} given twice: {quote(source)}")
        arguments[name] = value.strip() if name in _TEXT_PARAMETERS - {"text"} else value
        if name not in _TEXT_PARAMETERS:
            # Text that is not JSON stays text: the action says whether text is wrong there.
            with contextlib.suppress(json.JSONDecodeError):
                arguments[name] = json.loads(value)
    leftover = _PARAMETER.sub("", body).strip()
    if leftover:
        raise ModelOutputError(f"tool call has text outside its parameters: {quote(source)}")
    return RawCall(function.group(1), arguments, source)
