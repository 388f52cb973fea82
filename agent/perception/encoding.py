"""Frame -> image bytes, the model's image in a few milliseconds.

A frame is mss's BGRA buffer. It is shrunk to the model's size while still BGRA (OpenCV, SIMD,
no copy in), and only the small image is turned into RGB (PIL reads BGRA in place with its
"BGRX" raw mode), so the full-size frame is never converted.
"""

from __future__ import annotations

import io

from PIL import Image

from agent.desktop.protocol import Frame
from agent.geometry import Size


def frame_to_image(frame: Frame) -> Image.Image:
    return Image.frombuffer("RGB", (frame.width, frame.height), frame.pixels, "raw", "BGRX", 0, 1)


def fit_within(size: Size, long_side: int) -> Size:
    """The largest size with the same aspect ratio whose long side is at most `long_side`."""
    scale = min(1.0, long_side / max(size.width, size.height))
    return Size(max(1, round(size.width * scale)), max(1, round(size.height * scale)))


def downscale_method(source: Size, size: Size) -> int:
    """OpenCV's interpolation for shrinking `source` to `size`.

    Shrinking by 2 or more: INTER_AREA, the average of the covered pixels (an exact box filter,
    and SIMD-fast at whole ratios: 0.4 ms for 1920x1080 -> 960x540). Between 1 and 2 (1080p to
    720p is 1.5): INTER_LINEAR, which there reads every source pixel too (its 2-pixel tent
    at a spacing under 2), so a 1 px line is never dropped; OpenCV's area filter at such
    ratios takes its general path, 4-6x slower (8 ms vs 1.5 ms at 1080p -> 720p, measured).
    What the model needs is kept: tests/desktop/test_model_policies.py lands on a 24 px
    target within 3 px through every policy, and tests/desktop/test_ocr.py reads the model-size
    frames of the grounding scenes as well as the BOX filter did.
    """
    import cv2  # not at import time: it takes 0.1 s, and most commands never shrink a frame

    smallest_ratio = min(source.width / size.width, source.height / size.height)
    return cv2.INTER_AREA if smallest_ratio >= 2 else cv2.INTER_LINEAR


def downscaled(frame: Frame, size: Size) -> Image.Image:
    """The frame at `size` (or as it is, when it is that size already), as an RGB image."""
    if (frame.width, frame.height) == (size.width, size.height):
        return frame_to_image(frame)
    import cv2

    method = downscale_method(Size(frame.width, frame.height), size)
    small = cv2.resize(frame.pixels, (size.width, size.height), interpolation=method)
    return Image.frombuffer("RGB", (size.width, size.height), small, "raw", "BGRX", 0, 1)


def encode_jpeg(image: Image.Image, quality: int = 80) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
