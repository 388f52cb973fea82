"""Key names: every spelling maps to one canonical name, and the executor gets its own name."""

from __future__ import annotations

import pytest

from agent.errors import ActionError
from agent.keys import (
    MODIFIERS,
    canonical_key,
    executor_key_name,
    parse_key_combination,
)

SPELLINGS = {
    "ctrl": ["ctrl", "control", "Control_L", "Control_R", "CTRL", "Ctrl", "ctl", "lctrl"],
    "shift": ["shift", "Shift_L", "SHIFT", "rshift"],
    "alt": ["alt", "Alt_L", "option", "AltGr"],
    "super": ["cmd", "super", "win", "meta", "Super_L", "Command", "windows", "Meta_R"],
    "enter": ["enter", "return", "Return", "ENTER", "KP_Enter"],
    "escape": ["esc", "escape", "Escape", "ESC"],
    "pageup": ["pgup", "page_up", "Prior", "PageUp", "Page_Up", "page-up", "page up"],
    "pagedown": ["pgdn", "page_down", "Next", "PageDown"],
    "up": ["up", "Up", "ArrowUp", "arrow_up", "UpArrow"],
    "down": ["down", "ArrowDown"],
    "left": ["left", "ArrowLeft", "Left"],
    "right": ["right", "ArrowRight"],
    "backspace": ["backspace", "BackSpace", "Back_Space"],
    "delete": ["delete", "Delete", "del"],
    "space": ["space", "Space", "spacebar"],
    "tab": ["tab", "Tab"],
    "printscreen": ["Print", "PrtSc", "print_screen"],
    "menu": ["menu", "Menu", "apps"],
}


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [(spelling, canonical) for canonical, names in SPELLINGS.items() for spelling in names],
)
def test_spellings_map_to_the_canonical_name(spelling: str, canonical: str) -> None:
    assert canonical_key(spelling) == canonical


def test_surrounding_whitespace_is_ignored() -> None:
    assert canonical_key("  Return ") == "enter"


@pytest.mark.parametrize("number", range(1, 25))
def test_function_keys_f1_to_f24(number: int) -> None:
    assert canonical_key(f"F{number}") == f"f{number}"
    assert canonical_key(f"f{number}") == f"f{number}"


@pytest.mark.parametrize("name", ["f0", "F25", "f100"])
def test_function_keys_beyond_f24_are_unknown(name: str) -> None:
    with pytest.raises(ActionError, match="f1-f24"):
        canonical_key(name)


@pytest.mark.parametrize(
    ("character", "canonical"),
    [
        ("a", "a"),
        ("A", "a"),
        ("Z", "z"),
        ("1", "1"),
        ("+", "+"),
        ("-", "-"),
        ("/", "/"),
        (" ", " "),
        ("é", "é"),
        ("_", "_"),
    ],
)
def test_single_characters_are_keys(character: str, canonical: str) -> None:
    assert canonical_key(character) == canonical


def test_unknown_name_error_names_it_and_lists_choices() -> None:
    with pytest.raises(ActionError) as caught:
        canonical_key("hyper")
    message = str(caught.value)
    assert message.startswith("unknown key name 'hyper': use a single character, f1-f24")
    for name in ("ctrl", "shift", "alt", "super", "enter", "escape", "pageup", "up", "tab"):
        assert name in message
    # The list is of canonical names, not every spelling, and no single function key.
    assert "f5" not in message.split("f1-f24")[1]
    assert "control_l" not in message


@pytest.mark.parametrize("name", ["", "   ", "\t", "ctrl shift", "enterr"])
def test_other_unknown_names(name: str) -> None:
    with pytest.raises(ActionError, match="unknown key name"):
        canonical_key(name)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("ctrl+s", ("ctrl", "s")),
        ("Control_L+S", ("ctrl", "s")),
        ("ctrl+shift+s", ("ctrl", "shift", "s")),
        ("shift+ctrl+s", ("shift", "ctrl", "s")),  # as written
        (" ctrl + s ", ("ctrl", "s")),
        ("ctrl++", ("ctrl", "+")),
        ("ctrl+shift++", ("ctrl", "shift", "+")),
        ("+", ("+",)),
        ("ctrl+-", ("ctrl", "-")),
        ("Return", ("enter",)),
        ("super+Page_Up", ("super", "pageup")),
        ("alt+F4", ("alt", "f4")),
    ],
)
def test_parse_key_combination(text: str, keys: tuple[str, ...]) -> None:
    assert parse_key_combination(text) == keys


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_combination(text: str) -> None:
    with pytest.raises(ActionError, match=r"^empty key combination$"):
        parse_key_combination(text)


@pytest.mark.parametrize("text", ["ctrl+", "+s", "ctrl++s", "ctrl+ +s", "++", "ctrl+shift+ "])
def test_malformed_combination(text: str) -> None:
    with pytest.raises(ActionError) as caught:
        parse_key_combination(text)
    message = str(caught.value)
    assert message.startswith("malformed key combination ") or message == "empty key combination"
    if text.strip():
        assert repr(text) in message
        assert "expected keys joined by '+'" in message


def test_unknown_key_inside_a_combination() -> None:
    with pytest.raises(ActionError, match="unknown key name 'hyper'"):
        parse_key_combination("ctrl+hyper+s")


def test_modifiers_are_canonical_names() -> None:
    assert all(canonical_key(m) == m for m in MODIFIERS)


@pytest.mark.parametrize(
    ("canonical", "platform", "name"),
    [
        ("super", "linux", "win"),
        ("super", "win32", "win"),
        ("super", "darwin", "command"),
        ("alt", "darwin", "option"),
        ("alt", "linux", "alt"),
        ("ctrl", "darwin", "ctrl"),
        ("escape", "linux", "esc"),
        ("escape", "darwin", "esc"),
        ("menu", "linux", "apps"),
        ("enter", "linux", "enter"),
        ("pageup", "linux", "pageup"),
        ("f12", "linux", "f12"),
        ("a", "linux", "a"),
        ("+", "linux", "+"),
    ],
)
def test_executor_key_name(canonical: str, platform: str, name: str) -> None:
    assert executor_key_name(canonical, platform) == name


def test_every_canonical_name_has_an_executor_name() -> None:
    names = ["ctrl", "shift", "alt", "super", "enter", "escape", "tab", "space", "backspace"]
    names += ["delete", "home", "end", "pageup", "pagedown", "up", "down", "left", "right"]
    for name in names:
        for platform in ("linux", "darwin", "win32"):
            assert executor_key_name(canonical_key(name), platform)
