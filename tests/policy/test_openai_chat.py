"""The openai-chat policy against a scripted Chat Completions server, over real HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

from agent.actions import AskBoss, Click, Done, Drag, Fail, KeyPress, Move, Scroll, TypeText, Wait
from agent.config.profiles import Profile
from agent.desktop.protocol import Frame
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.client import ModelClient
from agent.policy.model_image import prepare_image
from agent.policy.openai_chat import OpenAIChatPolicy
from agent.policy.protocol import Observation, StepRecord
from agent.stop import StopToken
from tests.model_server import ModelServer, Request, chat_text, chat_tool_call

SCREEN = Size(1920, 1080)
GOAL = "Open the notes app and write 'hello boss'"


def _policy(server: ModelServer, **changes: Any) -> OpenAIChatPolicy:
    settings: dict[str, Any] = {
        "policy": "openai-chat",
        "base_url": server.base_url,
        "max_retries": 0,
        "timeout_seconds": 5,
        "price_input_per_million": 2.0,
        "price_output_per_million": 8.0,
    }
    profile = Profile.model_validate({**settings, **changes})
    client = ModelClient(profile, StopToken(), environ={"OPENAI_API_KEY": "sk-test-chat"})
    return OpenAIChatPolicy(GOAL, profile, client)


def _observation(step: int, shade: int = 0) -> Observation:
    pixels = np.full((SCREEN.height, SCREEN.width, 4), shade, np.uint8)
    pixels[:, : SCREEN.width // 2, 2] = 255 - shade  # not uniform, so every shade differs
    return Observation(step, Frame(pixels, time.monotonic()), SCREEN)


def _body(request: Request) -> dict[str, Any]:
    assert request.path == "/v1/chat/completions"
    assert isinstance(request.body, dict)
    return request.body


def _computer(**arguments: Any) -> Any:
    return chat_tool_call("computer", arguments)


def _decide_one(server: ModelServer, reply: Any, **changes: Any) -> Any:
    server.script(reply)
    return _policy(server, **changes).decide(_observation(1), ())


def _user_text(body: dict[str, Any]) -> str:
    user = body["messages"][1]
    assert user["role"] == "user"
    return "\n".join(part["text"] for part in user["content"] if part["type"] == "text")


# ---- the request


def test_the_request_has_the_instructions_the_tools_and_the_screen(server: ModelServer) -> None:
    observation = _observation(1, shade=40)
    server.script(_computer(type="click", x=640, y=360))
    _policy(server).decide(observation, ())

    (request,) = server.requests
    body = _body(request)
    assert request.headers["authorization"] == "Bearer sk-test-chat"
    assert body["model"] == "gpt-4.1"
    assert body["tool_choice"] == "required"
    assert "temperature" not in body
    assert [tool["function"]["name"] for tool in body["tools"]] == [
        "computer",
        "done",
        "fail",
        "ask_boss",
    ]
    system, user = body["messages"]
    assert system["role"] == "system"
    assert "1920x1080 screen" in system["content"]
    assert "1280x720 pixels" in system["content"]
    assert "x from 0 (left) to 1279" in system["content"]
    assert "y from 0 (top) to 719" in system["content"]
    assert user["role"] == "user"
    assert f"Task: {GOAL}" in _user_text(body)
    assert "Steps so far" not in _user_text(body)
    assert request.image_sizes() == [(1280, 720)]
    # The image sent is the current screen, as the policy prepares it.
    assert request.images()[-1] == prepare_image(observation.frame, Size(1280, 720)).data
    assert user["content"][-1]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_temperature_model_and_png_come_from_the_profile(server: ModelServer) -> None:
    _decide_one(
        server,
        chat_tool_call("done", {"summary": "ok"}),
        model="qwen2.5-vl",
        temperature=0.0,
        image_format="png",
        image_long_side=960,
    )
    request = server.requests[0]
    body = _body(request)
    assert body["model"] == "qwen2.5-vl"
    assert body["temperature"] == 0.0
    assert body["messages"][1]["content"][-1]["image_url"]["url"].startswith("data:image/png")
    assert request.image_sizes() == [(960, 540)]
    assert "960x540 pixels" in body["messages"][0]["content"]


def test_the_current_screen_comes_last_after_at_most_the_kept_history(
    server: ModelServer,
) -> None:
    server.script(*[_computer(type="wait") for _ in range(5)])
    policy = _policy(server, history_screenshots=3)
    history: list[StepRecord] = []
    observations = [_observation(step, shade=step * 40) for step in range(1, 6)]
    for observation in observations:
        decision = policy.decide(observation, history)
        history.append(StepRecord(observation.step, decision.actions, decision.thought))

    counts = [len(request.images()) for request in server.requests]
    assert counts == [1, 2, 3, 3, 3]
    last = server.requests[-1]
    assert last.image_sizes() == [(1280, 720)] * 3
    expected = [prepare_image(o.frame, Size(1280, 720)).data for o in observations[2:]]
    assert last.images() == expected  # steps 3 and 4, then the current step 5
    text = _user_text(_body(last))
    assert "Screen at step 3:" in text and "Screen at step 4:" in text
    assert "Screen at step 2:" not in text
    content = _body(last)["messages"][1]["content"]
    assert content[-2]["text"].startswith("Current screen")


# ---- actions


@pytest.mark.parametrize(
    ("arguments", "action"),
    [
        ({"type": "click", "x": 640, "y": 360}, Click(960, 540)),
        ({"type": "click", "x": 0, "y": 0, "button": "right"}, Click(0, 0, button="right")),
        ({"type": "double_click", "x": 1279, "y": 719}, Click(1919, 1079, count=2)),
        ({"type": "click", "x": 640, "y": 360, "button": "wheel"}, Click(960, 540, "middle")),
        ({"type": "move", "x": 640.4, "y": 360}, Move(960, 540)),
        ({"type": "keypress", "keys": ["CTRL", "S"]}, KeyPress(("ctrl", "s"))),
        ({"type": "type", "text": "hello boss"}, TypeText("hello boss")),
        ({"type": "scroll", "x": 640, "y": 360, "scroll_y": 300}, Scroll(960, 540, scroll_y=3)),
        (
            {"type": "scroll", "x": 640, "y": 360, "scroll_x": -40, "scroll_y": -250},
            Scroll(960, 540, scroll_x=-1, scroll_y=-2),
        ),
        (
            {"type": "drag", "path": [{"x": 0, "y": 0}, {"x": 640, "y": 360}]},
            Drag((Point(0, 0), Point(960, 540))),
        ),
        ({"type": "wait"}, Wait(1.0)),
    ],
)
def test_a_computer_call_becomes_an_action_on_the_screen(
    server: ModelServer, arguments: dict[str, Any], action: Any
) -> None:
    decision = _decide_one(server, _computer(**arguments))
    assert decision.actions == (action,)


def test_a_screenshot_call_is_no_action(server: ModelServer) -> None:
    assert _decide_one(server, _computer(type="screenshot")).actions == ()


@pytest.mark.parametrize(
    ("name", "arguments", "action"),
    [
        ("done", {"summary": "Wrote it."}, Done("Wrote it.")),
        ("fail", {"reason": "No notes app."}, Fail("No notes app.")),
        ("fail", {}, Fail("the model gave up")),
        ("ask_boss", {"question": "Which file?"}, AskBoss("Which file?")),
        ("ask_boss", {"question": ""}, AskBoss("(no question given)")),
    ],
)
def test_the_other_tools_end_or_pause_the_task(
    server: ModelServer, name: str, arguments: dict[str, Any], action: Any
) -> None:
    assert _decide_one(server, chat_tool_call(name, arguments)).actions == (action,)


def test_the_thought_usage_and_cost_come_with_the_decision(server: ModelServer) -> None:
    reply = chat_tool_call(
        "computer",
        {"type": "click", "x": 640, "y": 360},
        content="  The notes icon is in the middle.  ",
        usage=(1000, 50),
    )
    decision = _decide_one(server, reply)
    assert decision.thought == "The notes icon is in the middle."
    assert (decision.usage.input_tokens, decision.usage.output_tokens) == (1000, 50)
    assert decision.usage.cost_usd == pytest.approx((1000 * 2.0 + 50 * 8.0) / 1e6)


def test_without_prices_a_decision_costs_nothing(server: ModelServer) -> None:
    reply = chat_tool_call("done", {"summary": "ok"}, usage=(5000, 100))
    decision = _decide_one(server, reply, price_input_per_million=0, price_output_per_million=0)
    assert decision.usage.input_tokens == 5000
    assert decision.usage.cost_usd == 0.0


# ---- history


def test_the_history_tells_the_model_what_it_did_and_what_failed(server: ModelServer) -> None:
    server.script(
        _computer(type="click", x=640, y=360),
        _computer(type="type", text="hello boss"),
        chat_tool_call("done", {"summary": "ok"}),
    )
    policy = _policy(server)
    first = policy.decide(_observation(1), ())
    history = [StepRecord(1, first.actions, first.thought)]
    second = policy.decide(_observation(2), history)
    history.append(StepRecord(2, second.actions, second.thought, error="type: the window vanished"))
    policy.decide(_observation(3), history)

    second_text = _user_text(_body(server.requests[1]))
    assert "Steps so far:" in second_text
    assert "step 1: computer " in second_text
    assert '"x": 640' in second_text and "-> done" in second_text
    assert "did not work" not in second_text

    third_text = _user_text(_body(server.requests[2]))
    lines = third_text.splitlines()
    assert any(line.strip().startswith("step 1: computer") for line in lines)
    step_two = next(line for line in lines if line.strip().startswith("step 2:"))
    assert "hello boss" in step_two
    assert step_two.endswith("-> failed: type: the window vanished")
    assert "Your last step did not work: type: the window vanished. Try another way." in lines


def test_a_step_whose_reply_was_rejected_shows_as_no_usable_action(server: ModelServer) -> None:
    server.script(chat_text("I will click the icon."), chat_tool_call("done", {"summary": "ok"}))
    policy = _policy(server)
    with pytest.raises(ModelOutputError) as rejected:
        policy.decide(_observation(1), ())
    history = [StepRecord(1, (), "", error=str(rejected.value))]
    policy.decide(_observation(2), history)

    text = _user_text(_body(server.requests[1]))
    assert "step 1: (no usable action) -> failed: the reply called no tool" in text


# ---- replies that cannot be used


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (chat_text("I would click the icon."), "called no tool; it said: 'I would click"),
        (chat_text(""), r"called no tool; it said: '\(empty\)'"),
        (chat_tool_call("computer", '{"type": "click", "x": 1'), "not valid JSON"),
        (chat_tool_call("computer", "[1, 2]"), "arguments must be an object"),
        (chat_tool_call("click", {"x": 1, "y": 2}), "unknown tool 'click'"),
        (_computer(type="triple_click", x=1, y=1), "unknown computer action 'triple_click'"),
        (_computer(type="click", x=1280, y=10), r"\(1280, 10\) is outside the 1280x720"),
        (_computer(type="click", x=5, y=720), r"\(5, 720\) is outside the 1280x720"),
        (_computer(type="click", x=-1, y=5), "outside the 1280x720 screenshot"),
        (_computer(type="click", x="ten", y=5), "click needs a number 'x'"),
        (_computer(type="keypress", keys=[]), "keypress needs 'keys'"),
        (_computer(type="drag", path=[{"x": 1, "y": 1}]), "drag needs a 'path'"),
    ],
)
def test_an_unusable_reply_is_a_model_output_error(
    server: ModelServer, reply: Any, message: str
) -> None:
    with pytest.raises(ModelOutputError, match=message):
        _decide_one(server, reply)


def test_the_arguments_quoted_in_an_error_are_what_the_model_sent(server: ModelServer) -> None:
    with pytest.raises(ModelOutputError) as raised:
        _decide_one(server, chat_tool_call("computer", "{type: click}"))
    assert "'{type: click}'" in str(raised.value)


def test_several_tool_calls_in_one_reply_act_in_order(server: ModelServer) -> None:
    reply = _computer(type="click", x=640, y=360)
    message = reply.body["choices"][0]["message"]
    second = {
        "id": "call_2",
        "type": "function",
        "function": {"name": "computer", "arguments": json.dumps({"type": "type", "text": "hi"})},
    }
    message["tool_calls"].append(second)
    assert _decide_one(server, reply).actions == (Click(960, 540), TypeText("hi"))
