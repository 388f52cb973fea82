"""The progress window, fed real agent events: the live frame with its click drawn on it, the
step list, the budget bars, the buttons' callbacks and the status line."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from agent.actions import Click, TypeText
from agent.desktop.protocol import Frame
from agent.geometry import Size
from agent.record.events import (
    ActionExecuted,
    ActionFailed,
    Decided,
    Event,
    Observed,
    RunFinished,
    RunStarted,
    StepStarted,
)
from agent.record.log import read_run
from agent.record.status import RunStatus
from agent.taskfile.task import BudgetSpec
from tests.fixtures.runs.make_run import fixture_folder
from tests.helpers import ARTIFACTS
from ui.tray.progress_model import ACTIONS_ROLE, THOUGHT_ROLE, StepListModel, frame_image
from ui.tray.progress_window import ProgressWindow
from ui.widgets.style import MARKER_COLOUR

WIDTH, HEIGHT = 1280, 720
CLICK = Click(900, 300)
T0 = 1_000.0
BLUE = (0, 0, 200)  # RGB
GREEN = (0, 180, 0)


def _pixels() -> npt.NDArray[np.uint8]:
    """BGRA: the left half blue, the right half green, a white square at (100..200, 100..200)."""
    pixels = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    pixels[:, : WIDTH // 2] = (BLUE[2], BLUE[1], BLUE[0], 255)
    pixels[:, WIDTH // 2 :] = (GREEN[2], GREEN[1], GREEN[0], 255)
    pixels[100:200, 100:200] = (255, 255, 255, 255)
    return pixels


def _rgb(image: QImage, x: float, y: float) -> tuple[int, int, int]:
    colour = QColor(image.pixel(int(x), int(y)))
    return colour.red(), colour.green(), colour.blue()


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


class Calls:
    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, name: str) -> Callable[[], None]:
        return lambda: self.names.append(name)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def window(qtbot: QtBot, calls: Calls) -> ProgressWindow:
    widget = ProgressWindow(
        on_pause=calls("pause"),
        on_resume=calls("resume"),
        on_stop=calls("stop"),
    )
    qtbot.addWidget(widget)
    widget.resize(1100, 640)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_budget(BudgetSpec(max_steps=10, max_seconds=120, max_cost_usd=0.10))
    return widget


def _started() -> RunStarted:
    return RunStarted(
        "run-1", "save-note", "Save the note", "scripted", Size(WIDTH, HEIGHT), "/tmp", at=T0
    )


def _step(number: int, frame: Frame, thought: str, action: Click | TypeText) -> list[Event]:
    at = T0 + 10 * number
    return [
        StepStarted(number, at=at),
        Observed(number, frame, 0.05, at=at + 0.1),
        Decided(number, (action,), thought, 1.25, 900, 40, 0.015, at=at + 1.5),
        ActionExecuted(number, action, 0.1, 0.1, True, True, at=at + 2.0),
    ]


def _feed(window: ProgressWindow, events: list[Event]) -> None:
    for event in events:
        window.on_event(event)


def test_frame_image_copies_the_reused_buffer() -> None:
    pixels = _pixels()
    image = frame_image(Frame(pixels, time.monotonic()))
    pixels[:] = 0  # the desktop reuses its capture buffer for the next grab
    assert (image.width(), image.height()) == (WIDTH, HEIGHT)
    assert _rgb(image, 10, 10) == BLUE
    assert _rgb(image, WIDTH - 10, 10) == GREEN
    assert _rgb(image, 150, 150) == (255, 255, 255)


def test_a_run_from_start_to_finish(window: ProgressWindow, calls: Calls, tmp_path: Path) -> None:
    assert window.status.text() == "Waiting for a task"
    assert not window.pause_button.isEnabled() and not window.stop_button.isEnabled()

    window.on_event(_started())
    assert window.status.text() == "Working on 'save-note'"
    pixels = _pixels()
    _feed(window, _step(1, Frame(pixels, 1.0), "The note is open; type the text.", TypeText("hi")))
    assert window.status.text() == "Working on 'save-note' — step 1"
    _feed(window, _step(2, Frame(pixels, 2.0), "Now press the Save button.", CLICK))
    assert window.status.text() == "Working on 'save-note' — step 2"
    pixels[:] = 0  # the buffer is reused: what is shown must not change

    # The live screen: the frame, scaled to fit, with the click drawn at its pixel.
    rendered = window.screen_view.rendered()
    assert rendered is not None
    scale = rendered.width() / WIDTH
    assert scale < 1  # scaled down to fit
    assert _close(_rgb(rendered, 20 * scale, 600 * scale), BLUE)
    assert _close(_rgb(rendered, 1200 * scale, 600 * scale), GREEN)
    assert _close(_rgb(rendered, 150 * scale, 150 * scale), (255, 255, 255))
    marker = (MARKER_COLOUR.red(), MARKER_COLOUR.green(), MARKER_COLOUR.blue())
    at = ((CLICK.x + 0.5) * scale, (CLICK.y + 0.5) * scale)
    assert _close(_rgb(rendered, *at), marker, 30)
    # ...and it is what the widget paints, where the frame sits in it.
    grabbed = window.screen_view.grab().toImage()
    box = window.screen_view.frame_rect()
    ratio = grabbed.width() / window.screen_view.width()
    shown = ((box.left() + at[0]) * ratio, (box.top() + at[1]) * ratio)
    assert _close(_rgb(grabbed, *shown), marker, 30)

    # The step list: newest at the bottom, with thought and action line.
    model = window.model
    assert model.rowCount() == 2
    assert model.index(0).data(THOUGHT_ROLE) == "The note is open; type the text."
    assert model.index(0).data(ACTIONS_ROLE) == "type 'hi' (2 chars)"
    assert model.index(1).data(THOUGHT_ROLE) == "Now press the Save button."
    assert model.index(1).data(ACTIONS_ROLE) == "click left (900, 300)"
    assert model.rows[1].seconds == pytest.approx(0.05 + 1.25 + 0.1 + 0.1)
    bar = window.steps.verticalScrollBar()
    assert bar.value() == bar.maximum()

    # The budget bars: 2 of 10 steps, 22 s of 120 s, $0.03 of $0.10; no token limit.
    assert (window.step_bar.bar.value(), window.step_bar.bar.maximum()) == (2, 10)
    assert window.step_bar.text.text() == "2 of 10"
    assert window.time_bar.used == pytest.approx(22.0)
    assert window.time_bar.bar.value() == round(22 / 120 * 1000)
    assert window.cost_bar.used == pytest.approx(0.03)
    assert window.cost_bar.bar.value() == 300
    assert window.cost_bar.text.text() == "$0.0300 of $0.1000"
    assert window.token_bar.isHidden() and not window.cost_bar.isHidden()

    # Pause and Resume only call their callbacks (and say so); so does Stop.
    window.pause_button.click()
    assert calls.names == ["pause"]
    assert window.status.text() == "Paused"
    assert window.pause_button.text() == "Resume"
    window.pause_button.click()
    assert calls.names == ["pause", "resume"]
    assert window.status.text() == "Working on 'save-note' — step 2"
    window.show_paused("you moved the mouse")
    assert window.status.text() == "Paused — you moved the mouse"
    window.show_resumed()

    window.stop_button.click()
    assert calls.names == ["pause", "resume", "stop"]
    assert window.status.text() == "Stopping…"

    window.on_event(RunFinished(RunStatus.STOPPED, 3, "stopped by the boss", 2, 23.0, at=T0 + 23))
    assert window.status.text() == "Stopped: stopped by the boss"
    assert window.pill.text() == "stopped" and not window.pill.isHidden()
    assert not window.pause_button.isEnabled() and not window.stop_button.isEnabled()


def test_done_and_a_new_run_starts_afresh(window: ProgressWindow) -> None:
    window.on_event(_started())
    _feed(window, _step(1, Frame(_pixels(), 1.0), "Type.", TypeText("x")))
    window.on_event(RunFinished(RunStatus.SUCCESS, 0, "all checks hold", 1, 3.0, at=T0 + 3))
    assert window.status.text() == "Done: all checks hold"
    window.on_event(_started())
    assert window.model.rowCount() == 0
    assert window.screen_view.image is None
    assert window.step_bar.bar.value() == 0
    assert window.status.text() == "Working on 'save-note'"
    assert window.pause_button.isEnabled()


def test_a_failed_action_shows_in_its_step() -> None:
    model = StepListModel()
    model.on_event(StepStarted(1))
    model.on_event(ActionFailed(1, CLICK, "no such window"))
    assert model.rows[0].status == "failed"
    assert "failed: no such window" in model.index(0).data(ACTIONS_ROLE)


def test_screenshot_of_a_real_run(window: ProgressWindow) -> None:
    """artifacts/progress-window.png: a real mousepad frame, if one is around, else the pattern."""
    frames = sorted(Path("/tmp/pw-runs").glob("*/frames/step-000*.jpg"))
    image = QImage(str(frames[-1])) if frames else QImage()
    if image.isNull():
        pixels = _pixels()
    else:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
        pixels = np.frombuffer(
            image.constBits(), np.uint8
        ).reshape(  # type: ignore[call-overload]
            image.height(), image.bytesPerLine() // 4, 4
        )[:, : image.width()]
    frame = Frame(pixels, 1.0)
    window.on_event(
        RunStarted("run-2", "mousepad-note", None, "openai-chat", Size(1920, 1080), "/tmp", at=T0)
    )
    steps: list[tuple[str, Click | TypeText]] = [
        ("Mousepad is open on note.txt; click into the empty note.", Click(900, 520)),
        ("The cursor is in the note; type the greeting.", TypeText("こんにちは、社長 — café ✓\n")),
        ("Now the second line of the note.", TypeText("Shain wrote this note.\n")),
        ("Put the cursor after the text before saving.", Click(900, 520)),
    ]
    for number, (thought, action) in enumerate(steps, 1):
        _feed(window, _step(number, frame, thought, action))
    out = ARTIFACTS / "progress-window.png"
    out.parent.mkdir(exist_ok=True)
    assert window.grab().save(str(out))
    assert out.stat().st_size > 10_000


def test_the_step_list_follows_the_newest_step(qtbot: QtBot, window: ProgressWindow) -> None:
    window.on_event(_started())
    for number in range(1, 31):
        window.on_event(StepStarted(number, at=T0 + number))
        window.on_event(Decided(number, (CLICK,), f"Thought {number}.", 0.5, at=T0 + number))
        window.on_event(ActionExecuted(number, CLICK, 0.1, 0.1, True, True, at=T0 + number))
    bar = window.steps.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=2000)
    last = window.model.index(29)
    assert window.steps.viewport().rect().intersects(window.steps.visualRect(last))
    assert window.step_bar.bar.value() == 10  # 30 steps of a 10-step budget: a full bar
    assert window.step_bar.bar.property("level") == "over"


def test_a_logged_run_folds_as_it_did_live(window: ProgressWindow) -> None:
    """The window folds live events (with frames) and a run read back from its log (without)
    the same way: there is one fold."""
    events = read_run(fixture_folder()).events
    frame = Frame(_pixels(), 1.0)
    live = [
        dataclasses.replace(event, frame=frame) if isinstance(event, Observed) else event
        for event in events
    ]
    window.set_budget(BudgetSpec(max_steps=20, max_seconds=120))
    _feed(window, live)
    shown = [(row.number, row.status, row.action_text, row.seconds) for row in window.model.rows]
    read_back = StepListModel()
    for event in events:
        read_back.on_event(event)
    assert [(row.number, row.status, row.action_text, row.seconds) for row in read_back.rows] == (
        shown
    )
    statuses = [row.status for row in window.model.rows]
    assert statuses == ["ok"] * 5 + ["rejected"] * 3 + ["ok", "ok", "failed", "ok"]
    assert window.model.index(6).data(ACTIONS_ROLE) == (
        "type 'sudo true' (9 chars) — not approved: typing 'sudo': runs a command with more rights"
    )
    assert window.model.index(7).data(ACTIONS_ROLE) == (
        "key super+l — refused: super+l locks the screen"
    )
    assert window.step_bar.text.text() == "12 of 20"
    assert window.status.text().startswith("Ended: scripted step 7 failed")
    assert window.pill.text() == "failed"
