"""Task files: loading, variables, secrets, and errors that name the file, line and field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pydantic
import pytest

from agent.actions import Click, Drag, KeyPress, Move, Scroll, TypeText, Wait
from agent.errors import ConfigError, TaskFileError
from agent.geometry import Point
from agent.perception.locator import Target
from agent.taskfile.checks import CommandCheck, FileEqualsCheck, WindowTitleCheck
from agent.taskfile.items import (
    AiStep,
    ClickStep,
    DoubleClickStep,
    DragStep,
    KeyStep,
    LaunchStep,
    ScrollStep,
    WaitForStep,
    step_to_action,
)
from agent.taskfile.task import (
    LoadedTask,
    Task,
    load_task,
    load_task_text,
    task_json_schema,
)

EXAMPLE = """\
name: save-note
goal: Write "hello" into a new note and save it as note.txt
setup:
  - launch: mousepad {workdir}/note.txt
  - wait_for: {window: note.txt, timeout: 10}
steps:
  - click: {x: 400, y: 300}
  - click: {x: 400, y: 300, button: right, count: 2}
  - double_click: {x: 10, y: 10}
  - move: {x: 1, y: 2}
  - drag: {path: [[1, 2], [30, 40]]}      # also accept [{x:1,y:2}, ...]
  - drag: {path: [{x: 5, y: 6}, [7, 8], {x: 9, y: 10}], button: middle}
  - scroll: {x: 500, y: 500, down: 3}
  - scroll: {x: 5, y: 6, up: 2, left: 4}
  - type: "こんにちは {name}"
  - key: ctrl+s
  - wait: 0.5
  - wait_for: {file: "{workdir}/note.txt", timeout: 5}
  - ai: Close any dialog that is still open
checks:
  - file_exists: {path: "{workdir}/note.txt"}
  - file_contains: {path: "{workdir}/note.txt", text: こんにちは}
  - file_equals: {path: "{workdir}/note.txt", text: "exact content", strip: false}
  - command: {run: "test -s {workdir}/note.txt", exit_code: 0}
  - command: {run: "cat x", stdout: "exact", stdout_contains: "part", timeout: 10}
  - clipboard_equals: {text: "408"}
  - window_title: {matches: "note.txt", active: false}
