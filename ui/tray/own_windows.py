"""Keeps ExcludedRegions up to date with where Shain's own windows are on the screen, so the
agent's captures paint them over and its actions never land on them."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from agent.desktop.exclusions import ExcludedRegions
from agent.geometry import Box

_GEOMETRY_EVENTS = {QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Hide}


class OwnWindowTracker(QObject):
    """An event filter: a tracked window's frame on screen is an excluded region while shown."""

    def __init__(self, excluded: ExcludedRegions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.excluded = excluded

    def track(self, window: QWidget, name: str) -> None:
        window.setProperty("shain_region", name)
        window.installEventFilter(self)
        window.destroyed.connect(lambda: self.excluded.set(name, None))
        self._update(window)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(watched, QWidget) and event.type() in _GEOMETRY_EVENTS:
            self._update(watched, hidden=event.type() == QEvent.Type.Hide)
        return False

    def _update(self, window: QWidget, hidden: bool = False) -> None:
        name = str(window.property("shain_region"))
        if hidden or not window.isVisible():
            self.excluded.set(name, None)
            return
        frame = window.frameGeometry()  # with the window manager's title bar
        ratio = window.devicePixelRatioF()  # capture pixels per Qt point on HiDPI screens
        self.excluded.set(
            name,
            Box(
                round(frame.x() * ratio),
                round(frame.y() * ratio),
                round(frame.width() * ratio),
                round(frame.height() * ratio),
            ),
        )
