"""One employee's card in the office: its task, state, step, time, tokens and cost, a live
picture of its screen, and what the boss can do: Pause, Stop, Watch; once it has ended, open
its report, its run in the viewer, or its shared folder, and close the card.

A fleet run's card (ui/office/fleet_runs.py) is the same card: its picture is the latest frame
the fleet sent through Redis, it has no Pause, and Watch is read-only."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from agent.desktop.screen import Screen
from agent.record.formatting import duration_text
from ui.office.fleet_runs import FleetEmployee
from ui.office.office import ENDED, PAUSED, TAKEN_OVER, Employee
from ui.office.screen_feed import ScreenFeed
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.style import cost_text, employee_pill_style, tokens_text

THUMBNAIL_SIZE = QSize(320, 180)
THUMBNAIL_FPS = 1.0

Staff = Employee | FleetEmployee  # a card's employee: local, or a fleet run


class EmployeeCard(QFrame):
    watch_requested = Signal(object)  # Employee
    report_requested = Signal(object)
    viewer_requested = Signal(object)
    folder_requested = Signal(object)
    close_requested = Signal(object)
    picture_changed = Signal(QImage)

    def __init__(self, employee: Staff, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.employee = employee
        self.setObjectName("employeeCard")
        self.setFixedWidth(THUMBNAIL_SIZE.width() + 40)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "QFrame#employeeCard { border: 1px solid #d0d7de; border-radius: 8px;"
            " background: #ffffff; }"
        )
        self.title = ElidedLabel(employee.label)
        self.title.setObjectName("title")
        self.who = QLabel(employee.name)
        self.who.setObjectName("subtle")
        self.state = QLabel()
        self.state.setObjectName("pill")
        self.state.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.facts = QLabel()
        self.facts.setObjectName("subtle")
        self.detail = ElidedLabel("")
        self.detail.setObjectName("subtle")
        self.picture = QLabel("starting…")
        self.picture.setFixedSize(THUMBNAIL_SIZE)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #f6f8fa; border-radius: 4px; color: #57606a;")

        self.pause = self._button("Pause", self._pause_or_resume)
        self.stop = self._button("Stop", employee.stop)
        self.watch = self._button("Watch", lambda: self.watch_requested.emit(employee))
        self.report = self._button("Report", lambda: self.report_requested.emit(employee))
        self.viewer = self._button("Viewer", lambda: self.viewer_requested.emit(employee))
        self.folder = self._button("Folder", lambda: self.folder_requested.emit(employee))
        self.close_card = self._button("Close", lambda: self.close_requested.emit(employee))

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.state)
        working = QHBoxLayout()
        for button in (self.pause, self.stop, self.watch):
            working.addWidget(button)
        ended = QHBoxLayout()
        for button in (self.report, self.viewer, self.folder, self.close_card):
            ended.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.who)
        layout.addWidget(self.picture)
        layout.addWidget(self.facts)
        layout.addWidget(self.detail)
        layout.addLayout(working)
        layout.addLayout(ended)
        self.feed: ScreenFeed | None = None  # a picture of its screen about once a second
        self.latest_picture: QImage | None = None
        if isinstance(employee, FleetEmployee):
            self.pause.hide()  # the fleet has no pause: Stop, and watching
            self.watch.setText("Watch (view only)")
            employee.picture_changed.connect(self.show_picture)
        employee.changed.connect(self.refresh)
        self.refresh()

    def watch_screen(self, display: str) -> None:
        if self.feed is not None:
            return
        self.feed = ScreenFeed(Screen(display), THUMBNAIL_FPS, self)
        self.feed.set_target_size(THUMBNAIL_SIZE)
        self.feed.frame_ready.connect(self._new_picture)
        self.feed.start()

    def stop_watching_screen(self) -> None:
        if self.feed is not None:
            self.feed.stop()
            self.feed = None

    def _new_picture(self) -> None:
        frame = self.feed.take_frame() if self.feed is not None else None
        if frame is not None:
            self.show_picture(frame.image)

    def show_picture(self, image: QImage) -> None:
        if image.size() != THUMBNAIL_SIZE:
            image = image.scaled(
                THUMBNAIL_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.latest_picture = image
        self.picture.setPixmap(QPixmap.fromImage(image))
        self.picture_changed.emit(image)

    def _button(self, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        return button

    def _pause_or_resume(self) -> None:
        employee = self.employee
        if isinstance(employee, Employee):
            employee.resume() if employee.state == PAUSED else employee.pause()

    def refresh(self) -> None:
        employee = self.employee
        self.who.setText(employee.name)  # a fleet run's: its worker, once one has it
        self.state.setText(employee.state)
        self.state.setStyleSheet(employee_pill_style(employee.state))
        self.state.adjustSize()
        totals = employee.fold.totals
        facts = [f"step {employee.step}", duration_text(employee.seconds)]
        if totals.tokens:
            facts += [f"{tokens_text(totals.tokens)} tokens", cost_text(totals.cost_usd)]
        self.facts.setText(" · ".join(facts))
        self.detail.setText(employee.detail)
        self.detail.setToolTip(employee.detail)
        over = employee.state in ENDED
        self.pause.setText("Resume" if employee.state == PAUSED else "Pause")
        self.pause.setEnabled(
            not over and employee.state != TAKEN_OVER and employee.hello is not None
        )
        self.stop.setEnabled(not over)
        watchable = (
            employee.picture is not None
            if isinstance(employee, FleetEmployee)
            else (employee.display is not None)
        )
        self.watch.setEnabled(not over and watchable)
        for button in (self.report, self.viewer):
            button.setVisible(over)
            button.setEnabled(employee.run_folder is not None)
        self.folder.setVisible(over)
        self.close_card.setVisible(over)
