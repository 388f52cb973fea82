"""The scripted model server, spoken to by the real `openai` client over real HTTP."""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessageFunctionToolCall
from openai.types.responses import Response, ResponseComputerToolCall

from tests.model_server import (
    Hang,
    ModelServer,
    Reply,
    Request,
    chat_text,
    chat_tool_call,
    error_reply,
    responses_computer_call,
    responses_message,
)


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def _client(server: ModelServer, timeout: float = 2) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.base_url, api_key="sk-test-123", max_retries=0, timeout=timeout
    )


def _png(width: int, height: int) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _first_call(completion: ChatCompletion) -> ChatCompletionMessageFunctionToolCall:
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert isinstance(calls[0], ChatCompletionMessageFunctionToolCall)
    return calls[0]


def test_the_builders_validate_strictly_against_the_sdk_types() -> None:
    ChatCompletion.model_validate(chat_tool_call("click", {"x": 1, "y": 2}).body)
    ChatCompletion.model_validate(chat_text("hello").body)
    Response.model_validate(responses_message("done").body)
    click = {"type": "click", "button": "left", "x": 5, "y": 6}
    Response.model_validate(responses_computer_call(click, reasoning="why").body)
    Response.model_validate(responses_computer_call(actions=[click, {"type": "wait"}]).body)
    with pytest.raises(ValueError, match="exactly one"):
        responses_computer_call()


def test_chat_tool_call_parses(server: ModelServer) -> None:
    server.script(chat_tool_call("click", {"x": 10, "y": 20}, usage=(321, 12)))
    completion = _client(server).chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "go"}]
    )
    call = _first_call(completion)
    assert call.type == "function" and call.function.name == "click"
    assert json.loads(call.function.arguments) == {"x": 10, "y": 20}
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.prompt_tokens == 321
    assert completion.usage.total_tokens == 333


def test_malformed_arguments_pass_through_unchanged(server: ModelServer) -> None:
    server.script(chat_tool_call("click", '{"x": 10,', content="thinking"))
    completion = _client(server).chat.completions.create(model="m", messages=[])
    message = completion.choices[0].message
    assert message.content == "thinking"
    assert _first_call(completion).function.arguments == '{"x": 10,'


def test_chat_text(server: ModelServer) -> None:
    server.script(chat_text("Action: click(start_box='(100,200)')"))
    completion = _client(server).chat.completions.create(model="ui-tars", messages=[])
    assert completion.choices[0].message.content == "Action: click(start_box='(100,200)')"
    assert completion.choices[0].message.tool_calls is None


def test_responses_computer_call_with_one_action(server: ModelServer) -> None:
    check = {"id": "cu_sc_1", "code": "malicious_instructions", "message": "careful"}
    server.script(
        responses_computer_call(
            {"type": "click", "button": "left", "x": 640, "y": 360},
            call_id="call_abc",
            pending_safety_checks=[check],
            reasoning="The button is in the middle.",
            usage=(1500, 40),
            response_id="resp_1",
        )
    )
    response = _client(server).responses.create(model="computer-use-preview", input="go")
    assert response.id == "resp_1" and response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1500, 40)
    reasoning, call = response.output
    assert reasoning.type == "reasoning" and reasoning.summary[0].text.startswith("The button")
    assert isinstance(call, ResponseComputerToolCall)
    assert call.call_id == "call_abc" and call.actions is None
    assert call.action is not None and call.action.type == "click"
    assert (call.action.x, call.action.y, call.action.button) == (640, 360, "left")
    assert call.pending_safety_checks[0].id == "cu_sc_1"
    assert call.pending_safety_checks[0].code == "malicious_instructions"


