"""The tray and the office with a fleet: real Qt (offscreen), a real redis-server and a real
`shain worker` whose runs are real `shain run --virtual-display` processes. A task sent to the
fleet from New task…, as the boss sends it, gets a card with live pictures of the run's screen
and ends as the run did; Stop on a fleet card stops the run."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialogButtonBox, QRadioButton
from pytestqt.qtbot import QtBot

from agent.config.profiles import Config, FleetSettings
from agent.geometry import Size
from agent.record.log import read_run
from tests.fleet.servers import RedisServer, Worker, free_port
from tests.helpers import ARTIFACTS
from ui.office.employee_card import EmployeeCard
from ui.office.fleet_runs import FleetEmployee
from ui.office.fleet_watch import FleetWatchWindow
from ui.office.office import DONE, STOPPED, WORKING
from ui.tray.app import TrayApp
from ui.tray.task_dialog import TaskDialog

pytestmark = [pytest.mark.desktop, pytest.mark.slow]

TYPES = """\
name: fleet-office-types
goal: Type a few lines into a terminal.
setup:
  - launch: {command: "xterm -title fleet-office -geometry 100x30+0+0", window: 20}
steps:
  - type: "echo one\\n"
  - wait: 1
  - type: "echo two two two two two two two two\\n"
  - wait: 1
  - type: "seq 1 40\\n"
  - wait: 1.5
checks:
  - command: {run: "true"}
"""
LONG = """\
name: fleet-office-long
goal: Press a key, then wait a long time.
steps:
  - key: shift
  - wait: 120
"""


@pytest.fixture(scope="module")
def fleet(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """One worker for the module's cases: (its broker, its runs folder)."""
    folder = tmp_path_factory.mktemp("office-fleet")
    broker = redis_server.url(0)
    worker = Worker(broker, folder / "runs", folder / "worker.log", name="office-fleet")
    yield broker, folder / "runs"
    worker.close()


@pytest.fixture
def tray(qtbot: QtBot, fleet: tuple[str, Path], tmp_path: Path) -> Iterator[TrayApp]:
    broker, _ = fleet
    app = TrayApp(
        tmp_path / "runs", use_tray=False, config=Config(fleet=FleetSettings(broker=broker))
    )
    assert app.window is not None and app.fleet is not None
    qtbot.addWidget(app.window)
    qtbot.addWidget(app.office_window)
    qtbot.waitUntil(lambda: app.fleet is not None and app.fleet.reachable, timeout=10_000)
    app.open_office()
    yield app
    app.fleet.close()
    app.office_window.shut()


def send_to_the_fleet(qtbot: QtBot, app: TrayApp, task: Path) -> FleetEmployee:
    """New task…, a task file, On the fleet, OK, as the boss does it; the card that comes."""
    app.ask_for_task()
    dialog = app._windows[-1]
    assert isinstance(dialog, TaskDialog)
    choose(qtbot, dialog.by_file)
    qtbot.keyClicks(dialog.path, str(task))
    assert dialog.placement.on_fleet.isVisible()
    choose(qtbot, dialog.placement.on_fleet)
    assert not dialog.profile.isEnabled()  # the worker's own configuration decides
    buttons = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.problem.text()
    cards = app.office_window.cards
    qtbot.waitUntil(lambda: any(str(key).startswith("fleet:") for key in cards), timeout=10_000)
    employee = next(card.employee for card in cards.values())
    assert isinstance(employee, FleetEmployee)
    return employee


def choose(qtbot: QtBot, radio: QRadioButton) -> None:
    """Click the radio button on its round button (the widget may be wider than its text)."""
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert radio.isChecked(), radio.text()


def card(app: TrayApp, employee: FleetEmployee) -> EmployeeCard:
    found = app.office_window.card_of(employee)
    assert found is not None
    return found


def grey(image: QImage, size: tuple[int, int] = (96, 54)) -> np.ndarray:
    """The image as small grey pixels, to compare pictures by."""
    small = image.convertToFormat(QImage.Format.Format_Grayscale8).scaled(
        size[0], size[1], Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )  # fmt: skip
    pixels = np.frombuffer(small.constBits(), dtype=np.uint8, count=small.sizeInBytes())
    return pixels.reshape(size[1], small.bytesPerLine())[:, : size[0]].astype(int)


