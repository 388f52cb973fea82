"""The OpenAI computer-use policy against a scripted Responses server, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from agent.actions import Click, Done, Drag, Fail, KeyPress, Scroll, TypeText
from agent.config.profiles import Profile
from agent.desktop.protocol import Frame
from agent.errors import ModelError, ModelOutputError
from agent.geometry import Point, Size
from agent.policy.client import ModelClient
from agent.policy.model_image import long_side_size, prepare_image
from agent.policy.openai_cua import Approver, OpenAICuaPolicy, SafetyCheck
from agent.policy.protocol import Observation, StepRecord
from agent.stop import StopToken
from tests.model_server import (
    ModelServer,
    Request,
    error_reply,
    responses_computer_call,
    responses_message,
)

SCREEN = Size(1920, 1080)
GOAL = "Open the notes app and write 'hello boss'"
CHECK = {"id": "sc_1", "code": "malicious_instructions", "message": "Odd text on the screen"}


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def _profile(server: ModelServer, **changes: Any) -> Profile:
    settings: dict[str, Any] = {
        "policy": "openai-cua",
        "base_url": server.base_url,
        "max_retries": 0,
        "timeout_seconds": 5,
        "price_input_per_million": 2.0,
        "price_output_per_million": 8.0,
    }
    return Profile.model_validate({**settings, **changes})


def _policy(
    server: ModelServer,
    *,
    approve: Approver = lambda checks: False,
    tool: Any = "computer_use_preview",
    **changes: Any,
) -> OpenAICuaPolicy:
    profile = _profile(server, **changes)
    client = ModelClient(profile, StopToken(), environ={"OPENAI_API_KEY": "sk-test-cua"})
    return OpenAICuaPolicy(GOAL, profile, client, approve=approve, tool=tool)


def _observation(step: int, shade: int = 0) -> Observation:
    pixels = np.full((SCREEN.height, SCREEN.width, 4), shade, np.uint8)
    pixels[:, : SCREEN.width // 2, 2] = 255 - shade  # not uniform, so every shade differs
    return Observation(step, Frame(pixels, time.monotonic()), SCREEN)


def _body(request: Request) -> dict[str, Any]:
    assert request.path == "/v1/responses"
    assert isinstance(request.body, dict)
    return request.body


def _click(x: int, y: int) -> dict[str, Any]:
    return {"type": "click", "button": "left", "x": x, "y": y}


def test_the_first_request_sends_the_goal_and_the_image_the_tool_describes(
    server: ModelServer,
) -> None:
    server.script(responses_computer_call(_click(640, 360)))
    _policy(server).decide(_observation(1), ())

    (request,) = server.requests
    body = _body(request)
    assert request.headers["authorization"] == "Bearer sk-test-cua"
    assert body["model"] == "computer-use-preview"
    assert body["tools"] == [
        {
            "type": "computer_use_preview",
            "display_width": 1280,
            "display_height": 720,
            "environment": "linux",
        }
    ]
    assert body["truncation"] == "auto"
    assert body["reasoning"] == {"summary": "concise"}
    assert "previous_response_id" not in body and "temperature" not in body
    (message,) = body["input"]
    assert message["role"] == "user"
    text, image = message["content"]
    assert text["type"] == "input_text" and GOAL in text["text"]
    assert "FAILED:" in text["text"]
    assert image["type"] == "input_image" and image["image_url"].startswith("data:image/jpeg")
    assert request.image_sizes() == [(1280, 720)]


@pytest.mark.parametrize(
    ("model_point", "screen_point"),
    [((640, 360), (960, 540)), ((0, 0), (0, 0)), ((1279, 719), (1919, 1079)), ((1, 2), (2, 3))],
)
def test_points_in_the_image_become_points_on_the_screen(
    server: ModelServer, model_point: tuple[int, int], screen_point: tuple[int, int]
) -> None:
    server.script(responses_computer_call(_click(*model_point)))
    observation = _observation(1)
    decision = _policy(server).decide(observation, ())

    assert decision.actions == (Click(*screen_point),)
    image = prepare_image(observation.frame, long_side_size(SCREEN, 1280))
    assert image.to_model(Point(*screen_point)) == Point(*model_point)  # and back again


def test_the_next_request_answers_the_call_with_a_new_screenshot(server: ModelServer) -> None:
    server.script(
        responses_computer_call(_click(10, 10), call_id="call_A", response_id="resp_1"),
        responses_computer_call(_click(20, 20), call_id="call_B", response_id="resp_2"),
        responses_message("All done."),
    )
    policy = _policy(server)
    first = policy.decide(_observation(1, shade=0), ())
    history = [StepRecord(1, first.actions, first.thought)]
    policy.decide(_observation(2, shade=100), history)
    history.append(StepRecord(2, (Click(30, 30),), ""))
    assert policy.decide(_observation(3, shade=200), history).actions == (Done("All done."),)

    bodies = [_body(request) for request in server.requests]
    for body, response_id, call_id in (
        (bodies[1], "resp_1", "call_A"),
        (bodies[2], "resp_2", "call_B"),
    ):
        assert body["previous_response_id"] == response_id
        (output,) = body["input"]
        assert output["type"] == "computer_call_output"
        assert output["call_id"] == call_id
        assert output["output"]["type"] == "computer_screenshot"
        assert output["acknowledged_safety_checks"] == []
        assert body["tools"][0]["display_width"] == 1280
    assert [request.image_sizes() for request in server.requests] == [[(1280, 720)]] * 3
    images = [request.images()[0] for request in server.requests]
    assert len(set(images)) == 3  # each request carries the screen of its own step


def test_a_batch_of_actions_becomes_several_actions_in_order(server: ModelServer) -> None:
    batch = [
        _click(640, 360),
        {"type": "type", "text": "hello boss"},
        {"type": "screenshot"},
        {"type": "keypress", "keys": ["CTRL", "s"]},
        {"type": "scroll", "x": 0, "y": 0, "scroll_x": 0, "scroll_y": 300},
        {"type": "drag", "path": [{"x": 0, "y": 0}, {"x": 1279, "y": 719}]},
    ]
    server.script(responses_computer_call(actions=batch))
    decision = _policy(server, tool="computer").decide(_observation(1), ())

    assert decision.actions == (
        Click(960, 540),
        TypeText("hello boss"),
        KeyPress(("ctrl", "s")),
        Scroll(0, 0, scroll_y=3),
        Drag((Point(0, 0), Point(1919, 1079))),
    )
    body = _body(server.requests[0])
    assert body["tools"] == [{"type": "computer"}]
    assert len(server.requests) == 1


def test_a_screenshot_action_asks_for_nothing_but_a_new_look(server: ModelServer) -> None:
    server.script(
        responses_computer_call({"type": "screenshot"}, call_id="call_S"),
        responses_message("Done."),
    )
    policy = _policy(server)
    decision = policy.decide(_observation(1), ())
    assert decision.actions == ()
    policy.decide(_observation(2), [StepRecord(1, (), decision.thought)])
    assert _body(server.requests[1])["input"][0]["call_id"] == "call_S"


def test_a_denied_safety_check_fails_and_nothing_of_the_call_runs(server: ModelServer) -> None:
    asked: list[tuple[SafetyCheck, ...]] = []

    def deny(checks: tuple[SafetyCheck, ...]) -> bool:
        asked.append(checks)
        return False

    server.script(responses_computer_call(_click(5, 5), pending_safety_checks=[CHECK]))
    decision = _policy(server, approve=deny).decide(_observation(1), ())

    assert asked == [(SafetyCheck("sc_1", "malicious_instructions", "Odd text on the screen"),)]
    (action,) = decision.actions
    assert isinstance(action, Fail)
    assert "the boss did not approve" in action.reason
    assert "malicious_instructions" in action.reason


def test_an_approved_safety_check_is_acknowledged_once_in_the_next_request(
    server: ModelServer,
) -> None:
    other = {"id": "sc_2", "code": "irrelevant_domain", "message": "Off the task"}
    server.script(
        responses_computer_call(_click(640, 360), pending_safety_checks=[CHECK, other]),
        responses_computer_call(_click(1, 1), call_id="call_2"),
        responses_message("Done."),
    )
    policy = _policy(server, approve=lambda checks: True)
    decision = policy.decide(_observation(1), ())
    assert decision.actions == (Click(960, 540),)
    policy.decide(_observation(2), [StepRecord(1, decision.actions, "")])
    policy.decide(_observation(3), [StepRecord(2, (), "")])

    acknowledged = _body(server.requests[1])["input"][0]["acknowledged_safety_checks"]
    assert acknowledged == [CHECK, other]
    assert _body(server.requests[2])["input"][0]["acknowledged_safety_checks"] == []


def test_a_final_message_ends_the_task(server: ModelServer) -> None:
    server.script(responses_message("I wrote 'hello boss' in the notes app."))
    decision = _policy(server).decide(_observation(1), ())
    assert decision.actions == (Done("I wrote 'hello boss' in the notes app."),)


def test_a_final_message_that_says_it_failed_is_a_failure(server: ModelServer) -> None:
    server.script(responses_message("FAILED: there is no notes app on this computer."))
    decision = _policy(server).decide(_observation(1), ())
    assert decision.actions == (Fail("there is no notes app on this computer."),)


def test_usage_cost_and_thought_come_with_the_decision(server: ModelServer) -> None:
    reply = responses_computer_call(
        _click(640, 360), reasoning="The notes app icon is in the middle.", usage=(1000, 50)
    )
    server.script(reply)
    decision = _policy(server).decide(_observation(1), ())

    assert (decision.usage.input_tokens, decision.usage.output_tokens) == (1000, 50)
    assert decision.usage.cost_usd == pytest.approx((1000 * 2.0 + 50 * 8.0) / 1e6)
    assert decision.thought == "The notes app icon is in the middle."


def test_a_malformed_call_is_rejected_and_the_next_request_still_answers_it(
    server: ModelServer,
) -> None:
    server.script(
        responses_computer_call({"type": "clik", "x": 1, "y": 1}, call_id="call_bad"),
        responses_computer_call(_click(640, 360), call_id="call_good"),
    )
    policy = _policy(server)
    with pytest.raises(ModelOutputError, match="clik") as rejected:
        policy.decide(_observation(1), ())
    # The runner records the rejected reply; the policy must not repeat the same error twice.
    history = [StepRecord(1, (), "", error=str(rejected.value))]
    assert policy.decide(_observation(2), history).actions == (Click(960, 540),)

    body = _body(server.requests[1])
    output, note = body["input"]
    assert output["type"] == "computer_call_output" and output["call_id"] == "call_bad"
    assert output["output"]["type"] == "computer_screenshot"
    assert server.requests[1].image_sizes() == [(1280, 720)]
    assert note["role"] == "user"
    (text,) = note["content"]
    assert text["text"] == f"Your last action could not be used: {rejected.value}"


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (_click(1280, 10), "outside the 1280x720 screenshot"),
        ({"type": "type"}, "type needs a non-empty 'text'"),
    ],
)
def test_a_bad_action_is_a_model_output_error(
    server: ModelServer, action: dict[str, Any], error: str
) -> None:
    server.script(responses_computer_call(action))
    with pytest.raises(ModelOutputError, match=error):
        _policy(server).decide(_observation(1), ())


def test_a_call_without_actions_is_a_model_output_error(server: ModelServer) -> None:
    server.script(responses_computer_call(actions=[]))
    with pytest.raises(ModelOutputError, match="non-empty 'actions'"):
        _policy(server, tool="computer").decide(_observation(1), ())


def test_a_failed_action_is_told_to_the_model_after_the_call_output(server: ModelServer) -> None:
    server.script(
        responses_computer_call(_click(640, 360), call_id="call_1"),
        responses_computer_call(_click(641, 360), call_id="call_2"),
        responses_message("Done."),
    )
    policy = _policy(server)
    first = policy.decide(_observation(1), ())
    history = [StepRecord(1, first.actions, "", error="click left (960, 540): the window vanished")]
    policy.decide(_observation(2), history)
    history.append(StepRecord(2, (Click(961, 540),), ""))
    policy.decide(_observation(3), history)

    output, note = _body(server.requests[1])["input"]
    assert output["call_id"] == "call_1"
    assert note["content"] == [
        {
            "type": "input_text",
            "text": "The last action failed: click left (960, 540): the window vanished",
        }
    ]
    assert [item["type"] for item in _body(server.requests[2])["input"]] == ["computer_call_output"]


def test_temperature_is_sent_and_reasoning_only_to_computer_use_models(
    server: ModelServer,
) -> None:
    server.script(responses_message("Done."))
    _policy(server, model="gpt-5.4", temperature=0.2).decide(_observation(1), ())
    body = _body(server.requests[0])
    assert body["model"] == "gpt-5.4"
    assert body["temperature"] == 0.2
    assert "reasoning" not in body


def test_an_http_error_is_a_model_error_and_the_next_try_starts_afresh(
    server: ModelServer,
) -> None:
    server.script(error_reply(400, "bad image"), responses_message("Done."))
    policy = _policy(server)
    with pytest.raises(ModelError, match="HTTP 400"):
        policy.decide(_observation(1), ())
    assert policy.decide(_observation(1), ()).actions == (Done("Done."),)
    assert "previous_response_id" not in _body(server.requests[1])


def test_a_reply_without_a_call_or_a_message_is_rejected_and_the_screen_shown_again(
    server: ModelServer,
) -> None:
    empty = responses_message("unused", response_id="resp_empty")
    empty.body["output"] = []
    server.script(empty, responses_message("Done."))
    policy = _policy(server)
    with pytest.raises(ModelOutputError, match="neither a computer_call nor a final message"):
        policy.decide(_observation(1), ())
    assert policy.decide(_observation(2), ()).actions == (Done("Done."),)

    body = _body(server.requests[1])
    assert body["previous_response_id"] == "resp_empty"
    (message,) = body["input"]
    text, image = message["content"]
    assert text["text"].startswith("Your last action could not be used: the reply has neither")
    assert image["type"] == "input_image"
    assert server.requests[1].image_sizes() == [(1280, 720)]
