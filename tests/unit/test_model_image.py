"""The model image: its size (smart_resize, long side) and the one model <-> screen mapping."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from PIL import Image

from agent.actions import Click, Done, Drag, KeyPress, Move, Scroll, TypeText
from agent.desktop.protocol import Frame
from agent.geometry import Point, Size
from agent.policy.model_image import ModelImage, long_side_size, prepare_image, smart_resize

SCREEN = Size(1920, 1080)
QWEN_MAX_PIXELS = 1280 * 28 * 28
MIN_PIXELS = 56 * 56


def _frame(size: Size = SCREEN) -> Frame:
    pixels = np.zeros((size.height, size.width, 4), np.uint8)
    pixels[:, : size.width // 2, 1] = 200  # left half green, so the image is not uniform
    pixels[: size.height // 3, :, 2] = 120
    return Frame(pixels, time.monotonic())


def _image(model: Size, screen: Size = SCREEN) -> ModelImage:
    return ModelImage(b"", "image/jpeg", model, screen)


# ---- smart_resize


def test_a_full_hd_screen_at_the_profile_default_is_1316x728() -> None:
    assert smart_resize(SCREEN, max_pixels=QWEN_MAX_PIXELS) == Size(1316, 728)


def test_a_full_hd_screen_at_the_processor_default_is_1932x1092() -> None:
    size = smart_resize(SCREEN)
    assert size == Size(1932, 1092)
    assert size.width % 28 == 0 and size.height % 28 == 0


@pytest.mark.parametrize(
    "screen",
    [Size(1920, 1080), Size(1280, 800), Size(3840, 2160), Size(1366, 768), Size(800, 600)],
)
def test_every_size_has_sides_of_whole_patches_within_the_pixel_budget(screen: Size) -> None:
    size = smart_resize(screen, max_pixels=QWEN_MAX_PIXELS)
    assert size.width % 28 == 0 and size.height % 28 == 0
    assert MIN_PIXELS <= size.width * size.height <= QWEN_MAX_PIXELS
    # The aspect ratio survives within a patch's rounding.
    assert size.width / size.height == pytest.approx(screen.width / screen.height, rel=0.05)


def test_a_tiny_screen_is_scaled_up_to_the_minimum() -> None:
    size = smart_resize(Size(10, 10))
    assert size.width * size.height >= MIN_PIXELS
    assert size.width % 28 == 0 and size.height % 28 == 0
    assert size == Size(56, 56)


def test_a_huge_screen_is_scaled_down_to_the_maximum() -> None:
    for screen in (Size(20000, 10000), Size(7680, 4320)):
        size = smart_resize(screen)
        assert size.width * size.height <= 12_845_056
        assert size.width % 28 == 0 and size.height % 28 == 0
        assert size.width / size.height == pytest.approx(screen.width / screen.height, rel=0.05)


@pytest.mark.parametrize("screen", [Size(201, 1), Size(1, 300), Size(30000, 100)])
def test_an_extreme_aspect_ratio_is_refused(screen: Size) -> None:
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(screen)


# ---- long_side_size


def test_the_long_side_is_scaled_to_the_profile_value() -> None:
    assert long_side_size(Size(1920, 1080), 1280) == Size(1280, 720)
    assert long_side_size(Size(1080, 1920), 1280) == Size(720, 1280)


def test_a_screen_smaller_than_the_long_side_is_not_enlarged() -> None:
    assert long_side_size(Size(800, 600), 1280) == Size(800, 600)


# ---- the mapping


def _grid(size: Size, step: int) -> list[Point]:
    xs = [*range(0, size.width, step), size.width - 1]
    ys = [*range(0, size.height, step), size.height - 1]
    return [Point(x, y) for x in xs for y in ys]


@pytest.mark.parametrize("model", [Size(1280, 720), Size(1316, 728)])
def test_every_model_pixel_maps_onto_the_screen_and_back_to_itself(model: Size) -> None:
    image = _image(model)
    points = _grid(model, 7)
    corners = [Point(0, 0), Point(model.width - 1, 0), Point(0, model.height - 1)]
    corners.append(Point(model.width - 1, model.height - 1))
    for point in [*points, *corners]:
        on_screen = image.to_screen(point)
        assert SCREEN.contains(on_screen), (point, on_screen)
        assert image.to_model(on_screen) == point, (point, on_screen)


@pytest.mark.parametrize("model", [Size(1280, 720), Size(1316, 728)])
def test_the_corners_map_to_the_screen_corners(model: Size) -> None:
    image = _image(model)
    assert image.to_screen(Point(0, 0)) == Point(0, 0)
    assert image.to_screen(Point(model.width - 1, model.height - 1)) == Point(1919, 1079)
    assert image.to_model(Point(1919, 1079)) == Point(model.width - 1, model.height - 1)


def test_the_centre_maps_to_the_centre() -> None:
    assert _image(Size(1280, 720)).to_screen(Point(640, 360)) == Point(960, 540)
    assert _image(Size(1316, 728)).to_screen(Point(658, 364)) == Point(960, 540)


def test_every_screen_pixel_maps_into_the_model_image() -> None:
    image = _image(Size(1316, 728))
    for point in _grid(SCREEN, 13):
        assert image.size.contains(image.to_model(point)), point


def test_actions_with_points_are_mapped_and_others_left_alone() -> None:
    image = _image(Size(1280, 720))
    assert image.action_to_screen(Click(640, 360, button="right", count=2)) == Click(
        960, 540, button="right", count=2
    )
    assert image.action_to_screen(Move(0, 0)) == Move(0, 0)
    drag = Drag((Point(0, 0), Point(640, 360), Point(1279, 719)))
    assert image.action_to_screen(drag) == Drag((Point(0, 0), Point(960, 540), Point(1919, 1079)))
    scroll = Scroll(640, 360, scroll_x=-1, scroll_y=3)
    assert image.action_to_screen(scroll) == Scroll(960, 540, scroll_x=-1, scroll_y=3)
    for unchanged in (TypeText("640, 360"), KeyPress(("ctrl", "s")), Done("ok")):
        assert image.action_to_screen(unchanged) == unchanged


# ---- prepare_image


def _decoded(image: ModelImage) -> Image.Image:
    decoded = Image.open(io.BytesIO(image.data))
    decoded.load()
    return decoded


def test_a_jpeg_model_image_has_the_asked_size() -> None:
    image = prepare_image(_frame(), Size(1280, 720))
    decoded = _decoded(image)
    assert decoded.format == "JPEG"
    assert decoded.size == (1280, 720)
    assert image.size == Size(1280, 720)
    assert image.screen == SCREEN
    assert image.media_type == "image/jpeg"
    assert image.data_url().startswith("data:image/jpeg;base64,")


def test_a_png_model_image_has_the_asked_size_and_media_type() -> None:
    image = prepare_image(_frame(), Size(1316, 728), "png")
    decoded = _decoded(image)
    assert decoded.format == "PNG"
    assert decoded.size == (1316, 728)
    assert image.media_type == "image/png"
    prefix = "data:image/png;base64,"
    url = image.data_url()
    assert url.startswith(prefix)
    assert base64.b64decode(url[len(prefix) :]) == image.data


def test_the_model_image_shows_the_frame() -> None:
    image = prepare_image(_frame(), Size(1280, 720), "png")
    decoded = _decoded(image).convert("RGB")
    # BGRA frame: channel 1 is green, channel 2 red. Left half green, top third red.
    assert decoded.getpixel((100, 600)) == (0, 200, 0)
    assert decoded.getpixel((1200, 100)) == (120, 0, 0)
    assert decoded.getpixel((1200, 600)) == (0, 0, 0)


def test_jpeg_quality_changes_the_bytes_not_the_size() -> None:
    frame = _frame()
    low = prepare_image(frame, Size(640, 360), quality=20)
    high = prepare_image(frame, Size(640, 360), quality=95)
    assert low.data != high.data
    assert _decoded(low).size == _decoded(high).size == (640, 360)
