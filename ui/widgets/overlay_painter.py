"""Drawing a step's action over its screenshot with QPainter, from agent.report.overlays.

Overlays are in screen pixels, which are frame pixels; the screenshot is drawn at `scale`, so
each point is multiplied by it. Strokes and labels keep their size in view pixels, so they
stay readable however small the screenshot is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from agent.report.overlays import Arrow, Caption, Marker, Overlay, Trail
from ui.widgets.style import CAPTION_BACKGROUND, MARKER_COLOUR, OUTLINE_COLOUR

RING_RADIUS = 15.0
DOT_RADIUS = 4.5
LINE_WIDTH = 3.0
OUTLINE_WIDTH = 6.0
SCROLL_STEP = 14.0  # view pixels of arrow per wheel click
MARGIN = 10.0


def fit_scale(image: QSize, area: QSize) -> float:
    """The scale that fits `image` inside `area`, keeping its aspect ratio (never above 1)."""
    if image.isEmpty() or area.isEmpty():
        return 1.0
    return min(area.width() / image.width(), area.height() / image.height(), 1.0)


def render_annotated(image: QImage, overlays: Sequence[Overlay], area: QSize) -> QImage:
    """The screenshot scaled to fit `area`, with the overlays drawn on it."""
    scale = fit_scale(image.size(), area)
    width = max(1, round(image.width() * scale))
    height = max(1, round(image.height() * scale))
    result = image.scaled(
        width,
        height,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    ).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(result)
    try:
        paint_overlays(painter, overlays, width / image.width(), QRectF(0, 0, width, height))
    finally:
        painter.end()
    return result


def paint_overlays(
    painter: QPainter, overlays: Sequence[Overlay], scale: float, area: QRectF
) -> None:
    """Draw `overlays` (in frame pixels) onto `area`, where the frame is shown at `scale`."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(painter.font())
    font.setPointSizeF(9.5)
    font.setBold(True)
    painter.setFont(font)
    captions: list[str] = []
    for overlay in overlays:
        match overlay:
            case Marker(at=at, label=label):
                point = _at(area, scale, at.x, at.y)
                _marker(painter, point)
                _label(painter, point, label.strip(), area)
            case Trail(points=points):
                _trail(painter, [_at(area, scale, p.x, p.y) for p in points])
            case Arrow(at=at, dx=dx, dy=dy):
                point = _at(area, scale, at.x, at.y)
                _scroll(painter, point, dx, dy)
                _label(painter, point, _scroll_text(dx, dy), area)
            case Caption(text=text):
                captions.append(text)
    _captions(painter, captions, area)
    painter.restore()


def _at(area: QRectF, scale: float, x: float, y: float) -> QPointF:
    # +0.5: the centre of the frame pixel, wherever it lands in the view.
    return QPointF(area.left() + (x + 0.5) * scale, area.top() + (y + 0.5) * scale)


def _stroke(painter: QPainter, path: QPainterPath) -> None:
    """A path in the marker colour over a wider white outline, visible on light and dark."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for colour, width in ((OUTLINE_COLOUR, OUTLINE_WIDTH), (MARKER_COLOUR, LINE_WIDTH)):
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawPath(path)


def _dot(painter: QPainter, point: QPointF, radius: float = DOT_RADIUS) -> None:
    painter.setPen(QPen(OUTLINE_COLOUR, 1.5))
    painter.setBrush(QBrush(MARKER_COLOUR))
    painter.drawEllipse(point, radius, radius)


def _marker(painter: QPainter, point: QPointF) -> None:
    ring = QPainterPath()
    ring.addEllipse(point, RING_RADIUS, RING_RADIUS)
    _stroke(painter, ring)
    _dot(painter, point)


def _arrow_head(path: QPainterPath, tip: QPointF, angle: float, size: float = 11.0) -> None:
    for side in (-0.45, 0.45):
        path.moveTo(tip)
        path.lineTo(
            tip.x() - size * math.cos(angle + side), tip.y() - size * math.sin(angle + side)
        )


def _trail(painter: QPainter, points: list[QPointF]) -> None:
    if len(points) < 2:
        return
    path = QPainterPath(points[0])
    for point in points[1:]:
        path.lineTo(point)
    before, tip = points[-2], points[-1]
    _arrow_head(path, tip, math.atan2(tip.y() - before.y(), tip.x() - before.x()))
    _stroke(painter, path)
    _dot(painter, points[0])


def _scroll(painter: QPainter, point: QPointF, dx: int, dy: int) -> None:
    clicks = math.hypot(dx, dy)
    if clicks == 0:
        _marker(painter, point)
        return
    length = min(30.0 + SCROLL_STEP * clicks, 140.0)
    angle = math.atan2(dy, dx)
    tip = QPointF(point.x() + length * math.cos(angle), point.y() + length * math.sin(angle))
    path = QPainterPath(point)
    path.lineTo(tip)
    _arrow_head(path, tip, angle, 14.0)
    _stroke(painter, path)
    _dot(painter, point)


def _scroll_text(dx: int, dy: int) -> str:
    parts = []
    if dy:
        parts.append(f"{'down' if dy > 0 else 'up'} {abs(dy)}")
    if dx:
        parts.append(f"{'right' if dx > 0 else 'left'} {abs(dx)}")
    return "scroll " + (", ".join(parts) or "0")


def _label(painter: QPainter, point: QPointF, text: str, area: QRectF) -> None:
    if not text:
        return
    metrics = QFontMetricsF(painter.font())
    box = QRectF(0, 0, metrics.horizontalAdvance(text) + 14, metrics.height() + 6)
    box.moveTopLeft(QPointF(point.x() + RING_RADIUS + 6, point.y() - box.height() / 2))
    if box.right() > area.right() - 2:  # no room on the right: put it on the left
        box.moveRight(point.x() - RING_RADIUS - 6)
    box.moveTop(min(max(box.top(), area.top() + 2), area.bottom() - box.height() - 2))
    _bubble(painter, box, text)


def _bubble(painter: QPainter, box: QRectF, text: str) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(CAPTION_BACKGROUND))
    painter.drawRoundedRect(box, 5, 5)
    painter.setPen(QPen(Qt.GlobalColor.white))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _captions(painter: QPainter, captions: list[str], area: QRectF) -> None:
    metrics = QFontMetricsF(painter.font())
    bottom = area.bottom() - MARGIN
    for text in reversed(captions):
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width() - 4 * MARGIN)
        box = QRectF(0, 0, metrics.horizontalAdvance(shown) + 20, metrics.height() + 10)
        box.moveBottomLeft(QPointF(area.left() + MARGIN, bottom))
        _bubble(painter, box, shown)
        bottom = box.top() - 6
