"""Text on the screen read with OCR, for what has no accessibility tree (terminals, canvases).

rapidocr (ONNX Runtime, the models bundled in its wheel) reads a frame or a region of it;
boxes come back in screen pixels. `find` narrows a line's box to the words asked for, so
the box can be clicked. Install with `pip install 'shain[ocr]'`.

What it costs on 2 cores (bench/ocr_speed.py): a 600x300 region about 0.5-1 s, a whole
1920x1080 screen 3-5 times that (recognition is per line, so more with more text), the same
pixels again about 1 ms (a cache). Read a region whenever you know where to look.
"""

from __future__ import annotations

import os
import threading
import unicodedata
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from math import ceil, floor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.desktop.protocol import Frame
from agent.errors import EnvironmentProblem
from agent.geometry import Box

INSTALL_HINT = "pip install 'shain[ocr]'"
# Small terminal fonts (xterm's 6x13 "fixed") read far better enlarged: of 132 lines in six
# xterms, read window by window, 85% came out exact at 1x, 98% at 1.5x (bicubic), 96% at 2x;
# 1.5x takes 1.2-1.5 times as long. Bigger UI fonts read the same either way.
DEFAULT_UPSCALE = 1.5
# The image OCR sees is kept below this many pixels on its long side: a 4K screen is read
# at about 1x rather than enlarged to 5760 px (detection time grows with the area).
LONGEST_SIDE = 4096
# Reads remembered, most recent first: a step that asks several questions of one frame
# (find "Save", then "Cancel") reads it once.
CACHE_SIZE = 16
# The detector misses text in a large image that is mostly empty: on a dark 1920x1080 desktop
# with one terminal it found none of the terminal's lines, read whole; read in bands 640 px
# high, all of them. So a tall image is read in bands, full width (a band never cuts a line
# in two), overlapping by more than a line is tall (each line lies whole in one of them).
# Pixels of the scaled image.
BAND_HEIGHT = 640
BAND_OVERLAP = 80
# More threads than this buys little for models this small and starves the rest of Shain.
MAX_THREADS = 4


@dataclass(frozen=True, slots=True)
class TextWord:
    """One word of a line as the recognizer split it (a CJK character is a word of its own)."""

    text: str
    box: Box
    start: int  # where the word begins in its line's text


