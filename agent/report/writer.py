"""A run as one self-contained HTML page: `shain report RUN` writes `<run folder>/report.html`.

Everything the page shows is read back from the run folder (events.jsonl, summary.json,
frames/). Screenshots are re-encoded smaller and embedded as data: URIs, so the file can be
mailed or archived alone and opening it makes no network request. What is drawn over each
screenshot comes from agent/report/overlays.py, so the report and the log viewer agree. The log is
already masked; all text from it is escaped (agent/report/page.py), never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from agent.files import write_private_file
from agent.record.log import read_run
from agent.record.steps import StepInfo
from agent.report.page import render_page
from agent.report.view import Picture, run_view

# Embedded screenshots: the long side at most this, at this JPEG quality (a busy 1080p desktop
# comes out near 70 KB). A frame that is still over its share of the byte budget is encoded
# again smaller, so even a long run's report stays a file a browser opens quickly.
FRAME_LONG_SIDE = 1280
FRAME_QUALITY = 65
SMALLER = ((960, 60), (800, 50), (640, 45))
FRAME_BYTES_TOTAL = 15_000_000  # raw JPEG bytes for all frames; base64 makes it 20 MB
FRAME_BYTES_MAX = 150_000
FRAME_BYTES_MIN = 20_000


# ---- frames


def _frame_path(folder: Path, name: str) -> Path | None:
    """The frame file a log entry names, if it lies inside the run folder."""
    root = folder.resolve()
    path = (folder / name).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def _encode(image: Image.Image, long_side: int, quality: int) -> bytes:
    scale = min(1.0, long_side / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    shrunk = image if size == image.size else image.resize(size, Image.Resampling.BOX)
    output = io.BytesIO()
    shrunk.save(output, "JPEG", quality=quality, optimize=True, progressive=True)
    return output.getvalue()


def embed_frame(path: Path, budget: int) -> Picture | None:
    """A frame as a data: URI, re-encoded to fit `budget` bytes where it can."""
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    data = _encode(image, FRAME_LONG_SIDE, FRAME_QUALITY)
    for long_side, quality in SMALLER:
        if len(data) <= budget:
            break
        data = _encode(image, long_side, quality)
    with Image.open(io.BytesIO(data)) as encoded:
        width, height = encoded.size
    uri = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return Picture(uri, width, height)


def embed_frames(folder: Path, steps: list[StepInfo]) -> dict[int, Picture]:
    """Step number -> its embedded frame; identical frames are encoded once."""
    paths = {
        step.number: path
        for step in steps
        if step.frame and (path := _frame_path(folder, step.frame)) is not None
    }
    if not paths:
        return {}
    budget = min(FRAME_BYTES_MAX, max(FRAME_BYTES_MIN, FRAME_BYTES_TOTAL // len(paths)))
    by_content: dict[str, Path] = {}
    digest_of: dict[int, str] = {}
    for number, path in paths.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        digest_of[number] = digest
        by_content.setdefault(digest, path)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        encoded = dict(
            zip(
                by_content,
                pool.map(lambda path: embed_frame(path, budget), by_content.values()),
                strict=True,
            )
        )
    return {
        number: picture
        for number, digest in digest_of.items()
        if (picture := encoded[digest]) is not None
    }


# ---- the page


def render_report(folder: Path) -> str:
    """The report of the run in `folder` as one self-contained HTML page."""
    view = run_view(read_run(folder))
    return render_page(view, embed_frames(folder, view.steps))


def write_report(folder: Path, output: Path | None = None) -> Path:
    """Write the report (default `<folder>/report.html`) atomically, readable by the owner only."""
    target = output if output is not None else folder / "report.html"
    return write_private_file(target, render_report(folder))
