"""Shain's own windows become excluded regions while they are on the screen."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from agent.desktop.exclusions import ExcludedRegions
from agent.geometry import Box, Point
from ui.tray.own_windows import OwnWindowTracker


def test_a_tracked_window_is_excluded_while_shown(qtbot: QtBot) -> None:
    excluded = ExcludedRegions()
    tracker = OwnWindowTracker(excluded)
    window = QWidget()
    qtbot.addWidget(window)
    window.setGeometry(300, 200, 400, 250)
    tracker.track(window, "progress")
    assert excluded.boxes() == ()  # not shown yet
    window.show()
    qtbot.waitUntil(lambda: excluded.boxes() != ())
    (box,) = excluded.boxes()
    assert box.contains(Point(310, 210)) and not box.contains(Point(100, 100))
    window.move(600, 400)
    qtbot.waitUntil(lambda: excluded.covering(Point(610, 410)) is not None)
    assert excluded.covering(Point(310, 210)) is None
    window.hide()
    qtbot.waitUntil(lambda: excluded.boxes() == ())


def test_the_tray_app_excludes_its_progress_window(qtbot: QtBot, tmp_path: object) -> None:
    from pathlib import Path

    from ui.tray.app import TrayApp

    app = TrayApp(Path(str(tmp_path)) / "runs", use_tray=False)
    assert app.window is not None
    qtbot.addWidget(app.window)
    qtbot.addWidget(app.progress)
    app.progress.setGeometry(50, 60, 500, 300)
    app.open_progress()
    qtbot.waitUntil(lambda: app.excluded.covering(Point(60, 70)) is not None)
    assert isinstance(app.excluded.boxes()[0], Box)
    app.progress.hide()
    qtbot.waitUntil(lambda: app.excluded.boxes() == ())
