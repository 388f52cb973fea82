"""A demonstration's input, folded into a task file: typing as vars, a password as a secret
(never its text), shortcuts, double clicks, drags, scrolls, and Shain's own windows left out.

The input is what the X RECORD listener hands on, with what the watcher saw when each action
began; the file is written and loaded back by the same writer as `shain learn`'s."""

from __future__ import annotations

from pathlib import Path

import yaml

from agent.geometry import Box
from agent.learn.demonstration import demonstrated_actions
from agent.learn.from_demonstration import write_demonstration
from agent.learn.recorder import ButtonInput, KeyInput, MotionInput
from agent.learn.typed_keys import Key
from agent.learn.watcher import AppWindow, Observed, Sight
from agent.perception.atspi import Element
from agent.perception.pointed import PointedElement, PointedWindow

LOGIN = PointedWindow("Login", Box(100, 100, 400, 300))
FIELD = Element("app", "text", "User name", Box(120, 140, 200, 24), frozenset({"focused"}), ())
PASSWORD = Element("app", "password text", "Password", Box(120, 180, 200, 24),
                   frozenset({"focused"}), ())  # fmt: skip
SIGN_IN = PointedElement("button", "Sign in", "Login", 1, 1, Box(300, 360, 80, 30))


def _sight(field: Element | None = None, element: PointedElement | None = None,
           own: bool = False, windows: tuple[str, ...] = ("Login",)) -> Sight:  # fmt: skip
    ids = tuple(range(1, len(windows) + 1))
    return Sight(windows, ids, windows[-1], ids[-1], LOGIN if element else PointedWindow("", None),
                 element, field, own, 0.05)  # fmt: skip


class _Input:
    """Input as the listener hands it on, at made-up times a tenth of a second apart."""

    def __init__(self) -> None:
        self.observed: list[Observed] = []
        self.at = 0.0

    def key(self, name: str, char: str | None, sight: Sight | None = None,
            held: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.at += 0.1
        key = Key(name, char, held)
        self.observed.append(Observed(KeyInput(True, 10, self.at), key, sight))
        self.observed.append(Observed(KeyInput(False, 10, self.at), key, None))

    def typed(self, text: str, sight: Sight) -> None:
        for index, char in enumerate(text):
            self.key(char, char, sight if index == 0 else None)

    def button(self, x: int, y: int, sight: Sight | None, to: tuple[int, int] | None = None,
               button: int = 1) -> None:  # fmt: skip
        self.at += 0.1
        self.observed.append(Observed(ButtonInput(True, button, x, y, self.at), None, sight))
        end = to or (x, y)
        if to is not None:
            self.observed.append(Observed(MotionInput(*to, self.at), None, None))
        self.observed.append(Observed(ButtonInput(False, button, *end, self.at), None, None))


def test_a_demonstration_becomes_a_task_file_with_vars_and_a_secret(tmp_path: Path) -> None:
    boss = _Input()
    boss.typed("alicx", _sight(FIELD))
    boss.key("backspace", None)  # takes the x back
    boss.key("e", "e")  # goes on typing
    boss.key("tab", None, _sight())
    boss.typed("s3cret-Value", _sight(PASSWORD))
    boss.button(310, 370, _sight(element=SIGN_IN, own=True))  # Shain's own: left out
    boss.button(310, 370, _sight(element=SIGN_IN))
    boss.button(50, 60, _sight())
    boss.button(50, 60, None)  # at once, at the same point: a double click
    boss.button(10, 20, _sight(), to=(200, 20))
    for _ in range(3):
        boss.button(70, 80, None, button=5)
    boss.key("s", None, _sight(), held=("ctrl",))
    done = demonstrated_actions(boss.observed)
    apps = {1: AppWindow("Login", 4242, "login-app --fast")}
    output = tmp_path / "login.yaml"
    after = _sight(windows=("Login", "Save"))  # a dialog came up at the end
    recorded = write_demonstration(done, apps, ("Login",), after, output, ["heading"])
    text = output.read_text()
    assert "s3cret" not in text
    document = yaml.safe_load(text)
    assert recorded.secrets == ("PASSWORD",) and document["secrets"] == ["PASSWORD"]
    assert document["vars"] == {"user_name": "alice"}
    assert document["setup"] == [
        {"launch": "login-app --fast"},
        {"wait_for": {"window": "^Login$", "timeout": 20}},
    ]
    steps = document["steps"]
    assert steps[:3] == [{"type": "{user_name}"}, {"key": "tab"}, {"type": "{PASSWORD}"}]
    assert steps[3] == {
        "click": {"role": "button", "name": "Sign in", "within": {"window": "^Login$"}}
    }
    assert steps[4] == {"double_click": {"x": 50, "y": 60}}  # no window there: a screen point
    assert steps[5] == {"drag": {"path": [[10, 20], [200, 20]]}}
    assert steps[6] == {"scroll": {"x": 70, "y": 80, "down": 3}}
    assert steps[7:] == [{"key": "ctrl+s"}, {"wait_for": {"window": "^Save$"}}]


def test_backspace_takes_back_what_was_typed_and_an_emptied_typing_is_dropped() -> None:
    boss = _Input()
    boss.typed("ab", _sight(FIELD))
    boss.key("backspace", None)
    boss.key("backspace", None)
    boss.key("enter", None, _sight())
    done = demonstrated_actions(boss.observed)
    assert [type(d.action).__name__ for d in done] == ["KeyPress"]
