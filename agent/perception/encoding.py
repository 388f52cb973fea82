"""Frame -> image bytes. PIL reads the BGRA capture in place ("BGRX" raw mode), no copy."""

from __future__ import annotations

import io

from PIL import Image

from agent.desktop.protocol import Frame
from agent.geometry import Size


def frame_to_image(frame: Frame) -> Image.Image:
    return Image.frombuffer(
        "RGB", (frame.width, frame.height), frame.pixels, "raw", "BGRX", 0, 1
    )


def fit_within(size: Size, long_side: int) -> Size:
    """The largest size with the same aspect ratio whose long side is at most `long_side`."""
    scale = min(1.0, long_side / max(size.width, size.height))
    return Size(max(1, round(size.width * scale)), max(1, round(size.height * scale)))


def resized(image: Image.Image, size: Size) -> Image.Image:
    if image.size == (size.width, size.height):
        return image
    # BOX averages the covered pixels: right for shrinking, and 3x faster than LANCZOS.
    return image.resize((size.width, size.height), Image.Resampling.BOX)


def encode_jpeg(image: Image.Image, quality: int = 80) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
