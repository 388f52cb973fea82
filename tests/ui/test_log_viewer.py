"""The log viewer over run folders made by real `shain run` runs, on Qt's offscreen platform."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agent.actions import Click
from agent.geometry import Point
from agent.record.events import ActionFailed, Decided, ReplyRejected, StepStarted
from agent.record.status import RunStatus
from agent.record.steps import FAILED, REJECTED, StepFolder
from agent.report.overlays import Marker
from tests.decided_three_ways import DECIDED, HOW
from tests.fixtures.runs.make_run import fixture_folder
from tests.helpers import ARTIFACTS
from tests.ui.conftest import BUTTON, CLICK, RealRuns
from ui.log_viewer import build_window, main
from ui.log_viewer.run_view import RunView
from ui.log_viewer.runs_model import STATUS_ROLE
from ui.log_viewer.tail import EventTail
from ui.log_viewer.window import LogViewerWindow
from ui.widgets.overlay_painter import render_annotated
from ui.widgets.style import MARKER_COLOUR, NEUTRAL, RUN_STATUS_COLOURS, STATUS_COLOURS

SCREEN_WIDTH = 1920


def _events(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "events.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines[1:]]


def _steps_logged(folder: Path) -> set[int]:
    return {e["step"] for e in _events(folder) if e["kind"] == "step_started"}


def _window(qtbot: QtBot, run: Path | None, runs_dir: Path) -> LogViewerWindow:
    window = build_window(run, runs_dir)
    qtbot.addWidget(window)
    window.resize(1500, 900)
    window.show()
    return window


def _close_to(colour: QColor, wanted: QColor, tolerance: int = 40) -> bool:
    return (
        abs(colour.red() - wanted.red()) <= tolerance
        and abs(colour.green() - wanted.green()) <= tolerance
        and abs(colour.blue() - wanted.blue()) <= tolerance
    )


def _wait_for_frame(qtbot: QtBot, window: LogViewerWindow, step: int) -> QImage:
    """The selected step's annotated screenshot, once its frame is decoded and shown."""
    detail = window.run_view.detail
    name = f"step-{step:04d}.jpg"
    qtbot.waitUntil(
        lambda: (
            detail.screenshot.image is not None
            and detail._frame_path is not None
            and detail._frame_path.name == name
        ),
        timeout=5000,
    )
    rendered = detail.screenshot.rendered()
    assert rendered is not None
    return rendered


def _rows_reach(view: RunView, rows: int) -> Callable[[], bool]:
    return lambda: view.model.rowCount() == rows


# ---- Qt-free parts, on made-up lines


