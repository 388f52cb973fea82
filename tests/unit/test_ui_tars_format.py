"""UI-TARS replies: every action, every box spelling, both coordinate conventions, every error."""

from __future__ import annotations

import pytest

from agent.actions import (
    Action,
    AskBoss,
    Click,
    Done,
    Drag,
    KeyPress,
    Move,
    Scroll,
    TypeText,
    Wait,
    with_points,
)
from agent.errors import ModelOutputError
from agent.geometry import Point, Size, scale_point
from agent.policy.model_image import THOUSANDTHS
from agent.policy.text_reply import ParsedReply
from agent.policy.ui_tars_format import ACTION_NAMES, parse_ui_tars

IMAGE = Size(1288, 728)


def _reply(action: str, thought: str = "I will act.") -> str:
    return f"Thought: {thought}\nAction: {action}"


def _actions(action: str, space: Size = IMAGE) -> tuple[Action, ...]:
    return parse_ui_tars(_reply(action), space).actions


def _relative(action: str) -> tuple[Action, ...]:
    """UI-TARS 1.0's thousandths, mapped onto the image by the one mapping the policy uses."""
    return tuple(
        with_points(found, lambda point: scale_point(point, THOUSANDTHS, IMAGE))
        for found in _actions(action, THOUSANDTHS)
    )


def _error(text: str, space: Size = IMAGE) -> str:
    with pytest.raises(ModelOutputError) as caught:
        parse_ui_tars(text, space)
    return str(caught.value)


# ---------------------------------------------------------------- actions


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("click(start_box='(235,512)')", Click(235, 512)),
        ("left_single(start_box='(235,512)')", Click(235, 512)),
        ("left_double(start_box='(235,512)')", Click(235, 512, count=2)),
        ("right_single(start_box='(235,512)')", Click(235, 512, button="right")),
        ("hover(start_box='(10,20)')", Move(10, 20)),
        ("mouse_move(start_box='(10,20)')", Move(10, 20)),
        (
            "drag(start_box='(10,20)', end_box='(300,400)')",
            Drag((Point(10, 20), Point(300, 400))),
        ),
        ("hotkey(key='ctrl c')", KeyPress(("ctrl", "c"))),
        ("hotkey(key='ctrl+shift+s')", KeyPress(("ctrl", "shift", "s"))),
        ("hotkey(key='Ctrl + C')", KeyPress(("ctrl", "c"))),
        ("hotkey(key='enter')", KeyPress(("enter",))),
        ("press(key='Escape')", KeyPress(("escape",))),
        ("type(content='hello world')", TypeText("hello world")),
        ("scroll(start_box='(600,300)', direction='down')", Scroll(600, 300, scroll_y=3)),
        ("scroll(start_box='(600,300)', direction='up')", Scroll(600, 300, scroll_y=-3)),
        ("scroll(start_box='(600,300)', direction='right')", Scroll(600, 300, scroll_x=3)),
        ("scroll(start_box='(600,300)', direction='left')", Scroll(600, 300, scroll_x=-3)),
        ("scroll(direction='down')", Scroll(644, 364, scroll_y=3)),
        ("scroll(point='<point>600 300</point>', direction='DOWN')", Scroll(600, 300, 0, 3)),
        ("wait()", Wait(5.0)),
        ("finished(content='Saved the file.')", Done("Saved the file.")),
        ("finished()", Done("")),
        ("call_user()", AskBoss("I will act.")),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_action(action: str, expected: Action) -> None:
    assert _actions(action) == (expected,)


def test_every_action_name_is_covered() -> None:
    assert set(ACTION_NAMES) == {
        "click",
        "left_single",
        "left_double",
        "right_single",
        "hover",
        "mouse_move",
        "drag",
        "hotkey",
        "press",
        "type",
        "scroll",
        "wait",
        "finished",
        "call_user",
    }


@pytest.mark.parametrize(
    "action",
    [
        "click(point='(235,512)')",
        "click(start_point='(235,512)')",
        "CLICK(start_box='(235,512)')",
        "click( start_box = '(235,512)' , )",
        'click(start_box="(235,512)")',
        "click(start_box=(235,512))",
        "click(start_box=[235,512])",
    ],
)
def test_argument_spellings(action: str) -> None:
    assert _actions(action) == (Click(235, 512),)


def test_drag_accepts_start_and_end_points() -> None:
    assert _actions("drag(start_point='<point>1 2</point>', end_point='<point>3 4</point>')") == (
        Drag((Point(1, 2), Point(3, 4))),
    )


