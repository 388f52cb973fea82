"""The ui-tars and qwen-vl policies against a scripted Chat Completions server, over real HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

from agent.actions import AskBoss, Click, Done, Drag, Fail, KeyPress, Scroll, TypeText
from agent.config.profiles import Profile
from agent.desktop.protocol import Frame
from agent.errors import ModelOutputError
from agent.geometry import Point, Size, scale_point
from agent.policy.client import ModelClient
from agent.policy.model_image import prepare_image
from agent.policy.protocol import Decision, Observation, StepRecord
from agent.policy.qwen_policies import QwenVlPolicy
from agent.policy.text_policies import UiTarsPolicy
from agent.stop import StopToken
from tests.model_server import ModelServer, Request, chat_text

SCREEN = Size(1920, 1080)
QWEN_IMAGE = Size(1316, 728)  # smart_resize of 1920x1080 with the profile's max_pixels
GOAL = "Open the notes app and write 'hello boss'"

Policy = UiTarsPolicy | QwenVlPolicy


def _profile(server: ModelServer, policy: str, **changes: Any) -> Profile:
    settings: dict[str, Any] = {
        "policy": policy,
        "base_url": server.base_url,
        "max_retries": 0,
        "timeout_seconds": 5,
    }
    return Profile.model_validate({**settings, **changes})


def _ui_tars(server: ModelServer, **changes: Any) -> UiTarsPolicy:
    profile = _profile(server, "ui-tars", **changes)
    return UiTarsPolicy(GOAL, profile, ModelClient(profile, StopToken(), environ={}))


def _qwen(server: ModelServer, **changes: Any) -> QwenVlPolicy:
    profile = _profile(server, "qwen-vl", **changes)
    return QwenVlPolicy(GOAL, profile, ModelClient(profile, StopToken(), environ={}))


_FRAMES: dict[int, Frame] = {}


def _observation(step: int, shade: int = 0) -> Observation:
    if shade not in _FRAMES:
        pixels = np.full((SCREEN.height, SCREEN.width, 4), shade, np.uint8)
        pixels[:, : SCREEN.width // 2, 2] = 255 - shade  # not uniform: every shade differs
        _FRAMES[shade] = Frame(pixels, time.monotonic())
    return Observation(step, _FRAMES[shade], SCREEN)


def _ui_tars_reply(action: str, thought: str = "I see the notes app.") -> str:
    return f"Thought: {thought}\nAction: {action}"


def _qwen_reply(arguments: dict[str, Any], thought: str = "I see the notes app.") -> str:
    call = json.dumps({"name": "computer_use", "arguments": arguments})
    return f"{thought}\n<tool_call>\n{call}\n</tool_call>"


def _messages(request: Request) -> list[dict[str, Any]]:
    assert request.path == "/v1/chat/completions"
    assert isinstance(request.body, dict)
    messages = request.body["messages"]
    assert isinstance(messages, list)
    return messages


def _texts(message: dict[str, Any]) -> list[str]:
    content = message["content"]
    if isinstance(content, str):
        return [content]
    return [part["text"] for part in content if part["type"] == "text"]


def _run(policy: Policy, server: ModelServer, replies: list[str]) -> list[Decision]:
    """One decision per reply, each on a new screen, the history growing as the loop's would."""
    server.script(*[chat_text(reply) for reply in replies])
    history: list[StepRecord] = []
    decisions = []
    for step in range(1, len(replies) + 1):
        decision = policy.decide(_observation(step, shade=step * 30), history)
        history.append(StepRecord(step, decision.actions, decision.thought))
        decisions.append(decision)
    return decisions


# ---- what is sent


