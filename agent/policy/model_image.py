"""The screenshot a model sees, and the one mapping between its pixels and the screen's.

Model-space coordinates never leave a policy: a policy sends a `ModelImage`, reads points in
its `point_space` (the image's pixels, or a relative grid laid over it: Qwen3-VL, GLM-V and
UI-TARS 1.0 answer in thousandths), and maps them back with `to_screen` before an action
leaves it.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from agent.actions import Action, with_points
from agent.desktop.protocol import Frame
from agent.geometry import Point, Size, scale_point
from agent.perception.encoding import (
    downscaled,
    encode_jpeg,
    encode_png,
    fit_within,
    frame_to_image,
    image_to_frame,
)
from agent.perception.marks import Mark, draw_marks

ImageFormat = Literal["jpeg", "png"]

# Thousandths of the image, 0 to 1000 with both ends allowed: models trained on a 0-1000 grid
# write 1000 at the right edge, others stop at 999 (QwenLM/Qwen3-VL#1741); as 1001 cells the
# two readings differ by under a screen pixel, and both ends stay on the screen.
THOUSANDTHS = Size(1001, 1001)


@dataclass(frozen=True, slots=True)
class ModelImage:
    data: bytes
    media_type: str  # image/jpeg or image/png
    size: Size  # the image the model sees
    screen: Size  # the screen it shows
    grid: Size | None = None  # the relative grid the model's points are on; None: pixels

    @property
    def point_space(self) -> Size:
        """What the model's points count in: the image's pixels, or its relative grid."""
        return self.grid or self.size

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def to_screen(self, point: Point) -> Point:
        return scale_point(point, self.point_space, self.screen)

    def to_model(self, point: Point) -> Point:
        return scale_point(point, self.screen, self.point_space)

    def action_to_screen(self, action: Action) -> Action:
        return with_points(action, self.to_screen)


def prepare_image(
    frame: Frame,
    size: Size,
    image_format: ImageFormat = "jpeg",
    quality: int = 80,
    marks: Sequence[Mark] = (),
    grid: Size | None = None,
) -> ModelImage:
    """The frame shrunk to `size` (`downscaled`), with set-of-marks boxes if any, encoded for
    a model; `grid` is the relative grid its points are on, when the model does not answer in
    pixels."""
    screen = Size(frame.width, frame.height)
    image = downscaled(frame, size)
    if marks:
        image = image_to_frame(draw_marks(frame_to_image(image), marks, screen))
    if image_format == "png":
        return ModelImage(encode_png(image), "image/png", size, screen, grid)
    return ModelImage(encode_jpeg(image, quality), "image/jpeg", size, screen, grid)


def long_side_size(screen: Size, long_side: int) -> Size:
    """The model image size for a profile's long side (default 1280): 1920x1080 -> 1280x720."""
    return fit_within(screen, long_side)


def smart_resize(
    screen: Size,
    factor: int = 28,
    min_pixels: int = 56 * 56,
    max_pixels: int = 12_845_056,
) -> Size:
    """The image size Qwen2.5-VL's processor would turn a screenshot into (Qwen3-VL's with
    `factor` 32: 16 px patches merged 2x2).

    Each side rounded to a multiple of `factor` (28: 14 px patches merged 2x2), the area kept
    within [min_pixels, max_pixels]. Sending images already at this size means the model's
    coordinates are pixels of exactly the image we sent, so the mapping back is exact.
    """
    height, width = screen.height, screen.width
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio of {screen} is too extreme for Qwen2.5-VL")
    new_height = max(factor, round(height / factor) * factor)
    new_width = max(factor, round(width / factor) * factor)
    if new_height * new_width > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        new_height = max(factor, math.floor(height / beta / factor) * factor)
        new_width = max(factor, math.floor(width / beta / factor) * factor)
    elif new_height * new_width < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        new_height = math.ceil(height * beta / factor) * factor
        new_width = math.ceil(width * beta / factor) * factor
    return Size(new_width, new_height)