def test_a_task_sent_to_the_fleet_from_the_tray_shows_its_screen_live_and_ends_as_the_run(
    qtbot: QtBot, tray: TrayApp, tmp_path: Path
) -> None:
    task = tmp_path / "types.yaml"
    task.write_text(TYPES, encoding="utf-8")

    employee = send_to_the_fleet(qtbot, tray, task)

    shown = card(tray, employee)
    assert employee.label == "fleet-office-types"
    pictures: list[np.ndarray] = []

    def another_picture() -> bool:
        if employee.picture is not None:
            picture = grey(employee.picture, (480, 270))
            if not pictures or (np.abs(picture - pictures[-1]) > 40).sum() > 20:
                pictures.append(picture)
        return len(pictures) >= 3

    qtbot.waitUntil(another_picture, timeout=60_000)  # the terminal's lines as they come
    assert employee.screen == Size(1920, 1080)  # a frame of the run's own screen
    assert pictures[-1].std() > 5, "a blank picture"  # (the first may be, before the app)
    assert shown.latest_picture is not None and not shown.picture.pixmap().isNull()
    assert employee.state in (WORKING, DONE)
    assert shown.who.text() == "Fleet · office-fleet"  # the worker that has it
    qtbot.mouseClick(shown.watch, Qt.MouseButton.LeftButton)
    watching = tray.office_window._windows[-1]
    assert isinstance(watching, FleetWatchWindow)  # view only: no take-over, no pause
    qtbot.addWidget(watching)
    qtbot.waitUntil(lambda: not watching.picture.pixmap().isNull(), timeout=5_000)
    ARTIFACTS.mkdir(exist_ok=True)
    tray.office_window.grab().save(str(ARTIFACTS / "office-fleet-card.png"))
    qtbot.waitUntil(lambda: employee.is_over, timeout=60_000)
    assert employee.state == DONE, employee.detail
    assert shown.state.text() == DONE
    run = read_run(Path(employee.record.run_folder))
    assert run.status == "success" and run.summary is not None
    assert employee.detail == run.summary["reason"]
    assert shown.report.isVisible() and shown.report.isEnabled()  # its folder is reachable
    # The last picture is the screen the run ended on: its own last frame, as it recorded it.
    last_step = sorted((Path(employee.record.run_folder) / "frames").glob("step-*.jpg"))[-1]
    recorded = grey(QImage(str(last_step)))
    assert employee.picture is not None
    assert np.abs(grey(employee.picture) - recorded).mean() < 12


def test_stop_on_a_fleet_card_stops_the_run(qtbot: QtBot, tray: TrayApp, tmp_path: Path) -> None:
    task = tmp_path / "long.yaml"
    task.write_text(LONG, encoding="utf-8")
    employee = send_to_the_fleet(qtbot, tray, task)
    shown = card(tray, employee)
    qtbot.waitUntil(lambda: employee.state == WORKING and employee.step >= 2, timeout=60_000)

    qtbot.mouseClick(shown.stop, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: employee.is_over, timeout=30_000)
    assert employee.state == STOPPED, employee.detail
    assert shown.state.text() == STOPPED and not shown.stop.isEnabled()
    assert "stopped by the boss (the office)" in employee.detail
    assert read_run(Path(employee.record.run_folder)).status == "stopped"


def test_without_a_broker_the_tray_shows_nothing_of_the_fleet_and_an_unreachable_one_is_named(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHAIN_BROKER", raising=False)
    plain = TrayApp(tmp_path / "runs", use_tray=False, config=Config())
    assert plain.window is not None and plain.fleet is None
    qtbot.addWidget(plain.window)
    plain.ask_for_task()
    dialog = plain._windows[-1]
    assert isinstance(dialog, TaskDialog)
    qtbot.addWidget(dialog)
    assert not dialog.placement.on_fleet.isVisible()
    assert "fleet" not in plain.office_window.summary.text()

    nowhere = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    app = TrayApp(
        tmp_path / "runs", use_tray=False, config=Config(fleet=FleetSettings(broker=nowhere))
    )
    assert app.window is not None and app.fleet is not None
    qtbot.addWidget(app.window)
    qtbot.waitUntil(lambda: "cannot reach" in app.office_window.summary.text(), timeout=10_000)
    summary = app.office_window.summary.text()
    assert "redis://:***@127.0.0.1" in summary and "hunter2" not in summary
    app.ask_for_task()
    dialog = app._windows[-1]
    assert isinstance(dialog, TaskDialog)
    qtbot.addWidget(dialog)
    assert not dialog.placement.on_fleet.isVisible()  # offered only when the broker answers
    app.fleet.close()