def test_responses_computer_call_with_batched_actions(server: ModelServer) -> None:
    batch: list[dict[str, Any]] = [
        {"type": "click", "button": "left", "x": 1, "y": 2},
        {"type": "type", "text": "こんにちは"},
        {"type": "keypress", "keys": ["ENTER"]},
    ]
    server.script(responses_computer_call(actions=batch))
    response = _client(server).responses.create(model="gpt-5.4", input="go")
    (call,) = response.output
    assert isinstance(call, ResponseComputerToolCall) and call.action is None
    assert call.actions is not None
    assert [action.type for action in call.actions] == ["click", "type", "keypress"]
    assert call.actions[1].text == "こんにちは"  # type: ignore[union-attr]


def test_responses_message(server: ModelServer) -> None:
    server.script(responses_message("All done, boss."))
    response = _client(server).responses.create(model="m", input="go")
    assert response.output_text == "All done, boss."


def test_rate_limit_with_retry_after(server: ModelServer) -> None:
    server.script(error_reply(429, "Rate limit reached", retry_after=1))
    with pytest.raises(openai.RateLimitError) as caught:
        _client(server).chat.completions.create(model="m", messages=[])
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.code == "rate_limit_exceeded"
    assert "Rate limit reached" in caught.value.message


def test_a_hang_times_the_client_out(server: ModelServer) -> None:
    server.script(Hang(5), chat_text("after the hang"))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        _client(server, timeout=0.5).chat.completions.create(model="m", messages=[])
    assert time.monotonic() - started < 2
    # The hang took its reply; the next request gets the next one at once.
    completion = _client(server).chat.completions.create(model="m", messages=[])
    assert completion.choices[0].message.content == "after the hang"


def test_requests_are_recorded_with_headers_and_images(server: ModelServer) -> None:
    server.script(chat_text("ok"), responses_message("ok"))
    before = time.monotonic()
    chat_image, shot = _png(64, 48), _png(32, 16)
    content: Any = [
        {"type": "text", "text": "where?"},
        {"type": "image_url", "image_url": {"url": chat_image}},
    ]
    _client(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": content}]
    )
    items: Any = [
        {
            "type": "computer_call_output",
            "call_id": "call_1",
            "output": {"type": "computer_screenshot", "image_url": shot},
        },
        {
            "role": "user",
            "content": [{"type": "input_image", "image_url": chat_image, "detail": "auto"}],
        },
    ]
    _client(server).responses.create(model="computer-use-preview", input=items)
    chat, responses = server.requests
    assert chat.path == "/v1/chat/completions" and responses.path == "/v1/responses"
    assert chat.headers["authorization"] == "Bearer sk-test-123"
    assert chat.body["model"] == "m" and chat.received_at >= before
    assert chat.images()[0].startswith(b"\x89PNG")
    assert chat.image_sizes() == [(64, 48)]
    assert responses.image_sizes() == [(32, 16), (64, 48)]
    assert server.pending == 0


def test_a_callable_reply_sees_the_request(server: ModelServer) -> None:
    def judge(request: Request) -> Reply:
        width, height = request.image_sizes()[0]
        return chat_tool_call("click", {"x": width // 2, "y": height // 2})

    server.script(judge)
    image: Any = {"type": "image_url", "image_url": {"url": _png(100, 60)}}
    completion = _client(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": [image]}]
    )
    assert json.loads(_first_call(completion).function.arguments) == {"x": 50, "y": 30}


def test_an_empty_queue_is_a_loud_500(server: ModelServer) -> None:
    with pytest.raises(openai.InternalServerError, match="no scripted reply left"):
        _client(server).chat.completions.create(model="m", messages=[])
    assert len(server.requests) == 1


def test_models_list_and_unknown_paths(server: ModelServer) -> None:
    models = _client(server).models.list()
    assert [model.id for model in models.data] == ["scripted-chat-model"]
    probe = urllib.request.Request(server.base_url + "/embeddings", data=b'{"input": "x"}')
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(probe, timeout=2)
    assert caught.value.code == 404
    error = json.loads(caught.value.read())["error"]
    assert set(error) >= {"message", "type", "code"} and "Invalid URL" in error["message"]
    assert server.pending == 0 and len(server.requests) == 2
