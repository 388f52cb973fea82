"""A reply of the wrong shape is a rejected reply the model is told about, never a crash; a body
that is not JSON at all is the transport's fault and is retried. Every model policy, through
the real `openai` client against a server that answers each wrong shape."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from agent.config.profiles import MODEL_POLICIES, Profile
from agent.desktop.protocol import Frame
from agent.errors import ModelOutputError
from agent.geometry import Size
from agent.policy.choose import model_policy
from agent.policy.client import ModelClient, RetryNotice
from agent.policy.protocol import Observation, Policy, StepRecord
from agent.stop import StopToken
from tests.model_server import ModelServer, Reply, chat_text, responses_message

SCREEN = Size(1920, 1080)
CHAT_POLICIES = [name for name in MODEL_POLICIES if name != "openai-cua"]


def _policy(server: ModelServer, name: str, retries: list[RetryNotice] | None = None) -> Policy:
    profile = Profile.model_validate(
        {"policy": name, "base_url": server.base_url, "max_retries": 2, "timeout_seconds": 5}
    )
    on_retry = retries.append if retries is not None else None
    client = ModelClient(profile, StopToken(), environ={}, on_retry=on_retry)
    return model_policy(profile, "Press the red button", client, lambda checks: False)


def _observation(step: int = 1) -> Observation:
    pixels = np.zeros((SCREEN.height, SCREEN.width, 4), np.uint8)
    return Observation(step, Frame(pixels, time.monotonic()), SCREEN)


def _message(**fields: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": "Thought: ok", **fields}


def _chat(**changes: Any) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": _message(), "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2},
    }
    return {**body, **changes}


CHAT_SHAPES = {
    "choices-an-object": (_chat(choices={"0": {"message": _message()}}), "'choices' is not a list"),
    "choices-missing": (
        {"id": "chatcmpl-1", "object": "chat.completion"},
        "'choices' is not a list",
    ),
    "choices-empty": (_chat(choices=[]), "has no choices"),
    "choice-a-string": (_chat(choices=["hello"]), "first choice is not an object"),
    "message-missing": (_chat(choices=[{"index": 0}]), "has no message object"),
    "message-a-string": (_chat(choices=[{"message": "hi"}]), "has no message object"),
    "content-a-number": (
        _chat(choices=[{"message": _message(content=42)}]),
        "message content is not text",
    ),
    "tool-calls-an-object": (
        _chat(choices=[{"message": _message(tool_calls={"name": "computer"})}]),
        "'tool_calls' is not a list",
    ),
    "tool-call-without-function": (
        _chat(choices=[{"message": _message(tool_calls=[{"id": "c1", "type": "function"}])}]),
        "not a named function",
    ),
    "arguments-a-number": (
        _chat(
            choices=[
                {"message": _message(tool_calls=[{"function": {"name": "done", "arguments": 7}}])}
            ]
        ),
        "are not JSON text",
    ),
    "body-a-list": ([1, 2, 3], "not a JSON object"),
}


@pytest.mark.parametrize("name", CHAT_POLICIES)
@pytest.mark.parametrize("shape", list(CHAT_SHAPES))
def test_a_chat_reply_of_the_wrong_shape_is_rejected_and_told(
    server: ModelServer, name: str, shape: str
) -> None:
    body, problem = CHAT_SHAPES[shape]
    server.script(Reply(body))
    policy = _policy(server, name)
    with pytest.raises(ModelOutputError, match=problem) as rejected:
        policy.decide(_observation(), ())
    # The next request tells the model what was wrong, as for any unusable reply.
    server.script(chat_text("no matter"))
    history = [StepRecord(1, (), "", error=f"reply rejected: {rejected.value}")]
    with pytest.raises(ModelOutputError):
        policy.decide(_observation(2), history)
    assert problem.split("'")[0] in str(server.requests[-1].body)


@pytest.mark.parametrize("name", CHAT_POLICIES)
def test_odd_usage_counts_as_no_tokens_not_as_a_bad_reply(server: ModelServer, name: str) -> None:
    finished = {
        "openai-chat": None,
        "ui-tars": "Thought: done\nAction: finished(content='ok')",
        "qwen-vl": '<tool_call>{"name": "computer_use", "arguments": '
        '{"action": "terminate", "status": "success"}}</tool_call>',
        "qwen3-vl": '<tool_call>{"name": "computer_use", "arguments": '
        '{"action": "terminate", "status": "success"}}</tool_call>',
        "glm-v": "All done.<|begin_of_box|>DONE()<|end_of_box|>",
        "opencua": "Done.\n```python\ncomputer.terminate(status='success')\n```",
    }[name]
    message = (
        _message(tool_calls=[{"function": {"name": "done", "arguments": '{"summary": "ok"}'}}])
        if finished is None
        else _message(content=finished)
    )
    server.script(Reply(_chat(choices=[{"message": message}], usage="lots")))
    decision = _policy(server, name).decide(_observation(), ())
    assert decision.actions and decision.actions[-1].kind == "done"
    assert (decision.usage.input_tokens, decision.usage.output_tokens) == (0, 0)


@pytest.mark.parametrize("name", ["qwen3-vl", "openai-cua"])
def test_a_body_that_is_not_json_is_retried(server: ModelServer, name: str) -> None:
    good = (
        responses_message("All done.")
        if name == "openai-cua"
        else chat_text('<tool_call>{"name": "computer_use", "arguments": '
                       '{"action": "terminate", "status": "success"}}</tool_call>')
    )  # fmt: skip
    server.script(Reply({}, raw="<html>502 Bad Gateway</html>"), good)
    retries: list[RetryNotice] = []
    decision = _policy(server, name, retries).decide(_observation(), ())
    assert decision.actions[-1].kind == "done"
    assert len(retries) == 1 and "is not JSON" in retries[0].reason


def _response(**changes: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "output": [], **changes}


def _computer_call(**fields: Any) -> dict[str, Any]:
    return {"type": "computer_call", "call_id": "c1", "pending_safety_checks": [], **fields}


RESPONSE_SHAPES = {
    "body-a-list": ([], "not a Responses API response"),
    "id-missing": ({"output": []}, "not a Responses API response"),
    "output-missing": ({"id": "resp_1"}, "no 'output' list"),
    "output-an-object": (_response(output={"type": "message"}), "no 'output' list"),
    "nothing-usable": (
        _response(output=["text", {"type": "reasoning", "summary": 5}]),
        "neither a computer_call nor a final message",
    ),
    "message-content-a-number": (
        _response(output=[{"type": "message", "content": 5}]),
        "neither a computer_call nor a final message",
    ),
    "call-id-missing": (
        _response(output=[{"type": "computer_call", "action": {"type": "wait"}}]),
        "without a 'call_id'",
    ),
    "actions-an-object": (
        _response(output=[_computer_call(actions={"type": "wait"})]),
        "needs an 'action' or a non-empty 'actions' list",
    ),
    "action-a-string": (
        _response(output=[_computer_call(action="click")]),
        "must be an object",
    ),
    "safety-checks-an-object": (
        _response(
            output=[_computer_call(action={"type": "wait"}, pending_safety_checks={"id": "sc_1"})]
        ),
        "'pending_safety_checks' must be a list",
    ),
}


@pytest.mark.parametrize("shape", list(RESPONSE_SHAPES))
def test_a_response_of_the_wrong_shape_is_rejected_and_told(
    server: ModelServer, shape: str
) -> None:
    body, problem = RESPONSE_SHAPES[shape]
    server.script(Reply(body))
    policy = _policy(server, "openai-cua")
    with pytest.raises(ModelOutputError, match=problem):
        policy.decide(_observation(), ())
    server.script(responses_message("All done."))
    assert policy.decide(_observation(2), ()).actions[-1].kind == "done"
    assert "could not be used" in str(server.requests[-1].body)
