"""The tray's stand-in where there is no system tray: a small always-on-top window with the
same actions, the state icon and text, and the queue."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.tray.queue import ID_ROLE, TaskQueue

WHY = (
    "There is no system tray on this desktop (no tray host is running), so Shain shows this "
    "window instead."
)


class ControlWindow(QWidget):
    def __init__(self, actions: Sequence[QAction], queue: TaskQueue) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle("Shain")
        self.queue = queue
        self.icon = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.why = QLabel(WHY)
        self.why.setWordWrap(True)
        self.why.setStyleSheet("color: #666")
        self.message = QLabel()  # the last notification
        self.message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.icon)
        top.addWidget(self.status, 1)
        buttons = QHBoxLayout()
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        self.list = QListView()
        self.list.setModel(queue)
        self.list.setMaximumHeight(110)
        self.remove = QPushButton("Remove from the queue")
        self.remove.clicked.connect(self._remove_selected)
        layout = QVBoxLayout(self)
        layout.addWidget(self.why)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Queue"))
        layout.addWidget(self.list)
        layout.addWidget(self.remove)
        layout.addWidget(self.message)

    def show_state(self, icon: QIcon, text: str) -> None:
        self.icon.setPixmap(icon.pixmap(32, 32))
        self.status.setText(text)
        self.setWindowIcon(icon)

    def notify(self, title: str, text: str) -> None:
        self.message.setText(f"{title}: {text}")

    def _remove_selected(self) -> None:
        index = self.list.currentIndex()
        if index.isValid():
            self.queue.remove(int(index.data(ID_ROLE)))
