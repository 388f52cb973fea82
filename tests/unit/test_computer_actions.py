"""OpenAI's computer-use actions -> Shain actions on the screen, through the model image."""

from __future__ import annotations

import numpy as np
import pytest

from agent.actions import Click, Drag, Move, Scroll
from agent.desktop.protocol import Frame
from agent.errors import ModelOutputError
from agent.geometry import Point, Size
from agent.policy.computer_actions import from_computer_action
from agent.policy.model_image import prepare_image

IMAGE = prepare_image(Frame(np.zeros((1080, 1920, 4), np.uint8), 0.0), Size(1280, 720))


@pytest.mark.parametrize(
    "path",
    [
        [{"x": 0, "y": 0}, {"x": 640, "y": 360}],
        [[0, 0], [640, 360]],  # some models write points as pairs
    ],
)
def test_a_drag_path_maps_to_the_screen(path: list[object]) -> None:
    action = from_computer_action({"type": "drag", "path": path}, IMAGE)
    assert action == Drag((Point(0, 0), Point(960, 540)))


@pytest.mark.parametrize("point", ["10,20", 5, [1, 2, 3], None])
def test_a_point_that_is_not_a_point_is_a_clear_error(point: object) -> None:
    with pytest.raises(ModelOutputError, match="drag needs points as"):
        from_computer_action({"type": "drag", "path": [point, {"x": 1, "y": 1}]}, IMAGE)


def test_keys_held_through_pointer_actions_and_the_side_buttons() -> None:
    click = from_computer_action(
        {"type": "click", "x": 640, "y": 360, "button": "left", "keys": ["SHIFT"]}, IMAGE
    )
    assert click == Click(960, 540, hold=("shift",))
    move = from_computer_action({"type": "move", "x": 0, "y": 0, "keys": ["CTRL"]}, IMAGE)
    assert move == Move(0, 0, hold=("ctrl",))
    scroll = {"type": "scroll", "x": 0, "y": 0, "scroll_y": 100, "keys": ["ctrl"]}
    assert from_computer_action(scroll, IMAGE) == Scroll(0, 0, scroll_y=1, hold=("ctrl",))
    for button in ("back", "forward"):
        side = from_computer_action({"type": "click", "x": 0, "y": 0, "button": button}, IMAGE)
        assert side == Click(0, 0, button=button)
    with pytest.raises(ModelOutputError, match="'keys' to be a list of key names"):
        from_computer_action({"type": "click", "x": 0, "y": 0, "keys": "shift"}, IMAGE)
