"""Qwen2.5-VL computer-use replies: every action, thought, several calls, and every error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.actions import (
    Action,
    Click,
    Done,
    Drag,
    Fail,
    KeyPress,
    Move,
    Scroll,
    TypeText,
    Wait,
)
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.qwen_format import ACTION_NAMES, parse_qwen
from agent.policy.text_reply import ParsedReply

IMAGE = Size(1288, 728)


def _block(arguments: dict[str, Any] | str, name: str = "computer_use") -> str:
    """A block around `arguments` as a computer_use call, or around a raw body string."""
    body = (
        arguments
        if isinstance(arguments, str)
        else json.dumps({"name": name, "arguments": arguments})
    )
    return f"<tool_call>\n{body}\n</tool_call>"


def _actions(arguments: dict[str, Any], previous: Point | None = None) -> tuple[Action, ...]:
    return parse_qwen("Thinking.\n" + _block(arguments), IMAGE, previous).actions


def _error(text: str, previous: Point | None = None) -> str:
    with pytest.raises(ModelOutputError) as caught:
        parse_qwen(text, IMAGE, previous)
    return str(caught.value)


def _action_error(arguments: dict[str, Any], previous: Point | None = None) -> str:
    return _error(_block(arguments), previous)


# ---------------------------------------------------------------- actions


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"action": "key", "keys": ["ctrl", "c"]}, KeyPress(("ctrl", "c"))),
        ({"action": "key", "keys": ["Return"]}, KeyPress(("enter",))),
        ({"action": "key", "keys": ["ctrl+shift+t"]}, KeyPress(("ctrl", "shift", "t"))),
        ({"action": "key", "keys": "alt+F4"}, KeyPress(("alt", "f4"))),
        ({"action": "type", "text": "hello\nworld"}, TypeText("hello\nworld")),
        ({"action": "mouse_move", "coordinate": [10, 20]}, Move(10, 20)),
        ({"action": "left_click", "coordinate": [235, 512]}, Click(235, 512)),
        ({"action": "right_click", "coordinate": [235, 512]}, Click(235, 512, button="right")),
        (
            {"action": "middle_click", "coordinate": [235, 512]},
            Click(235, 512, button="middle"),
        ),
        ({"action": "double_click", "coordinate": [235, 512]}, Click(235, 512, count=2)),
        ({"action": "triple_click", "coordinate": [235, 512]}, Click(235, 512, count=3)),
        ({"action": "left_click", "coordinate": [235.8, 512.1]}, Click(235, 512)),
        (
            {"action": "left_click_drag", "start_coordinate": [1, 2], "coordinate": [300, 400]},
            Drag((Point(1, 2), Point(300, 400))),
        ),
        ({"action": "scroll", "pixels": -500, "coordinate": [600, 300]}, Scroll(600, 300, 0, 5)),
        ({"action": "scroll", "pixels": 500, "coordinate": [600, 300]}, Scroll(600, 300, 0, -5)),
        ({"action": "scroll", "pixels": -3}, Scroll(644, 364, scroll_y=1)),
        ({"action": "scroll", "pixels": 40}, Scroll(644, 364, scroll_y=-1)),
        ({"action": "scroll", "pixels": -250}, Scroll(644, 364, scroll_y=2)),
        ({"action": "hscroll", "pixels": 300}, Scroll(644, 364, scroll_x=3)),
        ({"action": "hscroll", "pixels": -1, "coordinate": [5, 6]}, Scroll(5, 6, scroll_x=-1)),
        ({"action": "wait", "time": 2}, Wait(2.0)),
        ({"action": "wait", "time": 0.5}, Wait(0.5)),
        ({"action": "terminate", "status": "success"}, Done("Thinking.")),
        ({"action": "terminate", "status": "failure"}, Fail("Thinking.")),
        ({"action": "answer", "text": "42"}, Done("42")),
        # unused parameters sent as null are ignored
        ({"action": "type", "text": "x", "coordinate": None}, TypeText("x")),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else None,
)
def test_each_action(arguments: dict[str, Any], expected: Action) -> None:
    assert _actions(arguments) == (expected,)


def test_every_action_name_is_covered() -> None:
    assert set(ACTION_NAMES) == {
        "key",
        "type",
        "mouse_move",
        "left_click",
        "right_click",
        "middle_click",
        "double_click",
        "triple_click",
        "left_click_drag",
        "scroll",
        "hscroll",
        "wait",
        "terminate",
        "answer",
    }


def test_drag_starts_at_the_previous_pointer_position() -> None:
    arguments = {"action": "left_click_drag", "coordinate": [300, 400]}
    assert _actions(arguments, Point(7, 8)) == (Drag((Point(7, 8), Point(300, 400))),)


def test_start_coordinate_wins_over_the_previous_pointer_position() -> None:
    arguments = {"action": "left_click_drag", "start_coordinate": [1, 2], "coordinate": [3, 4]}
    assert _actions(arguments, Point(7, 8)) == (Drag((Point(1, 2), Point(3, 4))),)


def test_a_drag_after_a_move_in_the_same_reply_starts_where_the_move_ended() -> None:
    text = _block({"action": "mouse_move", "coordinate": [10, 20]}) + _block(
        {"action": "left_click_drag", "coordinate": [300, 400]}
    )
    assert parse_qwen(text, IMAGE).actions == (
        Move(10, 20),
        Drag((Point(10, 20), Point(300, 400))),
    )


def test_click_and_scroll_without_coordinate_act_at_the_pointer() -> None:
    assert _actions({"action": "left_click"}, Point(7, 8)) == (Click(7, 8),)
    assert _actions({"action": "scroll", "pixels": -100}, Point(7, 8)) == (Scroll(7, 8, 0, 1),)


def test_previous_point_outside_the_image_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="outside the 1288x728 model image"):
        parse_qwen(_block({"action": "wait", "time": 1}), IMAGE, Point(1288, 0))


# ---------------------------------------------------------------- thought and layout


def test_thought_and_action() -> None:
    text = (
        "I need to click the Save button.\n"
        '<tool_call>\n{"name": "computer_use", "arguments": '
        '{"action": "left_click", "coordinate": [235, 512]}}\n</tool_call>'
    )
    assert parse_qwen(text, IMAGE) == ParsedReply(
        "I need to click the Save button.", (Click(235, 512),)
    )


def test_several_calls_and_text_between_them() -> None:
    text = (
        "Click the field.\n"
        + _block({"action": "left_click", "coordinate": [100, 200]})
        + "\nThen type.\n"
        + _block({"action": "type", "text": "Ada"})
        + _block({"action": "key", "keys": ["enter"]})
    )
    assert parse_qwen(text, IMAGE) == ParsedReply(
        "Click the field.\nThen type.",
        (Click(100, 200), TypeText("Ada"), KeyPress(("enter",))),
    )


def test_no_thought() -> None:
    reply = parse_qwen(_block({"action": "wait", "time": 1}), IMAGE)
    assert reply == ParsedReply("", (Wait(1.0),))


def test_terminate_failure_without_a_thought_still_gives_a_reason() -> None:
    (action,) = parse_qwen(_block({"action": "terminate", "status": "failure"}), IMAGE).actions
    assert isinstance(action, Fail)
    assert action.reason


def test_answer_then_terminate_is_one_done_with_the_answer() -> None:
    text = _block({"action": "answer", "text": "It is 42."}) + _block(
        {"action": "terminate", "status": "success"}
    )
    assert parse_qwen(text, IMAGE).actions == (Done("It is 42."),)


def test_missing_closing_tag_on_the_last_block() -> None:
    text = (
        'Done.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "wait", "time": 3}}'
    )
    assert parse_qwen(text, IMAGE) == ParsedReply("Done.", (Wait(3.0),))


def test_fenced_json_and_string_arguments() -> None:
    fenced = '<tool_call>\n```json\n{"name": "computer_use", "arguments": {"action": "wait", '
    fenced += '"time": 1}}\n```\n</tool_call>'
    assert parse_qwen(fenced, IMAGE).actions == (Wait(1.0),)
    as_string = json.dumps(
        {"name": "computer_use", "arguments": json.dumps({"action": "type", "text": "x"})}
    )
    assert parse_qwen(_block(as_string), IMAGE).actions == (TypeText("x"),)


# ---------------------------------------------------------------- errors


def test_no_tool_call() -> None:
    assert _error("I think the task is done.") == (
        "reply has no <tool_call> block: 'I think the task is done.'"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "{not json}",
            "tool call is not valid JSON (Expecting property name enclosed in double quotes "
            "at line 1 column 2): '{not json}'",
        ),
        (
            "[1, 2]",
            "tool call must be a JSON object with 'name' and 'arguments', got list: '[1, 2]'",
        ),
        (
            '{"arguments": {"action": "wait", "time": 1}}',
            'tool call has no \'name\': \'{"arguments": {"action": "wait", "time": 1}}\'',
        ),
        (
            '{"name": "browser", "arguments": {}}',
            "unknown tool 'browser' (expected computer_use)",
        ),
        (
            '{"name": "computer_use"}',
            "tool call has no 'arguments': '{\"name\": \"computer_use\"}'",
        ),
        (
            '{"name": "computer_use", "arguments": "{oops"}',
            "tool call arguments are not valid JSON (Expecting property name enclosed in double "
            "quotes): '{oops'",
        ),
        (
            '{"name": "computer_use", "arguments": [1]}',
            "tool call 'arguments' must be an object, got list: "
            '\'{"name": "computer_use", "arguments": [1]}\'',
        ),
        (
            '{"name": "computer_use", "arguments": {"coordinate": [1, 2]}}',
            "computer_use call has no 'action': "
            '\'{"name": "computer_use", "arguments": {"coordinate": [1, 2]}}\'',
        ),
    ],
)
def test_malformed_calls(body: str, message: str) -> None:
    assert _error(_block(body)) == message


def _quoted(arguments: dict[str, Any]) -> str:
    return repr(json.dumps({"name": "computer_use", "arguments": arguments}))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"action": "clik", "coordinate": [1, 2]},
            "unknown computer_use action 'clik' (expected one of key, type, mouse_move, "
            "left_click, right_click, middle_click, double_click, triple_click, "
            "left_click_drag, scroll, hscroll, wait, terminate, answer)",
        ),
        ({"action": "left_click"}, "left_click needs coordinate: {}"),
        ({"action": "double_click"}, "double_click needs coordinate: {}"),
        ({"action": "mouse_move"}, "mouse_move needs coordinate: {}"),
        ({"action": "key"}, "key needs keys: {}"),
        ({"action": "type"}, "type needs text: {}"),
        ({"action": "type", "text": ""}, "type text is empty: {}"),
        ({"action": "type", "text": 5}, "type text must be a string, got '5': {}"),
        ({"action": "answer"}, "answer needs text: {}"),
        ({"action": "scroll"}, "scroll needs pixels: {}"),
        ({"action": "scroll", "pixels": 0}, "scroll pixels is 0: nothing to scroll: {}"),
        (
            {"action": "hscroll", "pixels": "lots"},
            "hscroll pixels must be a number, got '\"lots\"': {}",
        ),
        ({"action": "wait"}, "wait needs time: {}"),
        (
            {"action": "wait", "time": 301},
            "wait time must be a number of seconds from 0 to 300, got '301': {}",
        ),
        (
            {"action": "wait", "time": -1},
            "wait time must be a number of seconds from 0 to 300, got '-1': {}",
        ),
        ({"action": "terminate"}, "terminate needs status: {}"),
        (
            {"action": "terminate", "status": "done"},
            "terminate status must be 'success' or 'failure', got '\"done\"': {}",
        ),
        (
            {"action": "key", "keys": []},
            "key keys must be a list of key names, got '[]': {}",
        ),
        (
            {"action": "key", "keys": ["ctrl", 7]},
            "key keys must be a list of key names, got '[\"ctrl\", 7]': {}",
        ),
        (
            {"action": "key", "keys": ["ctrl", "hyper"]},
            "key '[\"ctrl\", \"hyper\"]': unknown key name 'hyper': use a single character, "
            "f1-f24, or one of alt, backspace, capslock, ctrl, delete, down, end, enter, escape, "
            "home, insert, left, menu, numlock, pagedown, pageup, pause, printscreen, right, "
            "scrolllock, shift, space, super, tab, up",
        ),
        (
            {"action": "left_click", "coordinate": [1, 2, 3]},
            "left_click coordinate must be [x, y] numbers, got '[1, 2, 3]': {}",
        ),
        (
            {"action": "left_click", "coordinate": "(1, 2)"},
            "left_click coordinate must be [x, y] numbers, got '\"(1, 2)\"': {}",
        ),
        (
            {"action": "left_click", "coordinate": [True, 2]},
            "left_click coordinate must be [x, y] numbers, got '[true, 2]': {}",
        ),
        (
            {"action": "left_click", "coordinate": [1, 2], "button": "left"},
            "left_click has no argument 'button' (it takes coordinate): {}",
        ),
        (
            {"action": "left_click_drag", "coordinate": [300, 400]},
            "left_click_drag without a start point (give start_coordinate; the pointer "
            "position is not known): {}",
        ),
        (
            {"action": "left_click", "coordinate": [1500, 20]},
            "point (1500, 20) is outside the 1288x728 model image",
        ),
        (
            {"action": "left_click", "coordinate": [1288, 0]},
            "point (1288, 0) is outside the 1288x728 model image",
        ),
        (
            {"action": "mouse_move", "coordinate": [10, -1]},
            "point (10, -1) is outside the 1288x728 model image",
        ),
        (
            {"action": "scroll", "pixels": 100, "coordinate": [10.5, 728.5]},
            "point (10.5, 728.5) is outside the 1288x728 model image",
        ),
        (
            {"action": "left_click_drag", "start_coordinate": [0, 0], "coordinate": [0, 900]},
            "point (0, 900) is outside the 1288x728 model image",
        ),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else None,
)
def test_action_errors(arguments: dict[str, Any], message: str) -> None:
    assert _action_error(arguments) == message.replace("{}", _quoted(arguments))


def test_a_bad_second_call_fails_the_whole_reply() -> None:
    text = _block({"action": "wait", "time": 1}) + _block({"action": "clik"})
    assert _error(text).startswith("unknown computer_use action 'clik'")


def test_quoted_parts_are_shortened() -> None:
    message = _error("x" * 500)
    quoted = message.split(": ", 1)[1]
    assert len(quoted) <= 122  # 120 characters and the quotes
    assert quoted.endswith("...'")
    message = _action_error({"action": "type", "text": "y" * 500, "extra": 1})
    assert message.startswith("type has no argument 'extra' (it takes text): '{")
    assert len(message) < 200