# ---------------------------------------------------------------- box spellings


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ("(235,512)", Point(235, 512)),
        ("( 235 , 512 )", Point(235, 512)),
        ("(235.7,512.2)", Point(235, 512)),
        ("(200,500,270,524)", Point(235, 512)),
        ("(200, 500, 271, 525)", Point(235, 512)),
        ("<|box_start|>(235,512)<|box_end|>", Point(235, 512)),
        ("<|box_start|>(200,500,270,524)<|box_end|>", Point(235, 512)),
        ("<point>235 512</point>", Point(235, 512)),
        ("<point>235, 512</point>", Point(235, 512)),
        ("<bbox>200 500 270 524</bbox>", Point(235, 512)),
        ("[235, 512]", Point(235, 512)),
        ("[200, 500, 270, 524]", Point(235, 512)),
        ("235,512", Point(235, 512)),
        ("(0,0)", Point(0, 0)),
        ("(1287,727)", Point(1287, 727)),
    ],
)
def test_box_spellings_absolute(box: str, expected: Point) -> None:
    assert _actions(f"click(start_box='{box}')") == (Click(expected.x, expected.y),)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ("(500,500)", Point(644, 364)),
        ("(0,0)", Point(0, 0)),
        ("(1000,1000)", Point(1287, 727)),
        ("(999,999)", Point(1286, 726)),
        ("(100,250)", Point(129, 182)),  # 128.8 -> 129, 182.0
        ("(400,400,600,600)", Point(644, 364)),
        ("<bbox>400 400 600 600</bbox>", Point(644, 364)),
        ("<point>500.0 500.0</point>", Point(644, 364)),
        ("[500, 500]", Point(644, 364)),
    ],
)
def test_relative_coordinates_are_thousandths_of_the_image(box: str, expected: Point) -> None:
    assert _relative(f"click(start_box='{box}')") == (Click(expected.x, expected.y),)


def test_relative_drag_converts_both_ends() -> None:
    assert _relative("drag(start_box='(0,0)', end_box='(1000,500)')") == (
        Drag((Point(0, 0), Point(1287, 364))),
    )


def test_absolute_is_the_default() -> None:
    reply = parse_ui_tars(_reply("click(start_box='(500,500)')"), IMAGE)
    assert reply.actions == (Click(500, 500),)


# ---------------------------------------------------------------- type content


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (r"it\'s", "it's"),
        (r"say \"hi\"", 'say "hi"'),
        (r"line one\nline two", "line one\nline two"),
        (r"search terms\n", "search terms\n"),
        (r"tab\there", "tab\there"),
        (r"back\\slash", "back\\slash"),
        (r"C:\Users", "C:\\Users"),  # an unknown escape keeps its backslash
        ("it's here", "it's here"),  # an unescaped quote that cannot end the string
        ("a) b", "a) b"),
        ("x, y", "x, y"),
        ("real\nnewline", "real\nnewline"),
        ("日本語", "日本語"),
    ],
)
def test_type_content_escapes(content: str, expected: str) -> None:
    assert _actions(f"type(content='{content}')") == (TypeText(expected),)


def test_type_content_in_double_quotes() -> None:
    assert _actions(r'type(content="it\'s \"x\"")') == (TypeText('it\'s "x"'),)


def test_finished_content_is_unescaped() -> None:
    assert _actions(r"finished(content='Done: it\'s saved\n')") == (Done("Done: it's saved\n"),)


# ---------------------------------------------------------------- thought and layout


def test_thought_and_action() -> None:
    reply = parse_ui_tars(
        "Thought: I need to click the Save button.\nAction: click(start_box='(235,512)')", IMAGE
    )
    assert reply == ParsedReply("I need to click the Save button.", (Click(235, 512),))


def test_multiline_thought() -> None:
    text = "Thought: First line.\nSecond line.\n\nAction: wait()"
    assert parse_ui_tars(text, IMAGE).thought == "First line.\nSecond line."


def test_reflection_and_summary_lines_are_ignored_when_there_is_a_thought() -> None:
    text = (
        "Reflection: the last click missed.\n"
        "Thought: Click the menu this time.\n"
        "Action_Summary: open the menu\n"
        "Action: click(start_box='(10,10)')"
    )
    reply = parse_ui_tars(text, IMAGE)
    assert reply == ParsedReply("Click the menu this time.", (Click(10, 10),))


def test_action_summary_is_the_thought_without_a_thought_line() -> None:
    text = (
        "Reflection: nothing happened.\n"
        "Action_Summary: Open the File menu.\n"
        "Action: click(start_box='(10,10)')"
    )
    assert parse_ui_tars(text, IMAGE).thought == "Open the File menu."


