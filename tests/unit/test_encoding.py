"""Frames to images: exact colours, aspect-true sizes, and a downscale that drops no line."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from agent.desktop.protocol import Frame
from agent.geometry import Size
from agent.perception.encoding import (
    downscaled,
    encode_jpeg,
    encode_png,
    fit_within,
    frame_to_image,
    image_to_frame,
)


def _bgra(pixels_rgb: np.ndarray) -> Frame:
    """A frame as mss gives it (BGRA) with these RGB pixels."""
    height, width, _ = pixels_rgb.shape
    pixels = np.full((height, width, 4), 255, dtype=np.uint8)
    pixels[..., :3] = pixels_rgb[..., ::-1]
    return Frame(pixels, 0.0)


@pytest.mark.parametrize(
    "size",
    [Size(1280, 720), Size(1288, 725), Size(1366, 768), Size(960, 540), Size(640, 360)],
    ids=str,
)
def test_downscaled_has_the_size_and_the_colours(size: Size) -> None:
    rgb = np.zeros((1080, 1920, 3), dtype=np.uint8)
    rgb[:, :960] = (200, 40, 10)  # the left half red, the right half blue
    rgb[:, 960:] = (0, 30, 220)
    image = frame_to_image(downscaled(_bgra(rgb), size))
    assert image.mode == "RGB"
    assert image.size == (size.width, size.height)
    assert image.getpixel((5, 5)) == (200, 40, 10)
    assert image.getpixel((size.width - 5, size.height - 5)) == (0, 30, 220)


@pytest.mark.parametrize("size", [Size(1280, 720), Size(1366, 768), Size(960, 540)], ids=str)
@pytest.mark.parametrize("column", [900, 901, 902, 903])
def test_a_one_pixel_line_survives_the_downscale_wherever_it_falls(size: Size, column: int) -> None:
    """A focus ring or a table rule is 1 px wide: the model must still see it, whichever
    source column it falls on (a filter that skips pixels would drop some of them)."""
    rgb = np.full((1080, 1920, 3), 255, dtype=np.uint8)
    rgb[:, column] = 0
    darkest = int(downscaled(_bgra(rgb), size).pixels[..., :3].min())
    assert darkest <= 200, f"the line at x={column} faded to {darkest} of 255"


def test_downscaled_to_the_same_size_is_the_frame() -> None:
    rgb = np.random.default_rng(1234).integers(0, 256, (72, 128, 3), dtype=np.uint8)
    frame = _bgra(rgb)
    assert downscaled(frame, Size(128, 72)) is frame


@pytest.mark.parametrize(
    ("size", "long_side", "expected"),
    [
        (Size(1920, 1080), 1280, Size(1280, 720)),
        (Size(1080, 1920), 1280, Size(720, 1280)),
        (Size(2560, 1440), 1920, Size(1920, 1080)),
        (Size(800, 600), 1280, Size(800, 600)),  # never enlarged
        (Size(1000, 1000), 500, Size(500, 500)),
        (Size(10000, 1), 100, Size(100, 1)),  # never zero
    ],
)
def test_fit_within(size: Size, long_side: int, expected: Size) -> None:
    assert fit_within(size, long_side) == expected


@pytest.mark.parametrize(
    "size", [Size(1920, 1080), Size(1366, 768), Size(3440, 1440), Size(768, 1366), Size(1, 4000)]
)
@pytest.mark.parametrize("long_side", [1288, 1024, 512])
def test_fit_within_keeps_the_aspect_ratio(size: Size, long_side: int) -> None:
    fitted = fit_within(size, long_side)
    assert max(fitted.width, fitted.height) <= long_side
    assert max(fitted.width, fitted.height) == min(long_side, max(size.width, size.height))
    assert fitted.width >= 1 and fitted.height >= 1
    # Rounding moves the short side by at most one pixel from the exact ratio.
    scale = max(fitted.width, fitted.height) / max(size.width, size.height)
    assert abs(fitted.width - size.width * scale) <= 1
    assert abs(fitted.height - size.height * scale) <= 1


def _bgra_frame(width: int = 32, height: int = 24) -> Frame:
    return Frame(np.zeros((height, width, 4), dtype=np.uint8), 0.0)


def test_frame_to_image_turns_bgra_into_rgb() -> None:
    frame = _bgra_frame()
    frame.pixels[5, 7] = (10, 20, 30, 255)  # B, G, R, A
    frame.pixels[23, 31] = (200, 0, 0, 0)  # pure blue, alpha ignored
    image = frame_to_image(frame)
    assert image.mode == "RGB"
    assert image.size == (32, 24)
    assert image.getpixel((7, 5)) == (30, 20, 10)
    assert image.getpixel((31, 23)) == (0, 0, 200)
    assert image.getpixel((0, 0)) == (0, 0, 0)


def test_encoded_png_decodes_to_the_same_pixels() -> None:
    frame = _bgra_frame()
    frame.pixels[..., :3] = np.random.default_rng(7).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    frame.pixels[..., 3] = 0  # X leaves the fourth byte undefined: never a transparent PNG
    data = encode_png(frame)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == "RGB"
    assert np.array_equal(np.asarray(decoded), frame.pixels[..., 2::-1])


def test_encoded_jpeg_is_a_jpeg_of_the_right_size() -> None:
    data = encode_jpeg(_bgra_frame(64, 48), quality=75)
    assert data[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(data)).size == (64, 48)


@pytest.mark.parametrize("quality", [60, 80, 95])
def test_the_jpeg_is_pillows_jpeg_of_the_same_pixels(quality: int) -> None:
    """What a model was sent before OpenCV encoded it (Pillow, from RGB) is what it gets now."""
    rgb = np.random.default_rng(quality).integers(0, 256, (90, 160, 3), dtype=np.uint8)
    rgb[20:60, 30:120] = (220, 30, 40)  # a flat area too, where the chroma shows
    frame = _bgra(rgb)
    frame.pixels[..., 3] = 0
    pillow = io.BytesIO()
    Image.fromarray(rgb).save(pillow, "JPEG", quality=quality)
    assert encode_jpeg(frame, quality) == pillow.getvalue()


def test_image_to_frame_is_the_inverse_of_frame_to_image() -> None:
    rgb = np.random.default_rng(5).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    frame = image_to_frame(Image.fromarray(rgb), captured_at=1.5)
    assert frame.captured_at == 1.5
    assert np.array_equal(frame.pixels[..., :3], rgb[..., ::-1])
    assert np.array_equal(np.asarray(frame_to_image(frame)), rgb)
