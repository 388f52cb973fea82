"""A Chat Completions reply read from its JSON, whatever shape a server gave it.

Servers differ (vLLM, Ollama, LM Studio, proxies), and a reply of the wrong shape must be a
rejected reply the model is told about, never a crash: every field a policy uses is checked
here, and anything that does not fit raises ModelOutputError naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.errors import ModelOutputError
from agent.policy.text_reply import quote


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: str  # JSON text, as OpenAI sends it


@dataclass(frozen=True, slots=True)
class ChatReply:
    content: str  # the message's text ("" when it has none)
    tool_calls: tuple[ToolCall, ...]
    input_tokens: int
    output_tokens: int
    raw: str  # the message as JSON, for the log


def read_chat_reply(data: Any) -> ChatReply:
    """The first choice's message of a chat.completion body, checked field by field."""
    if not isinstance(data, Mapping):
        raise ModelOutputError(f"the reply is not a JSON object: {quote(json.dumps(data))}")
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise ModelOutputError(f"the reply's 'choices' is not a list: {_shown(choices)}")
    if not choices:
        raise ModelOutputError("the reply has no choices")
    choice = choices[0]
    if not isinstance(choice, Mapping):
        raise ModelOutputError(f"the reply's first choice is not an object: {_shown(choice)}")
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise ModelOutputError(f"the reply's choice has no message object: {_shown(message)}")
    tokens_in, tokens_out = _usage(data.get("usage"))
    return ChatReply(
        _content(message.get("content")),
        _tool_calls(message.get("tool_calls")),
        tokens_in,
        tokens_out,
        json.dumps(message, ensure_ascii=False),
    )


def _shown(value: Any) -> str:
    return quote(json.dumps(value, ensure_ascii=False)) if value is not None else "missing"


def _content(content: Any) -> str:
    """The text: a string, or a list of parts whose text parts are joined (some servers)."""
    match content:
        case None:
            return ""
        case str():
            return content
        case list() if all(isinstance(part, Mapping) for part in content):
            texts = [part.get("text") for part in content if part.get("type") == "text"]
            if all(isinstance(text, str) for text in texts):
                return "".join(texts)
    raise ModelOutputError(f"the reply's message content is not text: {_shown(content)}")


def _tool_calls(calls: Any) -> tuple[ToolCall, ...]:
    if calls is None:
        return ()
    if not isinstance(calls, list):
        raise ModelOutputError(f"the reply's 'tool_calls' is not a list: {_shown(calls)}")
    found = []
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise ModelOutputError(f"a tool call that is not a named function: {_shown(call)}")
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):  # some servers send the object itself
            arguments = json.dumps(arguments, ensure_ascii=False)
        elif arguments is None:
            arguments = "{}"
        if not isinstance(arguments, str):
            raise ModelOutputError(
                f"the arguments of {function['name']!r} are not JSON text: {_shown(arguments)}"
            )
        found.append(ToolCall(function["name"], arguments))
    return tuple(found)


def _usage(usage: Any) -> tuple[int, int]:
    """Token counts; a missing or odd usage counts as none (it is not the model's answer)."""
    if not isinstance(usage, Mapping):
        return 0, 0
    counts = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return tuple(  # type: ignore[return-value]
        count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 0
        for count in counts
    )