@pytest.mark.parametrize(
    ("make", "changes", "size"),
    [
        (_ui_tars, {}, (1316, 728)),
        (_ui_tars, {"coordinates": "relative"}, (1280, 720)),
        (_ui_tars, {"coordinates": "relative", "image_long_side": 1024}, (1024, 576)),
        (_qwen, {}, (1316, 728)),
        (_qwen, {"max_pixels": 12_845_056}, (1932, 1092)),
    ],
)
def test_the_image_is_sent_at_the_size_the_model_reads_points_in(
    server: ModelServer, make: Any, changes: dict[str, Any], size: tuple[int, int]
) -> None:
    server.script(chat_text("unusable"))
    with pytest.raises(ModelOutputError):
        make(server, **changes).decide(_observation(1), ())
    assert server.requests[0].image_sizes() == [size]


def test_ui_tars_gets_its_prompt_with_the_goal_first(server: ModelServer) -> None:
    server.script(chat_text(_ui_tars_reply("wait()")))
    _ui_tars(server).decide(_observation(1), ())

    request = server.requests[0]
    body = request.body
    assert body["model"] == "ByteDance-Seed/UI-TARS-1.5-7B"
    assert "tools" not in body and "temperature" not in body
    assert request.headers["authorization"] == "Bearer not-needed"
    first, current = _messages(request)
    assert first["role"] == "user"
    assert isinstance(first["content"], str)
    assert first["content"].endswith(f"## User Instruction\n{GOAL}")
    assert "## Action Space" in first["content"]
    assert "click(point='<point>x1 y1</point>')" in first["content"]
    assert current["role"] == "user"
    assert [part["type"] for part in current["content"]] == ["image_url"]
    expected = prepare_image(_observation(1).frame, QWEN_IMAGE).data
    assert request.images() == [expected]


