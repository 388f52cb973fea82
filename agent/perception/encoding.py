"""Frame -> image bytes: the model's image in a few milliseconds.

A frame is mss's BGRA buffer, and it stays BGRA to the end: OpenCV shrinks it (SIMD, no copy
in) and its libjpeg-turbo encodes it, reading BGRA as it is (the bytes are the same as
Pillow's JPEG of the same pixels at the same quality, checked in tests/unit/test_encoding.py).
No RGB copy of any size is made on the way to the model; PIL images exist only where
something draws on one (`frame_to_image`, `image_to_frame`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PIL import Image

from agent.desktop.protocol import Frame
from agent.geometry import Size


def _cv2() -> Any:
    import cv2  # not at import time: it takes 0.1 s, and most commands never encode a frame

    return cv2


def frame_to_image(frame: Frame) -> Image.Image:
    return Image.frombuffer("RGB", (frame.width, frame.height), frame.pixels, "raw", "BGRX", 0, 1)


def image_to_frame(image: Image.Image, captured_at: float | None = None) -> Frame:
    """A PIL image as a frame (BGRA, opaque)."""
    cv2 = _cv2()
    pixels = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGRA)
    return Frame(pixels, time.monotonic() if captured_at is None else captured_at)


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
    cv2 = _cv2()
    smallest_ratio = min(source.width / size.width, source.height / size.height)
    return int(cv2.INTER_AREA if smallest_ratio >= 2 else cv2.INTER_LINEAR)


def downscaled(frame: Frame, size: Size) -> Frame:
    """The frame at `size`, still BGRA (the frame itself when it is that size already)."""
    if (frame.width, frame.height) == (size.width, size.height):
        return frame
    method = downscale_method(Size(frame.width, frame.height), size)
    small = _cv2().resize(frame.pixels, (size.width, size.height), interpolation=method)
    return Frame(small, frame.captured_at)


def _encoded(extension: str, pixels: np.ndarray, parameters: list[int]) -> bytes:
    done, data = _cv2().imencode(extension, np.ascontiguousarray(pixels), parameters)
    if not done:
        raise ValueError(f"OpenCV could not encode a {pixels.shape[1]}x{pixels.shape[0]} image")
    return bytes(data)


def encode_jpeg(frame: Frame, quality: int = 80) -> bytes:
    """The frame as a JPEG (4:2:0, as Pillow's default), its alpha byte ignored."""
    return _encoded(".jpg", frame.pixels, [_cv2().IMWRITE_JPEG_QUALITY, quality])


def encode_png(frame: Frame) -> bytes:
    """The frame as an RGB PNG (X leaves the alpha byte undefined: it is not written)."""
    cv2 = _cv2()
    pixels = cv2.cvtColor(np.ascontiguousarray(frame.pixels), cv2.COLOR_BGRA2BGR)
    return _encoded(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1])