budget: {max_steps: 30, max_seconds: 300}
vars: {name: 社長}
secrets: [MAIL_PASSWORD]
"""

ENV = {"MAIL_PASSWORD": "hunter2"}


def write(tmp_path: Path, text: str, name: str = "task.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, **kwargs: Any) -> LoadedTask:
    return load_task(write(tmp_path, text), **kwargs)


def error_of(tmp_path: Path, text: str, **kwargs: Any) -> str:
    path = write(tmp_path, text)
    with pytest.raises(TaskFileError) as info:
        load_task(path, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{path}:"), message
    return message.removeprefix(f"{path}:")


def steps_task(*steps: str) -> str:
    """A task whose steps start on line 3, one a line."""
    return "name: t\nsteps:\n" + "".join(f"  - {step}\n" for step in steps)


# ---- the full example


def test_example_loads_into_the_right_actions(tmp_path: Path) -> None:
    loaded = load(tmp_path, EXAMPLE, builtins={"workdir": "/tmp/w"}, environ=ENV)
    actions = [step_to_action(step) for step in loaded.task.steps]
    assert actions == [
        Click(400, 300),
        Click(400, 300, button="right", count=2),
        Click(10, 10, count=2),
        Move(1, 2),
        Drag((Point(1, 2), Point(30, 40))),
        Drag((Point(5, 6), Point(7, 8), Point(9, 10)), button="middle"),
        Scroll(500, 500, scroll_x=0, scroll_y=3),
        Scroll(5, 6, scroll_x=-4, scroll_y=-2),
        TypeText("こんにちは 社長"),
        KeyPress(("ctrl", "s")),
        Wait(0.5),
        None,
        None,
    ]
    wait_for, ai = loaded.task.steps[-2:]
    assert isinstance(wait_for, WaitForStep)
    assert (wait_for.wait_for.file, wait_for.wait_for.timeout) == ("/tmp/w/note.txt", 5)
    assert isinstance(ai, AiStep) and ai.ai == "Close any dialog that is still open"
    assert [step.kind for step in loaded.task.steps][:3] == ["click", "click", "double_click"]


def test_example_setup_checks_budget_and_variables(tmp_path: Path) -> None:
    loaded = load(tmp_path, EXAMPLE, builtins={"workdir": "/tmp/w"}, environ=ENV)
    task = loaded.task
    launch, wait_for = task.setup
    assert isinstance(launch, LaunchStep)
    assert launch.launch.command == "mousepad /tmp/w/note.txt"
    assert (launch.launch.cwd, launch.launch.env) == (None, {})
    assert isinstance(wait_for, WaitForStep)
    assert (wait_for.wait_for.window, wait_for.wait_for.file) == ("note.txt", None)

    assert [check.kind for check in task.checks] == [
        "file_exists",
        "file_contains",
        "file_equals",
        "command",
        "command",
        "clipboard_equals",
        "window_title",
    ]
    file_equals, command = task.checks[2], task.checks[4]
    assert isinstance(file_equals, FileEqualsCheck) and file_equals.file_equals.strip is False
    assert isinstance(command, CommandCheck)
    assert command.command.model_dump() == {
        "run": "cat x",
        "exit_code": 0,
        "stdout": "exact",
        "stdout_contains": "part",
        "timeout": 10.0,
    }
    title = task.checks[6]
    assert isinstance(title, WindowTitleCheck) and title.window_title.active is False

    assert (task.budget.max_steps, task.budget.max_seconds) == (30, 300.0)
    assert task.vars == {"name": "社長"}
    assert task.secrets == {"MAIL_PASSWORD": None}  # a list: password fields only
    assert loaded.secret_values == ("hunter2",)
    assert dict(loaded.variables) == {
        "name": "社長",
        "workdir": "/tmp/w",
        "MAIL_PASSWORD": "hunter2",
    }
    assert loaded.path == tmp_path / "task.yaml"


def test_defaults(tmp_path: Path) -> None:
    loaded = load(tmp_path, "name: t\ngoal: do it\n")
    task = loaded.task
    assert (task.steps, task.setup, task.checks, task.vars, task.secrets) == ([], [], [], {}, {})
    assert (task.budget.max_steps, task.budget.max_seconds) == (50, 600.0)
    assert loaded.secret_values == ()

    task = load(tmp_path, steps_task("click: {x: 1, y: 2}", "wait: 2")).task
    assert task.goal is None
    click = task.steps[0]
    assert isinstance(click, ClickStep) and (click.click.button, click.click.count) == ("left", 1)

    checks = "name: t\ngoal: g\nchecks:\n  - window_title: {matches: x}\n"
    checks += "  - file_equals: {path: p, text: t}\n"
    title, equals = load(tmp_path, checks).task.checks
    assert isinstance(title, WindowTitleCheck) and title.window_title.active is True
    assert isinstance(equals, FileEqualsCheck) and equals.file_equals.strip is True


def test_launch_mapping_form_and_numbers_in_env(tmp_path: Path) -> None:
    text = (
        "name: t\ngoal: g\nsetup:\n"
        "  - launch: {command: app --big, cwd: /srv, env: {PORT: 8080, MODE: fast}}\n"
        "  - wait_for: {window: '^App — .*$'}\n"
    )
    launch, wait_for = load(tmp_path, text).task.setup
    assert isinstance(launch, LaunchStep)
    assert launch.launch.model_dump() == {
        "command": "app --big",
        "cwd": "/srv",
        "env": {"PORT": "8080", "MODE": "fast"},
        "window": None,  # no waiting for a window unless asked
    }
    assert isinstance(wait_for, WaitForStep) and wait_for.wait_for.timeout == 10.0


def test_load_task_text_uses_the_source_name() -> None:
    loaded = load_task_text("name: t\ngoal: g\n", "inline.yaml")
    assert loaded.task.name == "t" and loaded.path == Path("inline.yaml")
    with pytest.raises(TaskFileError, match=r"^<task>:2: "):
        load_task_text("name: t\nstpes: []\n")


def test_task_is_frozen(tmp_path: Path) -> None:
    task = load(tmp_path, "name: t\ngoal: g\n").task
    with pytest.raises(pydantic.ValidationError):
        task.name = "other"


# ---- errors: file, line, field


def test_bad_integer_names_line_and_field(tmp_path: Path) -> None:
    text = "name: t\ngoal: g\nsteps:\n  - wait: 1\n  - key: enter\n  - type: hi\n"
    text += "  - click: {x: abc, y: 3}\n"
    message = error_of(tmp_path, text)
    assert message.startswith("7: steps[3].click.x: Input should be a valid integer"), message
    assert "\n" not in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, "name: t\ngoal: g\nstpes:\n  - wait: 1\n")
    assert message == (
        "3: unknown key 'stpes' (expected one of name, goal, setup, steps, checks, budget,"
        " vars, params, oracle, expect, skills, secrets, approvals, guard)"
    )


def test_unknown_key_inside_a_step(tmp_path: Path) -> None:
    message = error_of(tmp_path, steps_task("wait: 1", "click: {x: 1, y: 2, z: 3}"))
    assert message == (
        "4: steps[1].click: unknown key 'z' (expected one of text, role, name, within, nth, x, y,"
        " button, count, timeout)"
    )


def test_unknown_step_kind_lists_the_kinds(tmp_path: Path) -> None:
    message = error_of(tmp_path, steps_task("wait: 1", "wait: 2", "clik: {x: 1, y: 2}"))
    assert message == (
        "5: steps[2]: unknown step 'clik': a step is one of click, double_click, move, drag,"
        " scroll, type, key, wait, wait_for, ai, fail"
    )


def test_unknown_setup_and_check_kinds(tmp_path: Path) -> None:
    text = "name: t\ngoal: g\nsetup:\n  - click: {x: 1, y: 1}\nchecks:\n  - file_exist: {path: p}\n"
    message = error_of(tmp_path, text)
    assert message.splitlines() == [
        "4: setup[0]: unknown setup step 'click': a setup step is one of launch, run,"
        " write_file, wait_for",
        f"{tmp_path / 'task.yaml'}:6: checks[0]: unknown check 'file_exist': a check is one of"
        " file_exists, file_absent, file_contains, file_equals, command, clipboard_equals,"
        " window_title, screen_text",
    ]


def test_step_with_two_keys_hints_at_indentation(tmp_path: Path) -> None:
    text = "name: t\nsteps:\n  - wait: 1\n  - click:\n    x: 1\n    y: 2\n"
    message = error_of(tmp_path, text)
    assert message.startswith("4: steps[1]: a step has exactly one key naming its kind, got")
    assert "'click', 'x', 'y'" in message


def test_step_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = error_of(tmp_path, steps_task("wait: 1", "ai", "{}"))
    first, second = message.splitlines()
    assert first.startswith("4: steps[1]: a step is a mapping with one key naming its kind")
    assert first.endswith("got text")
    assert second.endswith(
        ":5: steps[2]: a step is a mapping with one key naming its kind"
        " (one of click, double_click, move, drag, scroll, type, key, wait,"
        " wait_for, ai, fail), got an empty mapping"
    )


def test_click_on_a_target_loads_and_waits_for_the_screen(tmp_path: Path) -> None:
    text = steps_task(
        "click: {text: Save, within: {window: 'Save As'}, nth: 2, timeout: 3}",
        "double_click: {role: button, name: OK}",
        "wait_for: {text: Saved, timeout: 4}",
    )
    click, double, wait = load(tmp_path, text).task.steps
    assert isinstance(click, ClickStep) and step_to_action(click) is None
    assert click.click.target() == Target(text="Save", window="Save As", nth=2)
    assert click.click.timeout == 3
    assert isinstance(double, DoubleClickStep) and double.double_click.count == 2
    assert double.double_click.target() == Target(role="button", name="OK")
    assert isinstance(wait, WaitForStep) and wait.wait_for.target() == Target(text="Saved")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{x: 1, y: 2, text: Save}", "give either x and y, or a target"),
        ("{x: 1, y: 2, nth: 2}", "nth goes with a target"),
        ("{nth: 2}", "give x and y, or a target: text, role and/or name"),
        ("{y: 2}", "a point needs both x and y"),
        ("{text: Save, within: dialog}", "within: Input should be a valid dictionary"),
        ("{text: Save, within: {window: 'a('}}", "invalid regular expression"),
        ("{text: Save, nth: 0}", "nth: Input should be greater than or equal to 1"),
    ],
)
def test_bad_targets_are_named(tmp_path: Path, target: str, message: str) -> None:
    error = error_of(tmp_path, steps_task(f"double_click: {target}"))
    assert error.startswith("3: steps[0].double_click"), error
    assert message in error


def test_unknown_key_name(tmp_path: Path) -> None:
    message = error_of(tmp_path, steps_task("wait: 1", "key: ctrl+sss"))
    assert message.startswith("4: steps[1].key: unknown key name 'sss'"), message


@pytest.mark.parametrize(
    ("step", "field", "fragment"),
    [
        ("wait: 301", "steps[0].wait", "less than or equal to 300"),
        ("wait: -1", "steps[0].wait", "greater than or equal to 0"),
        ("click: {x: 1, y: 2, count: 4}", "steps[0].click.count", "less than or equal to 3"),
        ("click: {x: 1, y: 2, button: left2}", "steps[0].click.button", "'left', 'right'"),
        ("click: {x: -1, y: 2}", "steps[0].click.x", "greater than or equal to 0"),
        ("click: {y: 2}", "steps[0].click", "a point needs both x and y"),
        ("type: ''", "steps[0].type", "at least 1 character"),
        ("scroll: {x: 1, y: 1}", "steps[0].scroll", "at least one of up, down, left, right"),
        ("scroll: {x: 1, y: 1, down: -2}", "steps[0].scroll.down", "greater than or equal"),
        ("drag: {path: [[1, 2]]}", "steps[0].drag.path", "at least 2 items"),
        ("drag: {path: [[1, 2], [3]]}", "steps[0].drag.path[1]", "a point is [x, y]"),
        ("drag: {path: [[1, 2], {x: 3}]}", "steps[0].drag.path[1].y", "Field required"),
        ("wait_for: {window: a, file: b}", "steps[0].wait_for", "exactly one of window, file"),
        ("wait_for: {timeout: 3}", "steps[0].wait_for", "exactly one of window, file"),
        ("wait_for: {file: b, text: c}", "steps[0].wait_for", "or a target (text, role"),
        ("wait_for: {window: 'a('}", "steps[0].wait_for.window", "invalid regular expression"),
        ("wait_for: {file: f, timeout: 0}", "steps[0].wait_for.timeout", "greater than 0"),
        ("ai: [1]", "steps[0].ai", "valid string"),
    ],
)
def test_step_errors(tmp_path: Path, step: str, field: str, fragment: str) -> None:
    message = error_of(tmp_path, steps_task(step))
    assert message.startswith(f"3: {field}: "), message
    assert fragment in message


def test_missing_field_in_a_block_mapping_points_at_its_key(tmp_path: Path) -> None:
    text = "name: t\nsteps:\n  - click:\n      y: 1\n      button: left\n"
    assert error_of(tmp_path, text) == "3: steps[0].click: a point needs both x and y"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("setup:\n  - launch: ''\n", "4: setup[0].launch.command: String should have at least 1"),
        ("setup:\n  - launch: {cwd: /}\n", "4: setup[0].launch.command: Field required"),
        (
            "checks:\n  - command: {run: x, exit_code: zero}\n",
            "4: checks[0].command.exit_code: Input should be a valid integer",
        ),
        (
            "checks:\n  - window_title: {matches: '(('}\n",
            "4: checks[0].window_title.matches: invalid regular expression",
        ),
        ("checks:\n  - file_contains: {path: p}\n", "4: checks[0].file_contains.text: Field"),
        ("budget: {max_steps: 0}\n", "3: budget.max_steps: Input should be greater than or"),
        ("budget:\n  max_seconds: 0\n", "4: budget.max_seconds: Input should be greater than 0"),
        ("vars: [a, b]\n", "3: vars: Input should be a valid dictionary"),
        ("vars: {a: [1]}\n", "3: vars.a: Input should be a valid string"),
        ("secrets: [not-a-name]\n", "3: secrets[0]: String should match pattern"),
    ],
)
def test_setup_check_and_top_level_errors(tmp_path: Path, body: str, expected: str) -> None:
    message = error_of(tmp_path, "name: t\ngoal: g\n" + body)
    assert message.startswith(expected), message


def test_task_needs_steps_or_goal_and_a_name(tmp_path: Path) -> None:
    assert error_of(tmp_path, "name: t\n") == "1: a task needs steps or a goal (or both)"
    assert error_of(tmp_path, "goal: g\n") == "1: name: Field required"
    assert error_of(tmp_path, "name: ''\ngoal: g\n").startswith("1: name: String should have")


def test_every_problem_on_its_own_line_in_file_order(tmp_path: Path) -> None:
    text = steps_task("click: {x: a, y: 1}", "wait: 1", "key: nokey", "clik: {}")
    text += "budget: {max_steps: -1}\nextra: 1\n"
    lines = error_of(tmp_path, text).splitlines()
    path = tmp_path / "task.yaml"
    assert [line.split(": ", 1)[0] for line in lines] == [
        "3",
        f"{path}:5",
        f"{path}:6",
        f"{path}:7",
        f"{path}:8",
    ]
    assert "steps[0].click.x" in lines[0] and "steps[2].key" in lines[1]
    assert "unknown key 'extra'" in lines[4]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "name: t\nsteps:\n  - click: {x: 1, y: 2\n  - wait: 1\n")
    assert message == (
        "4: invalid YAML: expected ',' or '}', but got ':' (while parsing a flow mapping on line 3)"
    )
    message = error_of(tmp_path, "name: t\ngoal: g\n---\nname: u\n")
    assert message.startswith("3: invalid YAML: but found another document")
    message = error_of(tmp_path, "name: t\ngoal: 'bell \x07'\n")
    assert "invalid YAML: unacceptable character" in message and "\n" not in message
    message = error_of(tmp_path, "name: t\ngoal: g\n  bad: indent\n")
    assert message.startswith("3: invalid YAML: mapping values are not allowed here")


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, "name: t\ngoal: g\nname: u\n")
    assert message == "3: duplicate key 'name' (first on line 1)"
    message = error_of(tmp_path, steps_task("click: {x: 1, y: 2, x: 3}"))
    assert message == "3: duplicate key 'x' (first on line 3)"


def test_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    text = "name: t\nsteps:\n  - click: &at {x: 1, y: 2}\n  - double_click: *at\n"
    text += "  - click: {<<: *at, button: right}\n"
    actions = [step_to_action(step) for step in load(tmp_path, text).task.steps]
    assert actions == [Click(1, 2), Click(1, 2, count=2), Click(1, 2, button="right")]


def test_recursive_or_exploding_aliases_are_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, "name: t\ngoal: g\nvars: &v\n  a: *v\n")
    assert message == "3: an alias refers to a node that contains it"
    text = "name: t\ngoal: g\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 7):
        text += (
            f"{chr(97 + level)}: &{chr(97 + level)} [{', '.join(['*' + chr(96 + level)] * 10)}]\n"
        )
    assert "too large once its aliases are expanded" in error_of(tmp_path, text)


def test_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = error_of(tmp_path, "# a list\n- click: {x: 1, y: 1}\n")
    assert message.startswith("2: a task file is a mapping")
    assert "not list" in message


def test_empty_document(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    with pytest.raises(TaskFileError, match="empty"):
        load_task(path)


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(TaskFileError, match=re.escape(f"{missing}: no such task file")):
        load_task(missing)
    with pytest.raises(TaskFileError, match=re.escape(f"{tmp_path}: cannot read")):
        load_task(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(TaskFileError, match="not UTF-8"):
        load_task(binary)


def test_task_file_error_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_task(tmp_path / "nope.yaml")
    assert info.value.exit_code == 2


# ---- variables


VARS_TASK = """\
name: vars
vars: {a: from-vars, b: from-vars, c: from-vars, d: from-vars, n: 5, f: 0.5}
steps:
  - type: "{a} {b} {c} {d}"
  - click: {x: "{n}", y: 7}
  - wait: "{f}"
