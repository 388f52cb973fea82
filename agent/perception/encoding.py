"""Frame -> image bytes. PIL reads the BGRA capture in place ("BGRX" raw mode), no copy."""

from __future__ import annotations

import functools
import io
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from agent.desktop.protocol import Frame
from agent.geometry import Size

# Below this many source pixels a thread hand-off costs more than it saves.
_SPLIT_ABOVE_PIXELS = 500_000


def frame_to_image(frame: Frame) -> Image.Image:
    return Image.frombuffer("RGB", (frame.width, frame.height), frame.pixels, "raw", "BGRX", 0, 1)


def fit_within(size: Size, long_side: int) -> Size:
    """The largest size with the same aspect ratio whose long side is at most `long_side`."""
    scale = min(1.0, long_side / max(size.width, size.height))
    return Size(max(1, round(size.width * scale)), max(1, round(size.height * scale)))


@functools.cache
def _resize_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="shain-resize")


def resized(image: Image.Image, size: Size) -> Image.Image:
    """Shrink with BOX (the average of the covered pixels: right for shrinking, and 3x
    faster than LANCZOS), the top and bottom halves on two threads.

    Pillow lets go of the GIL while resampling, and a BOX output pixel reads only the input
    area it covers, so two halves cut along a shared (fractional) source row give exactly
    the pixels of one whole resize in about half the time.
    """
    if image.size == (size.width, size.height):
        return image
    width, height = image.size
    split = size.height // 2
    if split == 0 or width * height < _SPLIT_ABOVE_PIXELS:
        return image.resize((size.width, size.height), Image.Resampling.BOX)
    source_row = split * height / size.height
    pool = _resize_pool()
    halves = (
        pool.submit(
            image.resize, (size.width, split), Image.Resampling.BOX, (0, 0, width, source_row)
        ),
        pool.submit(
            image.resize,
            (size.width, size.height - split),
            Image.Resampling.BOX,
            (0, source_row, width, height),
        ),
    )
    result = Image.new("RGB", (size.width, size.height))
    result.paste(halves[0].result(), (0, 0))
    result.paste(halves[1].result(), (0, split))
    return result


def encode_jpeg(image: Image.Image, quality: int = 80) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