def test_the_tail_reads_only_whole_lines_and_remembers_where_it_was(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"schema": "shain.runlog", "version": 1, "task": "t"}\n{"kind": "step_st')
    tail = EventTail(path)
    assert tail.poll() == [] and tail.header["task"] == "t"
    with open(path, "a") as file:
        file.write('arted", "step": 1, "at": 1.0}\n{"kind": "observed", "step": 1}\n')
    assert [e["kind"] for e in tail.poll()] == ["step_started", "observed"]
    assert tail.poll() == []


def test_steps_fold_statuses_from_events() -> None:
    folder = StepFolder()
    added, _ = folder.feed(
        [
            StepStarted(1, at=1.0),
            ReplyRejected(1, "not JSON", 0.1, at=1.1),
            StepStarted(2, at=2.0),
            Decided(2, (Click(5, 6),), "", 0.2, at=2.2),
            ActionFailed(2, Click(5, 6), "no pointer", at=2.5),
        ]
    )
    assert added == 2
    assert [s.status for s in folder.steps] == [REJECTED, FAILED]
    assert folder.steps[1].action_lines == ["click left (5, 6)"]
    assert folder.steps[1].seconds == pytest.approx(0.5)


# ---- over real runs


@pytest.mark.desktop
def test_runs_list_statuses_sorting_and_filters(qtbot: QtBot, real_runs: RealRuns) -> None:
    window = _window(qtbot, None, real_runs.runs_dir)
    model, proxy = window.runs, window.runs_filter
    shown = {row.task: row.status for row in model.rows}
    assert shown == real_runs.statuses
    assert shown["overlay-shapes"] == "failed" and shown["mousepad-note"] == "success"
    assert shown["model-with-a-bad-reply"] == "success"

    window.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    tasks = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert tasks == sorted(tasks, key=str.lower)
    window.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    steps = [int(proxy.index(r, 4).data()) for r in range(proxy.rowCount())]
    assert steps == sorted(steps, reverse=True) and len(steps) == len(real_runs.folders)

    window.status.setCurrentText("failed")
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data() == "overlay-shapes"
    window.status.setCurrentText("success")
    assert {proxy.index(r, 1).data(STATUS_ROLE) for r in range(proxy.rowCount())} == {"success"}
    window.status.setCurrentText("All statuses")
    window.search.setText("MOUSEPAD")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["mousepad-note"]
    window.search.clear()
    assert proxy.rowCount() == len(real_runs.folders)


@pytest.mark.desktop
def test_the_timeline_has_one_row_per_logged_step(qtbot: QtBot, real_runs: RealRuns) -> None:
    window = _window(qtbot, None, real_runs.runs_dir)
    for folder in real_runs.folders.values():
        assert window.select_run(folder)
        view = window.run_view
        assert view.folder == folder
        numbers = [view.model.steps[r].number for r in range(view.model.rowCount())]
        assert numbers == sorted(_steps_logged(folder)), folder.name
        assert not view.following and not view.timer.isActive()


@pytest.mark.desktop
def test_only_problems_keeps_the_rejected_step(qtbot: QtBot, real_runs: RealRuns) -> None:
    folder = real_runs.folders["model-with-a-bad-reply"]
    window = _window(qtbot, folder, real_runs.runs_dir)
    view = window.run_view
    rejected = {e["step"] for e in _events(folder) if e["kind"] == "reply_rejected"}
    assert rejected, "the model run should have logged a rejected reply"
    total = view.filter.rowCount()
    view.only_problems.setChecked(True)
    kept = [view.filter.index(r, 0).data() for r in range(view.filter.rowCount())]
    assert [int(n) for n in kept] == sorted(rejected)
    assert all(view.filter.index(r, 3).data() == REJECTED for r in range(len(kept)))
    colour = view.filter.index(0, 3).data(Qt.ItemDataRole.ForegroundRole)
    assert isinstance(colour, QColor) and colour.name() == "#bc4c00"
    assert view.current_step() is not None and view.current_step().status == REJECTED  # type: ignore[union-attr]
    assert "not valid JSON" in view.detail.problems.toPlainText()
    view.only_problems.setChecked(False)
    assert view.filter.rowCount() == total


@pytest.mark.desktop
@pytest.mark.parametrize(
    ("task", "step", "point"),
    [("overlay-shapes", 1, CLICK), ("model-with-a-bad-reply", 2, BUTTON)],
)
def test_the_click_marker_is_drawn_where_the_action_clicked(
    qtbot: QtBot, real_runs: RealRuns, task: str, step: int, point: tuple[int, int]
) -> None:
    window = _window(qtbot, real_runs.folders[task], real_runs.runs_dir)
    view = window.run_view
    row = [s.number for s in view.model.steps].index(step)
    view.select_row(row)
    assert view.current_step() is not None
    assert any(isinstance(o, Marker) for o in view.detail.overlays())
    rendered = _wait_for_frame(qtbot, window, step)
    scale = rendered.width() / SCREEN_WIDTH
    assert 0.2 < scale < 1
    x, y = round(point[0] * scale), round(point[1] * scale)
    assert _close_to(rendered.pixelColor(x, y), MARKER_COLOUR)
    # Not smeared elsewhere: 50 view pixels away (outside the ring) is the screenshot.
    for dx, dy in ((50, 50), (-50, 50), (50, -50)):
        assert not _close_to(rendered.pixelColor(x + dx, y + dy), MARKER_COLOUR, 30)


@pytest.mark.desktop
def test_render_annotated_keeps_overlay_coordinates_at_any_scale(real_runs: RealRuns) -> None:
    frame = QImage(str(real_runs.folders["mousepad-note"] / "frames" / "step-0001.jpg"))
    marker = Marker(Point(1234, 567), "left click")
    for area in (QSize(960, 540), QSize(500, 900), QSize(1920, 1080)):
        rendered = render_annotated(frame, (marker,), area)
        scale = rendered.width() / frame.width()
        assert rendered.width() <= area.width() and rendered.height() <= area.height()
        at = (round(1234 * scale), round(567 * scale))
        assert _close_to(rendered.pixelColor(*at), MARKER_COLOUR), area


@pytest.mark.desktop
def test_keyboard_moves_through_the_timeline(qtbot: QtBot, real_runs: RealRuns) -> None:
    folder = real_runs.folders["mousepad-note"]
    window = _window(qtbot, folder, real_runs.runs_dir)
    view = window.run_view
    timeline, detail = view.timeline, view.detail
    _wait_for_frame(qtbot, window, 1)
    timeline.setFocus()
    QTest.keyClick(timeline, Qt.Key.Key_Down)
    assert view.current_step().number == 2  # type: ignore[union-attr]
    assert (
        detail.title.text().startswith("Step 2") and detail.thought.toPlainText() == "step 2 of 4"
    )
    _wait_for_frame(qtbot, window, 2)
    QTest.keyClick(timeline, Qt.Key.Key_End)
    last = max(_steps_logged(folder))
    assert view.current_step().number == last  # type: ignore[union-attr]
    assert detail.title.text().startswith(f"Step {last}")
    _wait_for_frame(qtbot, window, last)
    QTest.keyClick(timeline, Qt.Key.Key_Home)
    QTest.keyClick(timeline, Qt.Key.Key_Up)  # already at the top: stays
    assert view.current_step().number == 1  # type: ignore[union-attr]
    assert detail.thought.toPlainText() == "step 1 of 4"
    _wait_for_frame(qtbot, window, 1)


@pytest.mark.desktop
def test_a_run_still_going_is_followed(qtbot: QtBot, real_runs: RealRuns, tmp_path: Path) -> None:
    source = real_runs.folders["mousepad-note"]
    lines = (source / "events.jsonl").read_text("utf-8").splitlines(keepends=True)
    folder = tmp_path / "runs" / source.name
    (folder / "frames").mkdir(parents=True)
    events = folder / "events.jsonl"
    events.write_text("".join(lines[:9]), "utf-8")  # header .. step 1 observed + decided
    for name in ("step-0001.jpg",):
        shutil.copyfile(source / "frames" / name, folder / "frames" / name)
    window = _window(qtbot, folder, tmp_path / "runs")
    view = window.run_view
    view.timer.setInterval(30)
    assert view.following and view.timer.isActive() and view.model.rowCount() == 1
    _wait_for_frame(qtbot, window, 1)
    assert view.pill.text() == "running"
    with open(events, "a", encoding="utf-8") as log:
        for line in lines[9:]:
            event = json.loads(line)
            if event.get("kind") == "observed":  # the frame is written before its line
                shutil.copyfile(source / event["frame"], folder / event["frame"])
            half = len(line) // 2
            log.write(line[:half])  # a torn line is left for a later poll
            log.flush()
            qtbot.wait(5)
            log.write(line[half:])
            log.flush()
            if event.get("kind") == "step_started":
                qtbot.waitUntil(_rows_reach(view, event["step"]), timeout=3000)
    qtbot.waitUntil(lambda: not view.following, timeout=3000)
    shutil.copyfile(source / "summary.json", folder / "summary.json")  # written last, as a run does
    assert view.model.rowCount() == len(_steps_logged(source))
    assert view.current_step().number == 1  # type: ignore[union-attr]  # selection kept
    assert view.pill.text() == "success" and not view.timer.isActive()
    # The runs list picks the finished status up on its next refresh.
    window.refresh_runs()
    assert [row.status for row in window.runs.rows] == ["success"]


@pytest.mark.desktop
def test_a_500_step_run_opens_quickly_decoding_one_frame(
    qtbot: QtBot, real_runs: RealRuns, tmp_path: Path
) -> None:
    source = real_runs.folders["mousepad-note"]
    folder = tmp_path / "runs" / "20990101-000000.000000-long-run-beef"
    (folder / "frames").mkdir(parents=True)
    frame = source / "frames" / "step-0001.jpg"
    header = {"schema": "shain.runlog", "version": 1, "run_id": folder.name, "task": "long-run"}
    lines = [header, {"kind": "run_started", "task_name": "long-run", "policy": "x", "at": 0.0}]
    for step in range(1, 501):
        name = f"frames/step-{step:04d}.jpg"
        shutil.copyfile(frame, folder / name)
        at = float(step)
        action = {"kind": "click", "x": step, "y": 100 + step}
        lines += [
            {"kind": "step_started", "step": step, "at": at},
            {"kind": "observed", "step": step, "frame": name, "capture_seconds": 0.01, "at": at},
            {"kind": "decided", "step": step, "actions": [action], "thought": f"t{step}",
             "decide_seconds": 0.5, "input_tokens": 100, "output_tokens": 10, "cost_usd": 0.001,
             "raw_reply": "{}", "at": at + 0.5},
            {"kind": "action_executed", "step": step, "action": action, "action_seconds": 0.1,
             "settle_seconds": 0.2, "settled": True, "screen_changed": True, "at": at + 0.8},
        ]  # fmt: skip
    lines.append({"kind": "run_finished", "status": "success", "reason": "ok", "steps": 500,
                  "seconds": 500.0, "exit_code": 0, "at": 501.0})  # fmt: skip
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines), "utf-8")

    started = time.monotonic()
    window = _window(qtbot, folder, tmp_path / "runs")
    _wait_for_frame(qtbot, window, 1)
    qtbot.wait(1)
    seconds = time.monotonic() - started
    assert seconds < 2.0, f"opening a 500-step run took {seconds:.2f}s"
    assert window.run_view.model.rowCount() == 500
    window.loader.wait()
    assert window.loader.decoded == 1
    assert [Path(key).name for key in window.loader.cache_keys] == ["step-0001.jpg"]
    print(f"500-step run opened and showed its first frame in {seconds:.3f}s")