"""


def test_variable_priority(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        VARS_TASK + "secrets: [d]\n",
        builtins={"b": "builtin", "c": "builtin", "d": "builtin"},
        overrides={"c": "override", "d": "override"},
        environ={"d": "secret"},
    )
    typed, click, wait = (step_to_action(step) for step in loaded.task.steps)
    # The secret wins, and stays its placeholder in a step: the value goes in as it is typed.
    assert typed == TypeText("from-vars builtin override {d}")
    assert click == Click(5, 7)
    assert wait == Wait(0.5)
    assert loaded.task.vars["n"] == "5" and loaded.task.vars["f"] == "0.5"
    assert loaded.variables["d"] == "secret" and loaded.variables["c"] == "override"


def test_overrides_can_add_variables(tmp_path: Path) -> None:
    text = steps_task("type: 'to {who}'")
    assert (
        load(tmp_path, text, overrides={"who": "boss"}).task.steps[0]
        == load(tmp_path, steps_task("type: to boss")).task.steps[0]
    )


def test_double_braces_are_literal(tmp_path: Path) -> None:
    loaded = load(tmp_path, 'name: t\nvars: {v: X}\nsteps:\n  - type: "{{v}} {{{v}}} }}{{"\n')
    assert step_to_action(loaded.task.steps[0]) == TypeText("{v} {X} }{")


def test_values_are_not_substituted_again(tmp_path: Path) -> None:
    loaded = load(tmp_path, "name: t\nsteps:\n  - type: '{v}'\n", overrides={"v": "{w}"})
    assert step_to_action(loaded.task.steps[0]) == TypeText("{w}")


def test_vars_are_not_substituted_and_keys_are_untouched(tmp_path: Path) -> None:
    text = "name: t\ngoal: g\nvars: {a: '{b}', b: x}\nsetup:\n  - launch:\n"
    text += "      command: run {a}\n      env: {'{b}': '{b}'}\n"
    loaded = load(tmp_path, text)
    assert loaded.task.vars == {"a": "{b}", "b": "x"}
    launch = loaded.task.setup[0]
    assert isinstance(launch, LaunchStep)
    assert launch.launch.command == "run {b}"
    assert launch.launch.env == {"{b}": "x"}


def test_unknown_variable_names_it_and_the_line(tmp_path: Path) -> None:
    text = "name: t\nvars: {name: x}\nsteps:\n  - wait: 1\n  - type: 'hi {nmae}'\n"
    message = error_of(tmp_path, text)
    assert message == "5: steps[1].type: unknown variable 'nmae' (known: name)"


def test_unknown_variable_in_a_typed_field_is_reported_once(tmp_path: Path) -> None:
    message = error_of(tmp_path, steps_task("click: {x: '{x}', y: 1}"))
    assert message == "3: steps[0].click.x: unknown variable 'x' (known: none are defined)"


@pytest.mark.parametrize("text", ["a { b", "a } b", "{not a name}", "{}"])
def test_stray_braces_are_errors(tmp_path: Path, text: str) -> None:
    message = error_of(tmp_path, f"name: t\ngoal: g\nsteps:\n  - type: '{text}'\n")
    assert message.startswith("4: steps[0].type: ")
    assert "'{{'" in message or "'}}'" in message


# ---- secrets


def test_secrets_stay_placeholders_in_steps_and_goals_and_are_listed(tmp_path: Path) -> None:
    text = (
        "name: t\ngoal: 'log in with {PW}'\nsecrets: [PW, EMPTY]\n"
        "steps:\n  - type: 'pw={PW}{EMPTY}'\n"
        "checks:\n  - file_equals: {path: /tmp/x, text: '{PW}'}\n"
    )
    loaded = load(tmp_path, text, environ={"PW": "s3cret", "EMPTY": "", "OTHER": "x"})
    assert step_to_action(loaded.task.steps[0]) == TypeText("pw={PW}{EMPTY}")
    assert loaded.task.goal == "log in with {PW}"
    assert "s3cret" in loaded.task.checks[0].model_dump_json()  # a check needs the value
    assert loaded.secret_values == ("s3cret",)
    assert "OTHER" not in loaded.variables and loaded.variables["PW"] == "s3cret"
    assert loaded.task.secret_places() == {"PW": None, "EMPTY": None}


def test_a_secret_may_name_the_windows_it_is_typed_into(tmp_path: Path) -> None:
    text = "name: t\nsecrets: {PW: {windows: 'Login|Mail'}}\nsteps:\n  - type: '{PW}'\n"
    loaded = load(tmp_path, text, environ={"PW": "s3cret"})
    assert loaded.task.secret_places() == {"PW": "Login|Mail"}
    bad = "name: t\nsecrets: {PW: {windows: '(unclosed'}}\nsteps:\n  - type: '{PW}'\n"
    message = error_of(tmp_path, bad, environ={"PW": "s3cret"})
    assert "2: secrets.PW.windows: invalid regular expression" in message
    missing = "name: t\nsecrets:\n  PW: {windows: Login}\nsteps:\n  - wait: 1\n"
    assert error_of(tmp_path, missing, environ={}) == "3: secrets.PW: secret 'PW' is not set"


def test_secrets_default_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAIN_TEST_SECRET", "from-os")
    text = "name: t\nsecrets: [SHAIN_TEST_SECRET]\nsteps:\n  - type: '{SHAIN_TEST_SECRET}'\n"
    assert load(tmp_path, text).secret_values == ("from-os",)


def test_missing_secret_names_the_variable_only(tmp_path: Path) -> None:
    text = "name: t\nsecrets:\n  - PRESENT\n  - MAIL_PASSWORD\nsteps:\n  - type: '{PRESENT}'\n"
    message = error_of(tmp_path, text, environ={"PRESENT": "topsecretvalue"})
    assert message == "4: secrets[1]: secret 'MAIL_PASSWORD' is not set"
    assert "topsecretvalue" not in message


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    text = "name: t\nsecrets: [K]\nsteps:\n  - key: '{K}'\n  - type: '{K} {missing}'\n"
    message = error_of(tmp_path, text, environ={"K": "ctrl+letmein"})
    assert "letmein" not in message
    lines = message.splitlines()
    assert lines[0] == "4: steps[0].key: invalid value (not shown: it holds a secret)"
    path = tmp_path / "task.yaml"
    with pytest.raises(TaskFileError) as info:
        load_task(path, environ={"K": "ctrl+letmein"})
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert "unknown variable 'missing'" in lines[1]


# ---- step_to_action and the schema


def test_step_to_action_for_steps_built_in_code() -> None:
    scroll = ScrollStep.model_validate({"scroll": {"x": 1, "y": 2, "right": 3, "down": 1}})
    assert step_to_action(scroll) == Scroll(1, 2, scroll_x=3, scroll_y=1)
    key = KeyStep(key="Control_L+Return")
    assert step_to_action(key) == KeyPress(("ctrl", "enter"))
    task = Task.model_validate({"name": "t", "steps": [scroll, {"ai": "look"}]})
    assert [step_to_action(step) for step in task.steps][1] is None


def test_json_schema(tmp_path: Path) -> None:
    schema = task_json_schema()
    text = json.dumps(schema)
    assert "steps" in schema["properties"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name"}
    for kind in ("double_click", "wait_for", "clipboard_equals", "launch"):
        assert f'"{kind}"' in text
    launch = schema["$defs"]["LaunchStep"]["properties"]["launch"]
    assert {"type": "string", "minLength": 1} in launch["anyOf"]


def test_a_drag_between_two_targets(tmp_path: Path) -> None:
    text = steps_task("drag: {from: {text: Budget}, to: {text: today, nth: 2}, timeout: 3}")
    (drag,) = load(tmp_path, text).task.steps
    assert isinstance(drag, DragStep) and step_to_action(drag) is None
    assert drag.drag.start is not None and drag.drag.start.target() == Target(text="Budget")
    assert drag.drag.end is not None and drag.drag.end.target() == Target(text="today", nth=2)


@pytest.mark.parametrize(
    ("drag", "message"),
    [
        ("{from: {text: a}}", "drag needs either a path, or from and to"),
        ("{path: [[1, 2], [3, 4]], to: {text: a}}", "drag needs either a path, or from and to"),
        ("{from: {nth: 1}, to: {text: a}}", "a drag's from/to names a target"),
        ("{form: {text: a}, to: {text: b}}", "unknown key 'form' (expected one of path, from, to"),
    ],
)
def test_bad_drags_are_named(tmp_path: Path, drag: str, message: str) -> None:
    assert message in error_of(tmp_path, steps_task(f"drag: {drag}"))


def test_wait_for_a_window_to_close(tmp_path: Path) -> None:
    (wait,) = load(tmp_path, steps_task("wait_for: {window: Mousepad, gone: true}")).task.steps
    assert isinstance(wait, WaitForStep) and wait.wait_for.gone
    message = error_of(tmp_path, steps_task("wait_for: {file: x, gone: true}"))
    assert "gone goes with window" in message
