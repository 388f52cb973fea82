"""Actions: parsed from untrusted data with errors that name the problem, and described briefly."""

from __future__ import annotations

from typing import Any

import pytest

from agent.actions import (
    ACTION_KINDS,
    Action,
    AskBoss,
    Click,
    Done,
    Drag,
    Fail,
    KeyPress,
    Move,
    Scroll,
    TypeText,
    Wait,
    action_to_dict,
    describe_action,
    parse_action,
)
from agent.errors import ActionError, ConfigError
from agent.geometry import Point, Size

SCREEN = Size(1920, 1080)

ONE_OF_EACH: list[Action] = [
    Click(400, 300, button="right", count=2),
    Move(10, 20),
    Drag((Point(1, 2), Point(30, 40), Point(500, 60)), button="middle"),
    Scroll(640, 360, scroll_x=-2, scroll_y=5),
    TypeText("hello, 世界\n"),
    KeyPress(("ctrl", "shift", "s")),
    Wait(0.25),
    Done("saved the note"),
    Fail("the app crashed"),
    AskBoss("which file?"),
]


def _error(data: Any, screen: Size | None = None) -> str:
    with pytest.raises(ActionError) as caught:
        parse_action(data, screen)
    return str(caught.value)


def test_one_instance_of_every_kind_is_covered() -> None:
    assert sorted(a.kind for a in ONE_OF_EACH) == sorted(ACTION_KINDS)


@pytest.mark.parametrize("action", ONE_OF_EACH, ids=lambda a: a.kind)
def test_round_trip_through_the_json_form(action: Action) -> None:
    data = action_to_dict(action)
    assert next(iter(data)) == "kind"
    assert data["kind"] == action.kind
    assert parse_action(data) == action
    assert parse_action(data, SCREEN) == action


def test_parse_fills_defaults() -> None:
    assert parse_action({"kind": "click", "x": 5, "y": 6}) == Click(5, 6, "left", 1)
    assert parse_action({"kind": "wait"}) == Wait(1.0)
    assert parse_action({"kind": "done"}) == Done("")
    assert parse_action({"kind": "scroll", "x": 1, "y": 2, "scroll_y": -3}) == Scroll(1, 2, 0, -3)


def test_drag_path_from_point_mappings() -> None:
    action = parse_action({"kind": "drag", "path": [{"x": 0, "y": 0}, {"x": 5, "y": 3}]})
    assert action == Drag((Point(0, 0), Point(5, 3)))


def test_unknown_kind_lists_the_valid_kinds() -> None:
    message = _error({"kind": "clik", "x": 1, "y": 2})
    assert "'clik'" in message
    for kind in ACTION_KINDS:
        assert kind in message


def test_missing_kind_says_so() -> None:
    message = _error({"x": 1, "y": 2})
    assert "no 'kind'" in message
    assert "click" in message and "ask_boss" in message


def test_missing_field_is_named() -> None:
    message = _error({"kind": "click", "x": 1})
    assert message.startswith("invalid click action")
    assert "y: Field required" in message


def test_wrong_type_is_named() -> None:
    message = _error({"kind": "click", "x": "left", "y": 1})
    assert "invalid click action" in message
    assert "x:" in message and "integer" in message
    assert "x:" in _error({"kind": "move", "x": 1.5, "y": 1})


def test_bad_button_lists_the_buttons() -> None:
    message = _error({"kind": "click", "x": 1, "y": 1, "button": "side"})
    assert "button:" in message
    assert "'left', 'right', 'middle', 'back' or 'forward'" in message


def test_keys_held_through_a_pointer_action_round_trip_and_read_first() -> None:
    click = parse_action({"kind": "click", "x": 5, "y": 6, "hold": "Shift_L+ctrl"})
    assert click == Click(5, 6, hold=("shift", "ctrl"))
    assert action_to_dict(click)["hold"] == ["shift", "ctrl"]
    assert parse_action(action_to_dict(click)) == click
    assert describe_action(click) == "shift+ctrl+click left (5, 6)"
    assert "hold" not in action_to_dict(Click(5, 6))  # logs without held keys stay as they were
    drag = Drag((Point(1, 2), Point(3, 4)), hold=("alt",))
    assert parse_action(action_to_dict(drag)) == drag
    assert "'hold' must be a combination" in _error({"kind": "move", "x": 1, "y": 1, "hold": 3})


@pytest.mark.parametrize("count", [0, 4, -1])
def test_click_count_must_be_one_to_three(count: int) -> None:
    message = _error({"kind": "click", "x": 1, "y": 1, "count": count})
    assert "count:" in message


@pytest.mark.parametrize("count", [1, 2, 3])
def test_click_counts_one_to_three_are_fine(count: int) -> None:
    action = parse_action({"kind": "click", "x": 1, "y": 1, "count": count})
    assert action == Click(1, 1, count=count)


def test_empty_text_is_refused() -> None:
    message = _error({"kind": "type", "text": ""})
    assert "invalid type action" in message and "text:" in message


def test_wait_over_five_minutes_is_refused() -> None:
    assert "seconds:" in _error({"kind": "wait", "seconds": 301})
    assert "seconds:" in _error({"kind": "wait", "seconds": -1})


def test_drag_needs_two_points() -> None:
    assert "path" in _error({"kind": "drag", "path": [{"x": 1, "y": 1}]})