@pytest.mark.desktop
def test_screenshot_of_the_viewer(qtbot: QtBot, real_runs: RealRuns) -> None:
    folder = real_runs.folders["model-with-a-bad-reply"]
    window = _window(qtbot, folder, real_runs.runs_dir)
    window.resize(1600, 1000)
    view = window.run_view
    view.select_row([s.number for s in view.model.steps].index(2))
    _wait_for_frame(qtbot, window, 2)
    qtbot.wait(50)
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "log-viewer.png"))
    window.select_run(real_runs.folders["overlay-shapes"])
    view.select_row(1)  # the drag
    _wait_for_frame(qtbot, window, 2)
    qtbot.wait(50)
    assert window.grab().save(str(ARTIFACTS / "log-viewer-drag.png"))


@pytest.mark.desktop
def test_main_opens_the_run_and_returns_when_the_window_closes(
    qtbot: QtBot, real_runs: RealRuns
) -> None:
    folder = real_runs.folders["overlay-shapes"]
    seen: list[str] = []

    def look_and_close() -> None:
        (window,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, LogViewerWindow)]
        seen.append(window.run_view.title.text())
        window.close()

    QTimer.singleShot(300, look_and_close)
    assert main(folder, real_runs.runs_dir) == 0
    assert seen == ["overlay-shapes"]