@dataclass(frozen=True, slots=True)
class TextLine:
    """A line of text as read, its box in screen pixels and the recognizer's confidence."""

    text: str
    box: Box
    score: float
    words: tuple[TextWord, ...] = ()

    def box_of(self, start: int, end: int) -> Box:
        """The box around characters [start, end) of this line's text."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"characters {start}..{end} are not in {self.text!r}")
        left = self._edge(start, right=False)
        right = max(self._edge(end - 1, right=True), left + 1)
        return Box(left, self.box.top, right - left, self.box.height)

    def _edge(self, index: int, *, right: bool) -> int:
        """The left (or right) edge of one character: its share of the word holding it.

        Within a word characters take equal shares (exact for the monospaced fonts of
        terminals, close enough for others); a character in no word takes its share of
        the whole line.
        """
        span_left, span_width, offset, length = self.box.left, self.box.width, index, len(self.text)
        for word in self.words:
            if word.start <= index < word.start + len(word.text):
                span_left, span_width = word.box.left, word.box.width
                offset, length = index - word.start, len(word.text)
                break
        share = (offset + (1 if right else 0)) / length
        edge = span_left + span_width * share
        return ceil(edge) if right else floor(edge)


@dataclass(frozen=True, slots=True)
class TextMatch:
    """Where a piece of text was found: the characters as read and the box around them."""

    text: str  # the matching characters of the line, spelled as read
    box: Box
    line: TextLine

    @property
    def whole_line(self) -> bool:
        """Whether the match is the whole line ("Save" is not a part of "Save As…")."""
        return _normalised(self.text)[0] == _normalised(self.line.text)[0]


class OcrReader:
    """Reads text from frames. Creates the OCR engine when first used; thread safe.

    `upscale` enlarges what is read first (see DEFAULT_UPSCALE); `threads` is ONNX
    Runtime's thread count (default: the CPUs this process may use, at most MAX_THREADS).
    """

    def __init__(self, *, upscale: float = DEFAULT_UPSCALE, threads: int | None = None) -> None:
        if upscale <= 0:
            raise ValueError(f"upscale must be positive, not {upscale}")
        self.upscale = upscale
        self.threads = threads if threads is not None else min(_usable_cpus(), MAX_THREADS)
        self._engine: Any = None
        self._cv2: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[object, ...], tuple[TextLine, ...]] = OrderedDict()

    def read(self, frame: Frame, region: Box | None = None) -> list[TextLine]:
        """The lines of text in `frame` (or in `region` of it), in reading order.

        Boxes are in screen pixels either way. A region is clipped to the frame; one wholly
        outside it reads nothing.
        """
        area = _clip(region, frame)
        if area is None:
            return []
        pixels = frame.pixels[area.top : area.top + area.height, area.left : area.left + area.width]
        # The content, not the Frame object: a new capture of an unchanged screen is a hit
        # too. All of it is hashed (about 1 ms for 1920x1080): the settle fingerprint samples
        # every 8th pixel and would miss a typed character.
        key = (zlib.crc32(np.ascontiguousarray(pixels).data), area, self.upscale)
        with self._lock:
            lines = self._cache.get(key)
            if lines is None:
                lines = self._recognize(pixels, area)
                self._cache[key] = lines
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            return list(lines)

    def find(self, frame: Frame, text: str, region: Box | None = None) -> list[TextMatch]:
        """Every place `text` appears, in reading order: a case-insensitive substring of a
        line, with runs of whitespace counting as one space (and full-width forms as their
        ASCII: NFKC). Each match's box covers the matching characters only."""
        wanted, _ = _normalised(text)
        if not wanted:
            raise ValueError("find: the text to look for is empty")
        matches = []
        for line in self.read(frame, region):
            shown, origins = _normalised(line.text)
            at = shown.find(wanted)
            while at >= 0:
                start, end = origins[at], origins[at + len(wanted) - 1] + 1
                matches.append(TextMatch(line.text[start:end], line.box_of(start, end), line))
                at = shown.find(wanted, at + len(wanted))
        return matches

    def _recognize(self, pixels: npt.NDArray[np.uint8], area: Box) -> tuple[TextLine, ...]:
        engine, cv2 = self._ready()
        image = cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
        scale = min(self.upscale, LONGEST_SIDE / max(area.width, area.height))
        size = (max(1, round(area.width * scale)), max(1, round(area.height * scale)))
        if size != (area.width, area.height):
            enlarging = size[0] > area.width
            method = cv2.INTER_CUBIC if enlarging else cv2.INTER_AREA
            image = cv2.resize(image, size, interpolation=method)
        lines: list[TextLine] = []
        for band in _bands(size[1], BAND_HEIGHT, BAND_OVERLAP):
            result = engine(image[band.top : band.bottom], return_word_box=True)
            to_screen = _ScreenMapping(area, size[0] / area.width, size[1] / area.height, band.top)
            lines.extend(_lines(result, to_screen, band))
        return tuple(lines)

    def _ready(self) -> tuple[Any, Any]:
        if self._engine is None:
            self._engine, self._cv2 = _create_engine(self.threads)
        return self._engine, self._cv2