@pytest.mark.parametrize("data", [["click", 1, 2], "click", None, 42])
def test_non_mapping_input_is_refused(data: Any) -> None:
    message = _error(data)
    assert message.startswith("an action must be an object, got ")
    assert type(data).__name__ in message


def test_action_error_is_bad_input() -> None:
    assert issubclass(ActionError, ConfigError)
    assert ActionError("x").exit_code == 2


def test_point_outside_the_screen_is_refused_with_the_point_and_screen() -> None:
    message = _error({"kind": "click", "x": 1920, "y": 5}, SCREEN)
    assert message == "click at (1920, 5) is outside the 1920x1080 screen"


def test_last_pixel_is_inside_the_screen() -> None:
    assert parse_action({"kind": "click", "x": 1919, "y": 1079}, SCREEN) == Click(1919, 1079)
    assert parse_action({"kind": "move", "x": 0, "y": 0}, SCREEN) == Move(0, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "move", "x": -1, "y": 0}, "move at (-1, 0) is outside the 1920x1080 screen"),
        (
            {"kind": "scroll", "x": 5, "y": 1080},
            "scroll at (5, 1080) is outside the 1920x1080 screen",
        ),
        (
            {"kind": "drag", "path": [{"x": 0, "y": 0}, {"x": 100, "y": 100}, {"x": 2000, "y": 3}]},
            "drag at (2000, 3) is outside the 1920x1080 screen",
        ),
    ],
)
def test_every_pointer_kind_is_checked_against_the_screen(
    data: dict[str, Any], message: str
) -> None:
    assert _error(data, SCREEN) == message


def test_points_are_not_checked_without_a_screen() -> None:
    assert parse_action({"kind": "click", "x": 5000, "y": 5000}) == Click(5000, 5000)


def test_non_pointer_actions_ignore_the_screen() -> None:
    assert parse_action({"kind": "type", "text": "x"}, Size(1, 1)) == TypeText("x")


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("Control_L+S", ("ctrl", "s")),
        (["cmd", "Return"], ("super", "enter")),
        ("ctrl++", ("ctrl", "+")),
        ("ctrl+shift+Escape", ("ctrl", "shift", "escape")),
        ("F5", ("f5",)),
        (("alt", "Tab"), ("alt", "tab")),
    ],
)
def test_key_actions_get_canonical_names(keys: Any, expected: tuple[str, ...]) -> None:
    assert parse_action({"kind": "key", "keys": keys}) == KeyPress(expected)


def test_unknown_key_name_lists_the_choices() -> None:
    message = _error({"kind": "key", "keys": "ctrl+hyper"})
    assert "unknown key name 'hyper'" in message
    assert "f1-f24" in message
    assert "pageup" in message and "escape" in message


@pytest.mark.parametrize("keys", [[], None, 5, ["ctrl", 5]])
def test_keys_of_the_wrong_shape_are_refused(keys: Any) -> None:
    data = {"kind": "key"} if keys is None else {"kind": "key", "keys": keys}
    assert "'keys' must be a combination like 'ctrl+s'" in _error(data)


def test_malformed_key_combination() -> None:
    assert "malformed key combination 'ctrl+'" in _error({"kind": "key", "keys": "ctrl+"})


@pytest.mark.parametrize(
    ("action", "line"),
    [
        (Click(400, 300), "click left (400, 300)"),
        (Click(1, 2, "right", 2), "click right x2 (1, 2)"),
        (Move(3, 4), "move (3, 4)"),
        (Drag((Point(1, 2), Point(3, 4), Point(5, 6))), "drag (1, 2) -> (5, 6) via 3 points"),
        (Scroll(5, 6, 0, 3), "scroll (5, 6) by x=0 y=3"),
        (TypeText("hello"), "type 'hello' (5 chars)"),
        (KeyPress(("ctrl", "+")), "key ctrl++"),
        (Wait(0.5), "wait 0.5s"),
        (Wait(2.0), "wait 2s"),
        (Done(), "done"),
        (Done("saved"), "done: saved"),
        (Fail("no window"), "fail: no window"),
        (AskBoss("which one?"), "ask boss: which one?"),
    ],
)
def test_describe_action(action: Action, line: str) -> None:
    assert describe_action(action) == line


def test_describe_shortens_long_text_and_gives_its_length() -> None:
    line = describe_action(TypeText("x" * 1000))
    assert line == "type '" + "x" * 37 + "...' (1000 chars)"
    assert len(line) < 70


def test_describe_text_of_exactly_forty_chars_is_whole() -> None:
    assert describe_action(TypeText("y" * 40)) == "type '" + "y" * 40 + "' (40 chars)"


def test_describe_shows_newlines_escaped_on_one_line() -> None:
    line = describe_action(TypeText("a\nb"))
    assert "\n" not in line
    assert line == "type 'a\\nb' (3 chars)"


def test_an_unknown_field_is_refused_not_ignored() -> None:
    with pytest.raises(ActionError, match=r"invalid click action: unknown field 'buton'"):
        parse_action({"kind": "click", "x": 1, "y": 2, "buton": "right"})


def test_drag_path_as_pairs() -> None:
    action = parse_action({"kind": "drag", "path": [[1, 2], [30, 40]]})
    assert action == Drag((Point(1, 2), Point(30, 40)))
