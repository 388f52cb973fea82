"""OCR on a real screen: a sentence typed into xterm (its small default bitmap font) is found
where xterm draws it; a region is cheaper than the whole screen; a frame is read once."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from agent.desktop.apps import AppLauncher
from agent.desktop.local import LocalDesktop
from agent.desktop.protocol import Frame
from agent.desktop.virtual_display import VirtualDisplay
from agent.desktop.windows import list_windows
from agent.geometry import Box
from agent.perception.conditions import WindowAppears, wait_for
from agent.perception.ocr import OcrReader, TextMatch
from agent.stop import StopToken

pytestmark = pytest.mark.desktop

TITLE = "ocr-terminal"
SENTENCE = "quarterly report ready"
CELL_WIDTH = 6  # xterm's default font, "fixed" 6x13


@pytest.fixture(scope="module")
def desktop(virtual_display: VirtualDisplay) -> Iterator[LocalDesktop]:
    with LocalDesktop(virtual_display.screen) as opened:
        yield opened


def _window_box(environment: dict[str, str], title: str) -> Box:
    """The window's client box on the screen (title bar excluded)."""
    windows = list_windows(environment["DISPLAY"])
    return next(window.box for window in windows if window.title == title)


def _same_place(one: TextMatch, other: TextMatch) -> bool:
    """Read from differently sized images, boxes differ by a pixel or two of margin."""
    a, b = one.box.center, other.box.center
    return abs(a.x - b.x) <= 3 and abs(a.y - b.y) <= 3


def _until_found(
    reader: OcrReader, desktop: LocalDesktop, region: Box, count: int
) -> tuple[Frame, list[TextMatch]]:
    """Captures until the sentence shows `count` times (the command, then its output)."""
    deadline = time.monotonic() + 20
    while True:
        frame = desktop.capture()
        found = reader.find(frame, SENTENCE, region)
        if len(found) >= count or time.monotonic() > deadline:
            return frame, found
        time.sleep(0.2)


def test_finds_a_sentence_typed_into_xterm(
    desktop: LocalDesktop, launcher: AppLauncher, app_environment: dict[str, str]
) -> None:
    launcher.launch(["xterm", "-T", TITLE, "-geometry", "80x24+260+170"])
    wait_for(WindowAppears(TITLE), 20, StopToken(), launcher.screen)
    subprocess.run(
        ["xdotool", "type", "--delay", "10", f"echo {SENTENCE}\n"],
        env=app_environment,
        check=True,
    )
    window = _window_box(app_environment, TITLE)
    reader = OcrReader()
    frame, found = _until_found(reader, desktop, window, 2)

    # The command line and its output, both inside xterm's window.
    assert len(found) == 2, [line.text for line in reader.read(frame, window)]
    command, output = found
    assert command.line.text.endswith(f"echo {SENTENCE}") and not command.whole_line
    assert output.whole_line and output.text == SENTENCE
    for match in found:
        assert window.encloses(match.box), (match.box, window)
        # Narrowed to the 22 characters, each one cell of the terminal's font.
        assert abs(match.box.width - len(SENTENCE) * CELL_WIDTH) <= CELL_WIDTH
    # The output starts at the left edge of the text area, one line below the command, and
    # the command's sentence starts right of the prompt, above it.
    assert output.box.left - window.left <= 2 * CELL_WIDTH
    assert command.box.left > output.box.left + 5 * CELL_WIDTH
    assert 8 <= output.box.top - command.box.top <= 20

    # The same lines read from the whole screen, at the same places (screen coordinates).
    started = time.perf_counter()
    everywhere = reader.find(frame, SENTENCE)
    whole_screen_seconds = time.perf_counter() - started
    assert [m.text for m in everywhere] == [m.text for m in found]
    assert all(_same_place(a, b) for a, b in zip(found, everywhere, strict=True))

    # A ~600x300 region around the terminal: read on its own, and much cheaper.
    region = Box(window.left - 50, window.top - 20, 600, 300)
    started = time.perf_counter()
    in_region = reader.find(frame, SENTENCE, region)
    region_seconds = time.perf_counter() - started
    assert [m.text for m in in_region] == [m.text for m in found]
    assert all(_same_place(a, b) for a, b in zip(in_region, found, strict=True))
    assert region_seconds < 0.75 * whole_screen_seconds, (region_seconds, whole_screen_seconds)

    # Asking again about the same frame costs nothing: it was read once.
    started = time.perf_counter()
    assert reader.find(frame, SENTENCE) == everywhere
    assert time.perf_counter() - started < 0.05

    assert reader.find(frame, "invoice overdue") == []