def test_qwen_gets_the_tool_with_the_image_resolution_and_the_goal_first(
    server: ModelServer,
) -> None:
    server.script(chat_text(_qwen_reply({"action": "wait", "time": 1})))
    _qwen(server, temperature=0.1).decide(_observation(1), ())

    body = server.requests[0].body
    assert body["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert body["temperature"] == 0.1
    first = _messages(server.requests[0])[0]
    assert first["role"] == "user"
    text = first["content"]
    assert isinstance(text, str)
    tool = json.loads(text.split("<tools>\n", 1)[1].split("\n</tools>", 1)[0])
    assert tool["function"]["name"] == "computer_use"
    assert "resolution is 1316x728" in tool["function"]["description"]
    assert "left_click_drag" in tool["function"]["parameters"]["properties"]["action"]["enum"]
    assert f"Task: {GOAL}" in text
    assert "<tool_call>" in text


@pytest.mark.parametrize("make", [_ui_tars, _qwen])
def test_the_conversation_keeps_every_reply_and_the_last_few_screens(
    server: ModelServer, make: Any
) -> None:
    if make is _ui_tars:
        replies = [_ui_tars_reply(f"click(start_box='({step},{step})')") for step in range(5)]
    else:
        replies = [_qwen_reply({"action": "left_click", "coordinate": [s, s]}) for s in range(5)]
    _run(make(server), server, replies)

    assert [len(request.images()) for request in server.requests] == [1, 2, 3, 3, 3]
    last = server.requests[-1]
    messages = _messages(last)
    assert [m["content"] for m in messages if m["role"] == "assistant"] == replies[:4]
    # Steps 1 and 2 as text only; steps 3 and 4 with their screens; then the current one.
    roles = [m["role"] for m in messages]
    expected_roles = ["user", "assistant", "assistant", "user", "assistant", "user", "assistant"]
    assert roles == [*expected_roles, "user"]
    assert messages[3]["content"][0]["type"] == "image_url"
    assert messages[5]["content"][0]["type"] == "image_url"
    size = QWEN_IMAGE
    expected = [prepare_image(_observation(0, 30 * s).frame, size).data for s in (3, 4, 5)]
    assert last.images() == expected
    assert last.image_sizes() == [(1316, 728)] * 3
    # Every request starts with the same instructions.
    assert len({json.dumps(_messages(r)[0]) for r in server.requests}) == 1


def test_history_screenshots_sets_how_many_screens_are_sent(server: ModelServer) -> None:
    replies = [_ui_tars_reply("wait()") for _ in range(4)]
    _run(_ui_tars(server, history_screenshots=1), server, replies)
    assert [len(request.images()) for request in server.requests] == [1, 1, 1, 1]
    assert len(_messages(server.requests[-1])) == 1 + 3 + 1  # instructions, 3 replies, current


# ---- UI-TARS points


@pytest.mark.parametrize(
    ("box", "screen_point"),
    [
        ("<|box_start|>(658,364)<|box_end|>", (960, 540)),
        ("(658,364)", (960, 540)),
        ("(0,0)", (0, 0)),
        ("(1315,727)", (1919, 1079)),
        ("(600,300,716,428)", (960, 540)),  # a box: its centre
    ],
)
def test_a_ui_tars_click_lands_on_the_screen_pixel_under_the_model_pixel(
    server: ModelServer, box: str, screen_point: tuple[int, int]
) -> None:
    server.script(chat_text(_ui_tars_reply(f"click(start_box='{box}')")))
    decision = _ui_tars(server).decide(_observation(1), ())
    assert decision.actions == (Click(*screen_point),)
    assert decision.thought == "I see the notes app."


def test_the_ui_tars_mapping_is_the_one_scale_point() -> None:
    assert scale_point(Point(658, 364), QWEN_IMAGE, SCREEN) == Point(960, 540)
    assert scale_point(Point(960, 540), SCREEN, QWEN_IMAGE) == Point(658, 364)


@pytest.mark.parametrize(
    ("box", "screen_point"),
    [("(500,500)", (960, 540)), ("(0,0)", (0, 0)), ("(1000,1000)", (1919, 1079))],
)
def test_relative_ui_tars_points_are_thousandths_of_the_screen(
    server: ModelServer, box: str, screen_point: tuple[int, int]
) -> None:
    server.script(chat_text(_ui_tars_reply(f"click(start_box='{box}')")))
    decision = _ui_tars(server, coordinates="relative").decide(_observation(1), ())
    assert decision.actions == (Click(*screen_point),)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("hotkey(key='ctrl s')", KeyPress(("ctrl", "s"))),
        ("type(content='hello boss')", TypeText("hello boss")),
        ("scroll(start_box='(658,364)', direction='down')", Scroll(960, 540, scroll_y=3)),
        (
            "drag(start_box='(0,0)', end_box='(658,364)')",
            Drag((Point(0, 0), Point(960, 540))),
        ),
        ("finished(content='Wrote it.')", Done("Wrote it.")),
        ("call_user()", AskBoss("I see the notes app.")),
        ("right_single(start_box='(658,364)')", Click(960, 540, button="right")),
    ],
)
def test_ui_tars_actions_reach_the_screen(server: ModelServer, action: str, expected: Any) -> None:
    server.script(chat_text(_ui_tars_reply(action)))
    assert _ui_tars(server).decide(_observation(1), ()).actions == (expected,)


# ---- Qwen points


def test_a_qwen_click_maps_to_the_screen(server: ModelServer) -> None:
    server.script(chat_text(_qwen_reply({"action": "left_click", "coordinate": [658, 364]})))
    assert _qwen(server).decide(_observation(1), ()).actions == (Click(960, 540),)


def test_a_qwen_drag_without_a_start_starts_where_the_last_step_left_the_pointer(
    server: ModelServer,
) -> None:
    replies = [
        _qwen_reply({"action": "left_click", "coordinate": [100, 200]}),
        _qwen_reply({"action": "left_click_drag", "coordinate": [658, 364]}),
    ]
    first, second = _run(_qwen(server), server, replies)

    start = scale_point(Point(100, 200), QWEN_IMAGE, SCREEN)
    assert first.actions == (Click(start.x, start.y),)
    assert second.actions == (Drag((start, Point(960, 540))),)


