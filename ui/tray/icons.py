"""The tray icons, drawn with QPainter: each state has its own colour and its own shape."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap, QPolygonF

from ui.tray.state import TrayState

COLOURS = {
    TrayState.IDLE: QColor("#8a8f98"),
    TrayState.WORKING: QColor("#2e9e4f"),
    TrayState.PAUSED: QColor("#e0a100"),
    TrayState.NEEDS_APPROVAL: QColor("#2f6fde"),
    TrayState.FAILED: QColor("#d33a2c"),
}
WHITE = QColor("#ffffff")


def _badge(painter: QPainter, state: TrayState, s: float) -> None:
    """The background shape: circles for idle and working, other shapes for the rest."""
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(COLOURS[state])
    box = QRectF(s * 0.06, s * 0.06, s * 0.88, s * 0.88)
    if state is TrayState.PAUSED:
        painter.drawRoundedRect(box, s * 0.2, s * 0.2)
    elif state is TrayState.NEEDS_APPROVAL:
        c = s / 2
        diamond = [QPointF(c, s * 0.02), QPointF(s * 0.98, c), QPointF(c, s * 0.98)]
        painter.drawPolygon(QPolygonF([*diamond, QPointF(s * 0.02, c)]))
    else:
        painter.drawEllipse(box)


def _mark(painter: QPainter, state: TrayState, s: float) -> None:
    """The white mark inside: none, a play triangle, two bars, "!", "×"."""
    painter.setBrush(WHITE)
    painter.setPen(Qt.PenStyle.NoPen)
    match state:
        case TrayState.IDLE:
            painter.setBrush(QColor("#d9dce1"))
            painter.drawEllipse(QRectF(s * 0.3, s * 0.3, s * 0.4, s * 0.4))
        case TrayState.WORKING:
            points = [QPointF(s * 0.38, s * 0.27), QPointF(s * 0.74, s * 0.5)]
            painter.drawPolygon(QPolygonF([*points, QPointF(s * 0.38, s * 0.73)]))
        case TrayState.PAUSED:
            painter.drawRect(QRectF(s * 0.3, s * 0.26, s * 0.14, s * 0.48))
            painter.drawRect(QRectF(s * 0.56, s * 0.26, s * 0.14, s * 0.48))
        case TrayState.NEEDS_APPROVAL:
            painter.drawRect(QRectF(s * 0.44, s * 0.22, s * 0.12, s * 0.36))
            painter.drawEllipse(QRectF(s * 0.43, s * 0.64, s * 0.14, s * 0.14))
        case TrayState.FAILED:
            pen = QPen(WHITE, s * 0.13, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawLine(QPointF(s * 0.32, s * 0.32), QPointF(s * 0.68, s * 0.68))
            painter.drawLine(QPointF(s * 0.68, s * 0.32), QPointF(s * 0.32, s * 0.68))


def render_icon(state: TrayState, size: int = 64) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _badge(painter, state, float(size))
    _mark(painter, state, float(size))
    painter.end()
    return image


def state_icon(state: TrayState) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        icon.addPixmap(QPixmap.fromImage(render_icon(state, size)))
    return icon
