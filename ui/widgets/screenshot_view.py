"""A widget showing one step's screenshot with its action drawn on it, scaled to fit."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from agent.report.overlays import Overlay
from ui.widgets.overlay_painter import render_annotated

BACKGROUND = QColor("#f6f8fa")
FRAME_BORDER = QColor("#d0d7de")
PADDING = 8


class ScreenshotView(QWidget):
    """Paints the annotated frame centred; the scaled rendering is cached per widget size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._overlays: tuple[Overlay, ...] = ()
        self._message = "No step selected"
        self._rendered: QImage | None = None

    @property
    def image(self) -> QImage | None:
        return self._image

    @property
    def overlays(self) -> tuple[Overlay, ...]:
        return self._overlays

    def show_frame(self, image: QImage | None, overlays: Sequence[Overlay], message: str) -> None:
        """Show `image` with `overlays`; without an image, `message` in its place."""
        self._image = image
        self._overlays = tuple(overlays)
        self._message = message
        self._rendered = None
        self.update()

    def rendered(self) -> QImage | None:
        """The frame as painted now: scaled to fit, overlays drawn (None without a frame)."""
        if self._image is None or self._image.isNull():
            return None
        area = QSize(max(1, self.width() - 2 * PADDING), max(1, self.height() - 2 * PADDING))
        if self._rendered is None:  # dropped on every new frame and every resize
            self._rendered = render_annotated(self._image, self._overlays, area)
        return self._rendered

    def frame_rect(self) -> QRectF:
        """Where the frame is painted in the widget."""
        rendered = self.rendered()
        if rendered is None:
            return QRectF()
        left = (self.width() - rendered.width()) / 2
        top = (self.height() - rendered.height()) / 2
        return QRectF(QPointF(left, top), QSize(rendered.width(), rendered.height()).toSizeF())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._rendered = None
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            rendered = self.rendered()
            if rendered is None:
                painter.setPen(QColor("#57606a"))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
                return
            target = self.frame_rect()
            painter.drawImage(target.topLeft(), rendered)
            painter.setPen(QPen(FRAME_BORDER, 1))
            painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
        finally:
            painter.end()