def test_unlabelled_text_before_the_action_is_the_thought() -> None:
    assert parse_ui_tars("Let me wait.\nAction: wait()", IMAGE).thought == "Let me wait."


def test_no_thought_at_all() -> None:
    assert parse_ui_tars("Action: wait()", IMAGE) == ParsedReply("", (Wait(5.0),))


def test_call_user_without_a_thought_still_asks_something() -> None:
    (action,) = parse_ui_tars("Action: call_user()", IMAGE).actions
    assert isinstance(action, AskBoss)
    assert action.question


def test_multiple_actions_after_blank_lines_and_newlines() -> None:
    text = (
        "Thought: Fill in the name and submit.\n"
        "Action: click(start_box='(100,200)')\n\n"
        "type(content='Ada\\n')\n"
        "hotkey(key='ctrl s') wait()"
    )
    assert parse_ui_tars(text, IMAGE).actions == (
        Click(100, 200),
        TypeText("Ada\n"),
        KeyPress(("ctrl", "s")),
        Wait(5.0),
    )


def test_repeated_action_labels() -> None:
    text = "Thought: t\nAction: click(start_box='(1,2)')\nAction: type(content='x')"
    assert parse_ui_tars(text, IMAGE).actions == (Click(1, 2), TypeText("x"))


def test_action_summary_is_not_mistaken_for_the_action_line() -> None:
    assert _error("Thought: hm\nAction_Summary: click it") == (
        "UI-TARS reply has no 'Action:' line: 'Thought: hm\\nAction_Summary: click it'"
    )