def _create_engine(threads: int) -> tuple[Any, Any]:
    """rapidocr with the models in its wheel, named one by one so it never downloads."""
    try:
        import cv2
        import rapidocr
        from rapidocr import RapidOCR
    except ImportError as error:
        raise EnvironmentProblem(f"OCR needs rapidocr: {INSTALL_HINT} ({error})") from error
    models = Path(rapidocr.__file__).parent / "models"
    params: dict[str, object] = {
        "Det.model_path": str(_bundled(models, "det")),
        "Rec.model_path": str(_bundled(models, "rec")),  # its alphabet is inside the model
        "Cls.model_path": str(_bundled(models, "cls")),
        # Screen text is upright: no angle classifier (it costs time and flips nothing).
        "Global.use_cls": False,
        "Global.log_level": "error",
        # The image is sized here (upscale, LONGEST_SIDE); rapidocr must not resize it again
        # (by default it enlarges a region's short side to 736 px, which made regions slow).
        "Global.max_side_len": LONGEST_SIDE,
        "Det.limit_type": "max",
        "Det.limit_side_len": LONGEST_SIDE,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        # The models run one node after another: threads between nodes would only wait.
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    try:
        engine = RapidOCR(params=params)
    except ImportError as error:  # onnxruntime missing: rapidocr names it only now
        raise EnvironmentProblem(f"OCR needs onnxruntime: {INSTALL_HINT} ({error})") from error
    return engine, cv2


def _bundled(models: Path, task: str) -> Path:
    found = sorted(models.glob(f"*_{task}_*.onnx"))
    if len(found) != 1:
        raise EnvironmentProblem(
            f"expected one bundled {task} model in {models}, found {[p.name for p in found]}; "
            f"reinstall: {INSTALL_HINT}"
        )
    return found[0]


@dataclass(frozen=True, slots=True)
class _Band:
    """Rows [top, bottom) of the scaled image, read in one go; of what is found there, the
    lines centred in [keep_top, keep_bottom) are kept (the others belong to a neighbour)."""

    top: int
    bottom: int
    keep_top: int
    keep_bottom: int


def _bands(height: int, band_height: int, overlap: int) -> list[_Band]:
    if height <= band_height:
        return [_Band(0, height, 0, height)]
    count = ceil((height - overlap) / (band_height - overlap))
    tops = [round(i * (height - band_height) / (count - 1)) for i in range(count)]
    bottoms = [top + band_height for top in tops]
    # Neighbours split their overlap in the middle.
    cuts = [0] + [(tops[i + 1] + bottoms[i]) // 2 for i in range(count - 1)] + [height]
    return [_Band(tops[i], bottoms[i], cuts[i], cuts[i + 1]) for i in range(count)]


@dataclass(frozen=True, slots=True)
class _ScreenMapping:
    """From the pixels of one band of the (scaled) image OCR saw to screen pixels."""

    area: Box
    scale_x: float
    scale_y: float
    band_top: int

    def centre_row(self, quad: Any) -> float:
        """The quad's vertical centre in rows of the whole scaled image."""
        corners = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
        return self.band_top + float(corners[:, 1].min() + corners[:, 1].max()) / 2

    def box(self, quad: Any) -> Box:
        corners = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
        xs = corners[:, 0] / self.scale_x
        ys = (corners[:, 1] + self.band_top) / self.scale_y
        left = max(self.area.left, self.area.left + floor(xs.min()))
        top = max(self.area.top, self.area.top + floor(ys.min()))
        right = min(self.area.left + self.area.width, self.area.left + ceil(xs.max()))
        bottom = min(self.area.top + self.area.height, self.area.top + ceil(ys.max()))
        return Box(left, top, max(1, right - left), max(1, bottom - top))


def _lines(result: Any, to_screen: _ScreenMapping, band: _Band) -> list[TextLine]:
    """The lines of one rapidocr result that belong to `band`, in screen pixels."""
    texts = getattr(result, "txts", None)
    quads = getattr(result, "boxes", None)
    if not texts or quads is None:
        return []
    word_groups = list(getattr(result, "word_results", None) or ())
    lines = []
    for text, quad, score in zip(texts, quads, result.scores, strict=True):
        # rapidocr leaves lines without words out of word_results, so the groups are
        # matched to lines by content, in order, rather than by index.
        words: tuple[TextWord, ...] = ()
        if word_groups and _words_spell(word_groups[0], text):
            words = _aligned_words(word_groups.pop(0), text, to_screen)
        if band.keep_top <= to_screen.centre_row(quad) < band.keep_bottom:
            lines.append(TextLine(text, to_screen.box(quad), float(score), words))
    return lines


def _words_spell(group: Any, text: str) -> bool:
    """Whether a word group is this line: its words, in order, are the line's non-spaces."""
    try:
        spelled = "".join(str(word[0]) for word in group)
    except (TypeError, IndexError):
        return False
    return spelled == "".join(text.split())


def _aligned_words(group: Any, text: str, to_screen: _ScreenMapping) -> tuple[TextWord, ...]:
    words, cursor = [], 0
    for word_text, _score, quad in group:
        start = text.find(word_text, cursor)
        if start < 0 or quad is None:
            return ()
        words.append(TextWord(word_text, to_screen.box(quad), start))
        cursor = start + len(word_text)
    return tuple(words)


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` for comparing (NFKC, case-folded, whitespace runs as one space, stripped) and,
    for each of its characters, the index of the character of `text` it came from."""
    shown: list[str] = []
    origins: list[int] = []
    for index, character in enumerate(text):
        if character.isspace():
            if shown and shown[-1] != " ":
                shown.append(" ")
                origins.append(index)
            continue
        for piece in unicodedata.normalize("NFKC", character).casefold():
            shown.append(piece)
            origins.append(index)
    if shown and shown[-1] == " ":
        shown.pop()
        origins.pop()
    return "".join(shown), origins


def _clip(region: Box | None, frame: Frame) -> Box | None:
    if region is None:
        return Box(0, 0, frame.width, frame.height)
    left, top = max(region.left, 0), max(region.top, 0)
    right = min(region.left + region.width, frame.width)
    bottom = min(region.top + region.height, frame.height)
    if right <= left or bottom <= top:
        return None
    return Box(left, top, right - left, bottom - top)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
