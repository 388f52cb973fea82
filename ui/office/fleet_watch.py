"""Watching a fleet run: its latest frame as large as the window lets it be, at the rate the
fleet sends them (at most 2 a second, through Redis), a line saying what it is doing, and Stop.

View only: the run is on a worker's screen on another machine, and the office has no control
channel to it, so there is no Pause and no take-over (`shain watch` on the worker's machine
has them)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from agent.record.formatting import duration_text
from ui.office.fleet_runs import FleetEmployee
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.panels import heading
from ui.widgets.style import STYLE_SHEET, employee_pill_style


class FleetWatchWindow(QWidget):
    def __init__(self, employee: FleetEmployee, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.employee = employee
        self.setWindowTitle(f"Shain — watching {employee.label} on the fleet")
        self.setObjectName("page")
        self.setStyleSheet(STYLE_SHEET)
        top, self.title, self.pill = heading(employee.label)
        self.state_line = ElidedLabel("")
        self.state_line.setObjectName("subtle")
        self.picture = QLabel("Waiting for a frame from the fleet…")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(320, 180)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.clicked.connect(employee.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("View only: a fleet run cannot be taken over from here"))
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.state_line)
        layout.addWidget(self.picture, 1)
        layout.addLayout(buttons)
        self.resize(1000, 640)
        self.frame: QImage | None = None
        employee.picture_changed.connect(self._frame)
        employee.changed.connect(self._refresh)
        if employee.picture is not None:
            self._frame(employee.picture)
        self._refresh()

    def _frame(self, image: QImage) -> None:
        self.frame = image
        self._show_frame()

    def _show_frame(self) -> None:
        if self.frame is not None:
            size = self.picture.size()
            self.picture.setPixmap(
                QPixmap.fromImage(self.frame).scaled(
                    size,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_frame()

    def _refresh(self) -> None:
        employee = self.employee
        self.pill.setText(employee.state)
        self.pill.setStyleSheet(employee_pill_style(employee.state))
        self.pill.show()
        parts = [employee.name, f"step {employee.step}", duration_text(employee.seconds)]
        if employee.detail:
            parts.append(employee.detail)
        self.state_line.setText(" · ".join(parts))
        self.stop_button.setEnabled(not employee.is_over and not employee.stopping)