def test_every_run_status_has_a_colour_of_its_own() -> None:
    assert set(RUN_STATUS_COLOURS) == set(RunStatus)
    assert {STATUS_COLOURS[status] for status in RunStatus} <= set(RUN_STATUS_COLOURS.values())
    crashed = STATUS_COLOURS[RunStatus.CRASHED]
    assert crashed != NEUTRAL and crashed != STATUS_COLOURS[RunStatus.FAILED]


def test_a_logged_run_shows_its_problems(qtbot: QtBot) -> None:
    folder = fixture_folder()
    window = _window(qtbot, folder, folder.parent)
    view = window.run_view
    assert view.pill.text() == "failed" and not view.following
    assert view.counts.text() == "12 steps, 4 with problems"
    # The log is older than who decided: its column is empty and no step says.
    assert {view.model.index(row, 4).data() for row in range(view.model.rowCount())} == {""}
    assert view.detail.decided.isHidden()
    view.only_problems.setChecked(True)
    kept = [view.filter.index(row, 0).data() for row in range(view.filter.rowCount())]
    assert kept == ["6", "7", "8", "11"]
    assert view.current_step().number == 6  # type: ignore[union-attr]
    assert "not valid JSON" in view.detail.problems.toPlainText()
    view.select_row(1)
    assert "not approved: typing 'sudo'" in view.detail.problems.toPlainText()


@pytest.mark.desktop
def test_each_step_says_who_decided_it(qtbot: QtBot, decided_three_ways: Path) -> None:
    window = _window(qtbot, decided_three_ways, decided_three_ways.parent)
    view = window.run_view
    model = view.model
    assert model.headerData(4, Qt.Orientation.Horizontal) == "By"
    shown = [(int(model.index(r, 0).data()), model.index(r, 4).data()) for r in range(len(DECIDED))]
    assert shown == DECIDED
    assert view.counts.text() == "7 steps · 3 script, 2 healed, 2 model"
    tooltip = model.index(3, 4).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip == f"healed: the model did {HOW}"
    view.select_row(3)  # step 4: the model clicked "Submit" in the click on "Send"'s place
    decided = view.detail.decided
    assert not decided.isHidden() and decided.text() == f"Decided by: healed: the model did {HOW}"
    assert decided.toolTip().startswith("nothing on the screen matches")
    view.select_row(1)
    assert decided.text() == "Decided by: model"
    view.select_row(0)
    assert decided.text() == "Decided by: script"
