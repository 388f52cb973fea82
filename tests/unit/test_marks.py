"""Set-of-marks: which elements get a number, where the boxes are drawn, how a mark is read."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from agent.actions import Click, Move
from agent.desktop.protocol import Frame
from agent.errors import ModelOutputError
from agent.geometry import Box, Point, Size
from agent.perception.atspi import Element
from agent.perception.marks import MARK_COLOUR, draw_marks, marks_of, marks_prompt
from agent.policy.computer_actions import from_computer_action
from agent.policy.model_image import prepare_image


def element(role: str, name: str, box: Box, actions: tuple[str, ...] = ("click",)) -> Element:
    return Element("app", role, name, box, frozenset(), actions, window_name="Editor")


ELEMENTS = [
    element("push button", "OK", Box(400, 500, 80, 30)),
    element("frame", "Editor", Box(0, 0, 1920, 1080), actions=()),
    element("label", "Name:", Box(10, 100, 50, 20), actions=()),
    element("text", "", Box(70, 100, 300, 20), actions=()),
    element("menu", "File", Box(0, 20, 40, 20)),
]


def test_actionable_elements_are_numbered_in_reading_order() -> None:
    marks = marks_of(ELEMENTS)
    assert [(m.number, m.role, m.label) for m in marks] == [
        (1, "menu", "File"),
        (2, "text", ""),
        (3, "push button", "OK"),
    ]
    assert marks_prompt(marks).splitlines()[1:] == [
        "[1] menu 'File' in 'Editor'",
        "[2] text '' in 'Editor'",
        "[3] push button 'OK' in 'Editor'",
    ]


def test_boxes_are_drawn_where_the_elements_are_in_the_smaller_image() -> None:
    screen = Size(1920, 1080)
    image = Image.new("RGB", (1280, 720), (255, 255, 255))
    marked = draw_marks(image, marks_of(ELEMENTS[:1]), screen)
    # OK's box (400, 500)-(479, 529) on the screen is (266, 333)-(319, 352) at 2/3 the size.
    assert marked.getpixel((300, 333)) == MARK_COLOUR  # the top edge
    assert marked.getpixel((319, 345)) == MARK_COLOUR  # the right edge
    assert marked.getpixel((300, 345)) == (255, 255, 255)  # inside: left alone
    assert image.getpixel((300, 333)) == (255, 255, 255)  # the original is not changed


def test_the_model_image_carries_the_marks() -> None:
    pixels = np.full((1080, 1920, 4), 255, dtype=np.uint8)
    plain = prepare_image(Frame(pixels, 0.0), Size(1280, 720), "png")
    marked = prepare_image(Frame(pixels, 0.0), Size(1280, 720), "png", marks=marks_of(ELEMENTS))
    assert plain.data != marked.data and marked.size == Size(1280, 720)


def test_a_mark_becomes_a_click_on_the_element_centre() -> None:
    image = prepare_image(Frame(np.zeros((1080, 1920, 4), np.uint8), 0.0), Size(1280, 720))
    marks = {3: Point(440, 515)}
    assert from_computer_action({"type": "click", "mark": 3}, image, marks) == Click(440, 515)
    double = from_computer_action({"type": "double_click", "mark": 3}, image, marks)
    assert double == Click(440, 515, count=2)
    assert from_computer_action({"type": "move", "mark": 3}, image, marks) == Move(440, 515)
    with pytest.raises(ModelOutputError, match="click on mark 7: no such mark"):
        from_computer_action({"type": "click", "mark": 7}, image, marks)
    with pytest.raises(ModelOutputError, match="needs 'mark' to be a mark's number"):
        from_computer_action({"type": "click", "mark": "OK"}, image, marks)
    # Without set-of-marks a mark means nothing: points are required.
    with pytest.raises(ModelOutputError, match="needs a number 'x'"):
        from_computer_action({"type": "click", "mark": 3}, image)
