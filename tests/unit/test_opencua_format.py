"""OpenCUA's pyautogui code is read against an allow-list, never run: what is allowed becomes
actions; anything else, however it is hidden, is a rejected reply and nothing of it runs."""

from __future__ import annotations

import builtins
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agent.actions import Click, Done, Drag, Fail, KeyPress, Move, Scroll, TypeText, Wait
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.opencua_format import parse_opencua

IMAGE = Size(1316, 728)


def _reply(code: str) -> str:
    thought = "## Thought:\nThe button is there.\n## Action:\nClick it."
    return f"{thought}\n## Code:\n```python\n{code}\n```"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("pyautogui.click(x=658, y=364)", (Click(658, 364),)),
        ("pyautogui.click(658, 364)", (Click(658, 364),)),
        ("pyautogui.click(x=10, y=20, button='right')", (Click(10, 20, button="right"),)),
        ("pyautogui.doubleClick(x=10, y=20)", (Click(10, 20, count=2),)),
        ("pyautogui.tripleClick(x=10, y=20)", (Click(10, 20, count=3),)),
        ("computer.triple_click(x=10, y=20)", (Click(10, 20, count=3),)),
        ("pyautogui.rightClick(10, 20)", (Click(10, 20, button="right"),)),
        ("pyautogui.moveTo(10, 20)\npyautogui.dragTo(30, 40)",
         (Move(10, 20), Drag((Point(10, 20), Point(30, 40))))),
        ("pyautogui.scroll(-5, x=10, y=20)", (Scroll(10, 20, scroll_y=5),)),
        ("pyautogui.hscroll(3, x=10, y=20)", (Scroll(10, 20, scroll_x=3),)),
        ("pyautogui.write(message='こんにちは')", (TypeText("こんにちは"),)),
        ("pyautogui.press('enter')", (KeyPress(("enter",)),)),
        ("pyautogui.hotkey('ctrl', 'c')", (KeyPress(("ctrl", "c")),)),
        ("pyautogui.hotkey(['ctrl', 'shift', 't'])", (KeyPress(("ctrl", "shift", "t")),)),
        ("computer.wait()", (Wait(1.0),)),
        ("computer.wait(seconds=3)", (Wait(3.0),)),
        ("computer.terminate(status='success', answer='42')", (Done("42"),)),
        ("computer.terminate(status='failure')", (Fail("## Thought:\nThe button is there.\n"
                                                      "## Action:\nClick it."),)),
        ("import pyautogui\npyautogui.click(1, 2)", (Click(1, 2),)),
    ],
)  # fmt: skip
def test_allowed_calls_become_actions(code: str, expected: tuple[Any, ...]) -> None:
    assert parse_opencua(_reply(code), IMAGE).actions == expected


def test_a_drag_starts_where_the_last_step_left_the_pointer() -> None:
    reply = parse_opencua(_reply("pyautogui.dragTo(30, 40)"), IMAGE, Point(5, 6))
    assert reply.actions == (Drag((Point(5, 6), Point(30, 40))),)


CANARY = "/tmp/shain-opencua-canary"
HOSTILE = [
    "import os",
    "import os; os.system('touch /tmp/shain-opencua-canary')",
    "from os import system",
    "__import__('os').system('id')",
    "os.system('id')",
    "exec('print(1)')",
    "eval('1+1')",
    "compile('1', 'x', 'exec')",
    "open('/etc/passwd').read()",
    "subprocess.run(['id'])",
    "pyautogui.click(x=__import__('os').getpid(), y=1)",
    "pyautogui.click(x=eval('1'), y=2)",
    "pyautogui.write(message=open('/etc/passwd').read())",
    "pyautogui.write(message=''.join(['a', 'b']))",
    "pyautogui.write(message='a' + 'b')",
    "pyautogui.write(message=f'{1}')",
    "pyautogui.click(x=1 + 1, y=2)",
    "pyautogui.click(x=10**100000, y=2)",
    "pyautogui.click(x=1e999, y=2)",
    "pyautogui.click(x=-1e999, y=2)",
    "pyautogui.click(x=float('nan'), y=2)",
    "pyautogui.click(x=[i for i in range(10)], y=2)",
    "pyautogui.click(x={i for i in range(3)}, y=2)",
    "pyautogui.click(x={'a': 1}, y=2)",
    "pyautogui.click(x=(lambda: 1)(), y=2)",
    "pyautogui.click(x=X, y=2)",
    "pyautogui.click(*[1, 2])",
    "pyautogui.click(**{'x': 1, 'y': 2})",
    "pyautogui.click(x=1, y=2, callback=print)",
    "pyautogui.__class__.__bases__[0].__subclasses__()",
    "pyautogui.os.system('id')",
    "pyautogui.click.__globals__['os'].system('id')",
    "computer.__init__.__globals__",
    "getattr(pyautogui, 'click')(1, 2)",
    "pyautogui.click(1, 2).__class__",
    "pyautogui.screenshot().save('/tmp/x.png')",
    "pyautogui.FAILSAFE = False",
    "x = 1",
    "pyautogui.click(1, 2) if True else None",
    "for i in range(10**9): pyautogui.click(1, 2)",
    "while True: pass",
    "def f(): pass",
    "class A: pass",
    "lambda: os.system('id')",
    "with open('/etc/passwd') as f: pass",
    "try:\n    pass\nexcept Exception:\n    pass",
    "[pyautogui.click(1, 2) for _ in range(3)]",
    "pyautogui.click(1, 2); os.remove('/tmp/x')",
    "del pyautogui",
    "global os",
    "assert os.system('id')",
    "raise SystemExit",
    "pyautogui.write(message='a' * 10**9)",
    "pyautogui.write('" + "a" * 6000 + "')",
    "(" * 200 + "1" + ")" * 200,
    "pyautogui.click(" + "[" * 100 + "1" + "]" * 100 + ", 2)",
    "pyautogui.press(keys=os.environ['HOME'])",
    "pyautogui.hotkey(*os.environ)",
    "sys.modules['os'].system('id')",
    "breakpoint()",
    "pyautogui.click(x=True.__class__, y=2)",
    "pyautogui.keyDown('shift')",
    "pyautogui.click(x=1, y=2, x=3)",
    "async def f(): await g()",
    "pyautogui.click(1, 2)\nimport shutil",
    "pyautogui.typewrite(message=b'bytes')",
    "print(open('/etc/shadow'))",
]


@pytest.fixture
def nothing_may_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to run code or start a process fails the test loudly."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("model code was run")

    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)


@pytest.mark.parametrize("code", HOSTILE)
def test_hostile_code_is_rejected_and_never_run(code: str, nothing_may_run: None) -> None:
    Path(CANARY).unlink(missing_ok=True)
    with pytest.raises(ModelOutputError):
        parse_opencua(_reply(code), IMAGE)
    assert not Path(CANARY).exists()


def test_there_are_at_least_fifty_hostile_snippets() -> None:
    assert len(HOSTILE) >= 50


def test_no_code_block_is_a_rejected_reply() -> None:
    with pytest.raises(ModelOutputError, match="no ```python code block"):
        parse_opencua("I will click the button.", IMAGE)