def test_points_are_ints() -> None:
    (action,) = _actions("click(start_box='(10.9,20.2)')")
    assert isinstance(action, Click)
    assert (action.x, action.y) == (10, 20)
    assert isinstance(action.x, int)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            "clik(start_box='(1,2)')",
            "unknown UI-TARS action 'clik' (expected one of click, left_single, left_double, "
            "right_single, hover, mouse_move, drag, hotkey, press, type, scroll, wait, "
            "finished, call_user)",
        ),
        ("click()", "click needs start_box: 'click()'"),
        ("left_double()", "left_double needs start_box: 'left_double()'"),
        (
            "drag(start_box='(1,2)')",
            "drag needs end_box: \"drag(start_box='(1,2)')\"",
        ),
        ("hotkey()", "hotkey needs key: 'hotkey()'"),
        ("type()", "type needs content: 'type()'"),
        ("type(content='')", "type content is empty: \"type(content='')\""),
        (
            "scroll(start_box='(1,2)')",
            "scroll needs direction: \"scroll(start_box='(1,2)')\"",
        ),
        (
            "scroll(start_box='(1,2)', direction='sideways')",
            "scroll direction 'sideways' is not one of down, up, right, left",
        ),
        (
            "click(start_box='(1,2)', button='left')",
            "click has no argument 'button' (it takes start_box): "
            "\"click(start_box='(1,2)', button='left')\"",
        ),
        (
            "wait(seconds='3')",
            "wait has no argument 'seconds' (it takes no arguments): \"wait(seconds='3')\"",
        ),
        (
            "click(start_box='(1,2)', point='(3,4)')",
            "click gives both start_box and point: \"click(start_box='(1,2)', point='(3,4)')\"",
        ),
        (
            "click(start_box='(1,2)', start_box='(3,4)')",
            "argument 'start_box' given twice in UI-TARS action "
            "\"click(start_box='(1,2)', start_box='(3,4)')\"",
        ),
        (
            "click(start_box='(1500,20)')",
            "point (1500, 20) is outside the 1288x728 model image",
        ),
        (
            "click(start_box='(1288,20)')",
            "point (1288, 20) is outside the 1288x728 model image",
        ),
        (
            "click(start_box='(10,728)')",
            "point (10, 728) is outside the 1288x728 model image",
        ),
        (
            "click(start_box='(-1,20)')",
            "point (-1, 20) is outside the 1288x728 model image",
        ),
        (
            "click(start_box='(1400,10,1500,30)')",
            "point (1450, 20) is outside the 1288x728 model image",
        ),
        (
            "click(start_box='(12.5,800.25)')",
            "point (12.5, 800.25) is outside the 1288x728 model image",
        ),
        (
            "drag(start_box='(1,2)', end_box='(5000,2)')",
            "point (5000, 2) is outside the 1288x728 model image",
        ),
        (
            "click(start_box='(a,b)')",
            "malformed start_box '(a,b)': expected (x,y), (x1,y1,x2,y2), [x,y], "
            "<point>x y</point> or <bbox>x1 y1 x2 y2</bbox>",
        ),
        (
            "click(start_box='(1,2')",
            "malformed start_box '(1,2': expected (x,y), (x1,y1,x2,y2), [x,y], "
            "<point>x y</point> or <bbox>x1 y1 x2 y2</bbox>",
        ),
        (
            "click(start_box='')",
            "malformed start_box '': expected (x,y), (x1,y1,x2,y2), [x,y], "
            "<point>x y</point> or <bbox>x1 y1 x2 y2</bbox>",
        ),
        (
            "click(start_box='(1,2,3)')",
            "start_box '(1,2,3)' has 3 numbers: expected x,y or x1,y1,x2,y2",
        ),
        (
            "hotkey(key='ctrl hyper')",
            "hotkey key 'ctrl hyper': unknown key name 'hyper': use a single character, "
            "f1-f24, or one of alt, backspace, capslock, ctrl, delete, down, end, enter, escape, "
            "home, insert, left, menu, numlock, pagedown, pageup, pause, printscreen, right, "
            "scrolllock, shift, space, super, tab, up",
        ),
        ("hotkey(key='  ')", "hotkey key '  ': no keys given"),
        (
            "hotkey(key='ctrl +')",
            "hotkey key 'ctrl +': malformed key combination 'ctrl+': expected keys joined by '+'",
        ),
        (
            "click(start_box='(1,2)'",
            "missing ')' in UI-TARS action \"click(start_box='(1,2)'\"",
        ),
        (
            "type(content='abc",
            'unterminated string in UI-TARS action "type(content=\'abc"',
        ),
        ("click", "expected '(' after 'click' in UI-TARS action 'click'"),
        (
            "click(start_box '(1,2)')",
            "expected '=' after argument 'start_box' in UI-TARS action "
            "\"click(start_box '(1,2)')\"",
        ),
        (
            "click('(1,2)')",
            "expected an argument name in UI-TARS action \"click('(1,2)')\"",
        ),
        (
            "click(start_box=)",
            "argument has no value in UI-TARS action 'click(start_box=)'",
        ),
        (
            "click(start_box=(1,2)",
            "missing ')' in UI-TARS action 'click(start_box=(1,2)'",
        ),
        (
            "click(start_box=(1,2",
            "unclosed '(' in UI-TARS action 'click(start_box=(1,2'",
        ),
        (
            "click(start_box='(1,2)' x)",
            "expected ',' or ')' after argument 'start_box' in UI-TARS action "
            "\"click(start_box='(1,2)' x)\"",
        ),
        (
            "click(start_box='(1,2)'). Then I wait.",
            "expected an action such as click(start_box='(x,y)') in UI-TARS action "
            "'. Then I wait.'",
        ),
        (
            "(1,2)",
            "expected an action such as click(start_box='(x,y)') in UI-TARS action '(1,2)'",
        ),
    ],
)
def test_errors_name_the_problem(action: str, message: str) -> None:
    assert _error(_reply(action)) == message


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ("(1001,500)", "point (1001, 500) is outside the 0-1000 grid"),
        ("(500,-1)", "point (500, -1) is outside the 0-1000 grid"),
        (
            "(990,10,1100,20)",
            "point (1045, 15) is outside the 0-1000 grid",
        ),
    ],
)
def test_relative_points_outside_the_range(box: str, message: str) -> None:
    assert _error(_reply(f"click(start_box='{box}')"), THOUSANDTHS) == message


def test_no_action_line() -> None:
    assert _error("Thought: I should click Save.") == (
        "UI-TARS reply has no 'Action:' line: 'Thought: I should click Save.'"
    )


def test_empty_action_line() -> None:
    assert _error("Thought: hmm\nAction:   \n") == "UI-TARS reply has an empty 'Action:' line"


def test_quoted_parts_are_shortened() -> None:
    message = _error("Thought: " + "x" * 500)
    quoted = message.split(": ", 1)[1]
    assert len(quoted) <= 122  # 120 characters and the quotes
    assert quoted.endswith("...'")

    message = _error(_reply("type(content='" + "y" * 500))
    assert message.startswith("unterminated string in UI-TARS action \"type(content='yyy")
    assert len(message) < 200


def test_a_bad_second_action_fails_the_whole_reply() -> None:
    text = "Thought: t\nAction: click(start_box='(1,2)')\n\nclik(start_box='(1,2)')"
    assert _error(text).startswith("unknown UI-TARS action 'clik'")
