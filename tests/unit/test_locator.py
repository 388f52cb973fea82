"""The locator's matching rules, on element lists as the accessibility reader returns them."""

from __future__ import annotations

import pytest

from agent.geometry import Box
from agent.perception.atspi import Element
from agent.perception.locator import AmbiguousTarget, Locator, Target, TargetNotFound
from agent.stop import StopToken


def element(
    role: str,
    name: str,
    box: tuple[int, int, int, int],
    window: str = "Editor",
    text: str | None = None,
    actions: tuple[str, ...] = ("click",),
) -> Element:
    return Element(
        "app", role, name, Box(*box), frozenset({"showing", "visible"}), actions,
        window_name=window, text=text,
    )  # fmt: skip


SCREEN = [
    element("push button", "Save", (500, 400, 80, 30), window="Save As"),
    element("push button", "Save As…", (300, 10, 80, 30)),
    element("label", "Save", (510, 405, 40, 20), window="Save As", actions=()),
    element("menu item", "Save", (20, 40, 100, 20)),
    element("push button", "Cancel", (400, 400, 80, 30), window="Save As"),
    element("text", "", (0, 100, 600, 200), text="Dear boss,\nthe report is ready."),
    element("toggle button", "7", (10, 300, 40, 40), window="galculator"),
    element("toggle button", "8", (60, 300, 40, 40), window="galculator"),
]


def locate(target: Target, elements: list[Element] = SCREEN, timeout: float = 0.2) -> Element:
    found = Locator(lambda: elements).locate(target, timeout, StopToken())
    matches = [e for e in elements if e.box == found.box]
    return matches[0]


def test_a_whole_name_beats_a_longer_one_and_the_label_inside_a_button_is_the_button() -> None:
    with pytest.raises(AmbiguousTarget) as info:
        locate(Target(text="save"))
    message = str(info.value)
    # The menu item and the dialog's button; not "Save As…", not the button's own label.
    assert "matches 2 things" in message
    assert "1: menu item 'Save' at (70, 50) in 'Editor'" in message
    assert "2: push button 'Save' at (540, 415) in 'Save As'" in message


def test_within_a_window_and_nth_pick_one() -> None:
    assert locate(Target(text="Save", window="^Save As$")).role == "push button"
    assert locate(Target(text="Save", nth=1)).role == "menu item"
    assert locate(Target(text="Save", nth=2)).window_name == "Save As"
    with pytest.raises(TargetNotFound, match="nth 3, but only 2 match"):
        locate(Target(text="Save", nth=3))


def test_roles_have_friendly_names_and_names_match_whole() -> None:
    assert locate(Target(role="button", name="7")).box == Box(10, 300, 40, 40)
    assert locate(Target(role="menu item", name="SAVE")).role == "menu item"
    with pytest.raises(TargetNotFound):
        locate(Target(role="button", name="Sav"))


def test_text_finds_the_contents_of_a_text_widget() -> None:
    assert locate(Target(text="the report is ready")).role == "text"


def test_a_part_of_a_name_is_found_when_nothing_matches_whole() -> None:
    assert locate(Target(text="Save As")).name == "Save As…"


def test_nothing_found_waits_then_says_what_is_there() -> None:
    with pytest.raises(TargetNotFound) as info:
        locate(Target(text="Frobnicate"), timeout=0.3)
    message = str(info.value)
    assert "nothing on the screen matches {text: 'Frobnicate'} after 0.3s" in message
    assert "windows: 'Editor', 'Save As', 'galculator'" in message
    assert "push button 'Cancel'" in message


def test_a_target_that_appears_later_is_found() -> None:
    screens = [[], [], SCREEN]
    locator = Locator(lambda: screens.pop(0) if len(screens) > 1 else screens[0])
    found = locator.locate(Target(role="button", name="8"), 2.0, StopToken())
    assert found.box == Box(60, 300, 40, 40)


def test_reading_order_is_rows_then_columns() -> None:
    with pytest.raises(AmbiguousTarget) as info:
        locate(Target(role="button", window="galculator"))
    assert "1: toggle button '7'" in str(info.value) and "2: toggle button '8'" in str(info.value)
