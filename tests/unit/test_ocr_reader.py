"""OCR on drawn images: screen coordinates through a region, narrowed boxes, the cache,
matching rules, and no network."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from agent.desktop.protocol import Frame
from agent.errors import EnvironmentProblem
from agent.geometry import Box
from agent.perception.ocr import OcrReader, TextLine, TextWord

DEJAVU = "/usr/share/fonts/truetype/dejavu/"
NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SENTENCE = "quarterly report ready"
ORIGIN = (300, 200)  # where the sentence is drawn
# Detection boxes hug the ink with a pixel or two of margin; characters are estimated.
SLACK = 4


@dataclass(frozen=True)
class Drawn:
    frame: Frame
    sentence: Box  # the ink of SENTENCE
    report: Box  # the ink of its word "report"


def _box(bbox: tuple[float, float, float, float]) -> Box:
    left, top, right, bottom = (round(v) for v in bbox)
    return Box(left, top, right - left, bottom - top)


def _frame(image: Image.Image) -> Frame:
    bgr = np.asarray(image.convert("RGB"))[:, :, ::-1]
    alpha = np.full(bgr.shape[:2], 255, np.uint8)
    return Frame(np.ascontiguousarray(np.dstack([bgr, alpha])), time.monotonic())


@pytest.fixture(scope="module")
def drawn() -> Drawn:
    image = Image.new("RGB", (1000, 500), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    sans = ImageFont.truetype(DEJAVU + "DejaVuSans.ttf", 13)
    mono = ImageFont.truetype(DEJAVU + "DejaVuSansMono.ttf", 11)
    draw.text(ORIGIN, SENTENCE, fill="black", font=sans)
    draw.text((300, 260), "ls -la /usr/share/fonts", fill="black", font=mono)
    draw.text((40, 40), "OK", fill="black", font=sans)
    draw.text(
        (300, 320), "請求書を送信しました", fill="black", font=ImageFont.truetype(NOTO_CJK, 14)
    )
    sentence = _box(draw.textbbox(ORIGIN, SENTENCE, font=sans))
    before = draw.textlength("quarterly ", font=sans)
    report = _box(draw.textbbox((ORIGIN[0] + before, ORIGIN[1]), "report", font=sans))
    return Drawn(_frame(image), sentence, report)


@pytest.fixture(scope="module")
def reader() -> OcrReader:
    return OcrReader()


def _near(found: Box, expected: Box, slack: int = SLACK) -> bool:
    return (
        abs(found.left - expected.left) <= slack
        and abs(found.top - expected.top) <= slack
        and abs(found.left + found.width - expected.left - expected.width) <= slack
        and abs(found.top + found.height - expected.top - expected.height) <= slack
    )


def test_a_region_is_read_in_screen_coordinates(reader: OcrReader, drawn: Drawn) -> None:
    region = Box(250, 150, 600, 300)
    lines = reader.read(drawn.frame, region)
    texts = [line.text for line in lines]
    assert SENTENCE in texts and "ls -la /usr/share/fonts" in texts, texts
    line = lines[texts.index(SENTENCE)]
    assert _near(line.box, drawn.sentence), (line.box, drawn.sentence)
    assert line.score > 0.9
    for line in lines:  # nothing outside the region, and every box inside it
        assert region.contains(line.box.center)
        assert region.left <= line.box.left and line.box.left + line.box.width <= 850
    assert "OK" not in texts
    # The whole frame sees the same line at the same place.
    whole = {line.text: line.box for line in reader.read(drawn.frame)}
    assert _near(whole[SENTENCE], drawn.sentence)


def test_find_narrows_the_box_to_the_words_asked_for(reader: OcrReader, drawn: Drawn) -> None:
    (match,) = reader.find(drawn.frame, "REPORT", Box(250, 150, 600, 300))
    assert match.text == "report" and match.line.text == SENTENCE
    assert not match.whole_line
    # Across, the word's own ink; up and down, its line's.
    expected = Box(drawn.report.left, drawn.sentence.top, drawn.report.width, drawn.sentence.height)
    assert _near(match.box, expected), (match.box, expected)
    (whole,) = reader.find(drawn.frame, "  Quarterly\treport   READY ")
    assert whole.whole_line and _near(whole.box, drawn.sentence)
    (japanese,) = reader.find(drawn.frame, "送信")
    # Four characters of 14 px come first; each CJK character is a word of its own.
    assert abs(japanese.box.left - (300 + 4 * 14)) <= SLACK and 24 <= japanese.box.width <= 34


def test_text_that_is_not_there_is_not_found(reader: OcrReader, drawn: Drawn) -> None:
    assert reader.find(drawn.frame, "invoice overdue") == []
    assert reader.find(drawn.frame, SENTENCE, Box(0, 0, 200, 100)) == []  # elsewhere
    assert reader.read(drawn.frame, Box(2000, 2000, 50, 50)) == []  # off the screen
    with pytest.raises(ValueError, match="empty"):
        reader.find(drawn.frame, "  ")


def test_a_small_region_tight_around_a_label(reader: OcrReader, drawn: Drawn) -> None:
    (line,) = reader.read(drawn.frame, Box(38, 38, 24, 18))
    assert line.text == "OK"
    assert Box(38, 38, 24, 18).contains(line.box.center)


def test_the_same_pixels_are_read_once(reader: OcrReader, drawn: Drawn) -> None:
    region = Box(280, 180, 300, 120)
    first = reader.read(drawn.frame, region)
    started = time.perf_counter()
    again = reader.read(drawn.frame, region)
    assert time.perf_counter() - started < 0.05
    assert again == first and again[0] is first[0]  # the very same lines, from the cache
    # A new capture of the same screen is a hit too; one changed pixel is not.
    copy = Frame(drawn.frame.pixels.copy(), time.monotonic())
    assert reader.read(copy, region)[0] is first[0]
    copy.pixels[290, 560] = (0, 0, 0, 255)
    assert reader.read(copy, region)[0] is not first[0]


def test_reads_with_no_network(
    drawn: Drawn, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    # Any download (of a model or an alphabet) would go through this closed port and fail.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    (match,) = OcrReader(threads=1).find(drawn.frame, "report")
    assert match.text == "report"


def test_without_rapidocr_the_error_says_what_to_install(
    drawn: Drawn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # as if it were not installed
    with pytest.raises(EnvironmentProblem, match=r"pip install 'shain\[ocr\]'"):
        OcrReader().read(drawn.frame)


def test_a_line_box_is_split_by_words_then_by_characters() -> None:
    words = (TextWord("echo", Box(100, 10, 24, 13), 0), TextWord("ready", Box(130, 10, 30, 13), 5))
    line = TextLine("echo ready", Box(98, 8, 64, 17), 0.99, words)
    assert line.box_of(0, 4) == Box(100, 8, 24, 17)  # a whole word: its own box
    assert line.box_of(6, 8) == Box(136, 8, 12, 17)  # "ea": characters 2-3 of 5 in 30 px
    assert line.box_of(2, 7) == Box(112, 8, 30, 17)  # across the space
    bare = TextLine("abcd", Box(0, 0, 40, 10), 0.9)  # no word boxes: shares of the line
    assert bare.box_of(1, 3) == Box(10, 0, 20, 10)
    with pytest.raises(ValueError):
        line.box_of(3, 3)