def test_a_qwen_drag_with_no_pointer_known_is_refused(server: ModelServer) -> None:
    server.script(chat_text(_qwen_reply({"action": "left_click_drag", "coordinate": [5, 5]})))
    with pytest.raises(ModelOutputError, match="without a start point"):
        _qwen(server).decide(_observation(1), ())


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"action": "key", "keys": ["ctrl", "s"]}, KeyPress(("ctrl", "s"))),
        ({"action": "type", "text": "hello boss"}, TypeText("hello boss")),
        ({"action": "scroll", "pixels": -300, "coordinate": [658, 364]}, Scroll(960, 540, 0, 3)),
        ({"action": "terminate", "status": "success"}, Done("I see the notes app.")),
        ({"action": "terminate", "status": "failure"}, Fail("I see the notes app.")),
    ],
)
def test_qwen_actions_reach_the_screen(
    server: ModelServer, arguments: dict[str, Any], expected: Any
) -> None:
    server.script(chat_text(_qwen_reply(arguments)))
    assert _qwen(server).decide(_observation(1), ()).actions == (expected,)


def test_usage_and_cost_come_from_the_reply_and_the_profile(server: ModelServer) -> None:
    reply = chat_text(_qwen_reply({"action": "wait", "time": 1}), usage=(2000, 40))
    server.script(reply)
    policy = _qwen(server, price_input_per_million=0.5, price_output_per_million=1.5)
    usage = policy.decide(_observation(1), ()).usage
    assert (usage.input_tokens, usage.output_tokens) == (2000, 40)
    assert usage.cost_usd == pytest.approx((2000 * 0.5 + 40 * 1.5) / 1e6)


# ---- failures fed back


@pytest.mark.parametrize("make", [_ui_tars, _qwen])
def test_a_failed_step_is_told_in_the_next_request(server: ModelServer, make: Any) -> None:
    reply = (
        _ui_tars_reply("click(start_box='(658,364)')")
        if make is _ui_tars
        else _qwen_reply({"action": "left_click", "coordinate": [658, 364]})
    )
    server.script(chat_text(reply), chat_text(reply))
    policy = make(server)
    first = policy.decide(_observation(1), ())
    error = "click left (960, 540): the window vanished"
    policy.decide(_observation(2, 50), [StepRecord(1, first.actions, first.thought, error=error)])

    last = _messages(server.requests[1])[-1]
    assert last["role"] == "user"
    assert _texts(last) == [f"That did not work: {error}. Look again and try another way."]
    assert last["content"][-1]["type"] == "image_url"
    # A step that worked says nothing more.
    assert _texts(_messages(server.requests[0])[-1]) == []


@pytest.mark.parametrize(
    ("make", "bad", "good", "message"),
    [
        (
            _ui_tars,
            "Thought: I should click the icon.",
            _ui_tars_reply("wait()"),
            "no 'Action:' line",
        ),
        (
            _ui_tars,
            _ui_tars_reply("click(start_box='(2000,364)')"),
            _ui_tars_reply("wait()"),
            r"point \(2000, 364\) is outside the 1316x728 model image",
        ),
        (
            _qwen,
            "I will click the icon.",
            _qwen_reply({"action": "wait", "time": 1}),
            "no <tool_call> block",
        ),
        (
            _qwen,
            _qwen_reply({"action": "tap", "coordinate": [1, 1]}),
            _qwen_reply({"action": "wait", "time": 1}),
            "tap",
        ),
    ],
    ids=["ui-tars-no-action", "ui-tars-off-the-image", "qwen-no-call", "qwen-unknown-action"],
)
def test_an_unusable_reply_is_rejected_and_stays_in_the_conversation(
    server: ModelServer, make: Any, bad: str, good: str, message: str
) -> None:
    server.script(chat_text(bad), chat_text(good))
    policy = make(server)
    with pytest.raises(ModelOutputError, match=message) as rejected:
        policy.decide(_observation(1), ())
    history = [StepRecord(1, (), "", error=str(rejected.value))]
    policy.decide(_observation(2, 50), history)

    messages = _messages(server.requests[1])
    assert messages[2] == {"role": "assistant", "content": bad}
    assert messages[1]["content"][0]["type"] == "image_url"  # the screen it answered
    assert _texts(messages[-1]) == [
        f"That did not work: {rejected.value}. Look again and try another way."
    ]
