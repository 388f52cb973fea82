"""An employee's screen, live: the picture, the employee's last action drawn on it, and, while
the boss has taken the screen over, the boss's mouse and keys acting on it.

Frames come from a ScreenFeed (grabbed and scaled on its own thread); input goes out through
an InputForwarder (XTest on its own thread): the GUI thread never waits for the employee's
X server. The screen is shown whole, scaled to fit and never enlarged; `to_screen` and
`to_widget` map between a point of this widget and a pixel of the employee's screen, and the
mapping depends only on the widget's size and the screen's, never on which frame is shown.

Outside take-over the view only shows: it takes no focus and sends nothing.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QInputMethodEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from agent.desktop.screen import Screen
from agent.geometry import Point, Size
from agent.report.overlays import Caption, Overlay
from ui.office.boss_keys import KeyCombination, TypedText, boss_key, modifier_names
from ui.office.input_forwarder import InputForwarder
from ui.office.screen_feed import ScreenFeed
from ui.widgets.overlay_painter import fit_scale, paint_overlays

WATCH_FPS = 5.0
# Faster while the boss acts: the picture is how the boss sees their own clicks and keys.
TAKE_OVER_FPS = 15.0
PADDING = 4
BACKGROUND = QColor("#1f2328")
MESSAGE_COLOUR = QColor("#d0d7de")
TAKE_OVER_COLOUR = QColor("#bf8700")
TAKE_OVER_BORDER = 3.0
LOST_WASH = QColor(31, 35, 40, 150)
LOST_MESSAGE = "The employee's screen has closed"
WAITING_MESSAGE = "Waiting for the employee's screen…"
WHEEL_NOTCH = 120  # Qt's angle delta of one wheel click
TAB_KEYS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
# Qt's mouse buttons -> X's button numbers (8 and 9: back and forward).
X_BUTTONS = {
    Qt.MouseButton.LeftButton: 1,
    Qt.MouseButton.MiddleButton: 2,
    Qt.MouseButton.RightButton: 3,
    Qt.MouseButton.BackButton: 8,
    Qt.MouseButton.ForwardButton: 9,
}


class LiveView(QWidget):
    """The live screen of `screen` (its display and size must be known). `start()` begins
    the frames; `begin_take_over()` / `end_take_over()` switch the boss's input on and off."""

    frame_shown = Signal(object)  # the FeedFrame now shown
    input_failed = Signal(str)  # a click or key that could not be sent, and why
    screen_lost = Signal(str)  # the screen cannot be read any more (its run ended)

    def __init__(
        self, screen: Screen, *, fps: float = WATCH_FPS, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        # First: Qt calls event() from here on (a child added, a style polished).
        self._forwarder: InputForwarder | None = None
        if screen.display is None or screen.size is None:
            raise ValueError("a live view needs an X screen of known size")
        self.employee_screen = screen  # (QWidget.screen is Qt's monitor)
        self.screen_size: Size = screen.size
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._watch_fps = fps
        self._feed = ScreenFeed(screen, fps, self)
        self._feed.frame_ready.connect(self._take_frame)
        self._feed.failed.connect(self._lose_screen)
        self._image: QImage | None = None  # the newest frame, scaled to the view
        self._overlays: tuple[Overlay, ...] = ()
        self._lost = ""
        self._finishing: list[InputForwarder] = []
        self._buttons: set[int] = set()  # X buttons the boss holds down on the screen
        self._wheel = QPointF()  # wheel turns not yet a whole click
        self._preedit = ""  # what the boss's input method is composing
        self._pointer = QPointF()
        self.frames_shown = 0

    # --- frames ---------------------------------------------------------------------------

    def start(self) -> None:
        self._update_target()
        self._feed.start()

    def stop(self) -> None:
        """Stop the frames and any take-over (its input is let go on its own thread)."""
        self._feed.stop()
        self.end_take_over()

    def wait_stopped(self, timeout: float = 2.0) -> bool:
        """Wait for the frame thread and any input still being let go (at exit, in tests)."""
        done = self._feed.wait(timeout)
        return all([done, *(forwarder.wait(timeout) for forwarder in self._finishing)])

    @property
    def fps(self) -> float:
        """Frames a second, now."""
        return self._feed.fps

    @fps.setter
    def fps(self, value: float) -> None:
        """The watching rate (a take-over goes faster while it lasts)."""
        self._watch_fps = value
        if self._forwarder is None:
            self._feed.fps = value

    @property
    def lost(self) -> str:
        """Why the screen cannot be read any more; empty while it can."""
        return self._lost

    @property
    def overlays(self) -> tuple[Overlay, ...]:
        return self._overlays

    def show_overlays(self, overlays: Sequence[Overlay]) -> None:
        """Draw these (in screen pixels) over the picture: the employee's last action."""
        self._overlays = tuple(overlays)
        self.update()

    def _take_frame(self) -> None:
        frame = self._feed.take_frame()
        if frame is None:
            return
        if frame.screen_size != self.screen_size:
            self.screen_size = frame.screen_size  # the screen was resized
            self._update_target()
        self._image = frame.image
        self._image.setDevicePixelRatio(self.devicePixelRatioF())  # scaled to device pixels
        self.frames_shown += 1
        self.update()
        self.frame_shown.emit(frame)

    def _lose_screen(self, why: str) -> None:
        self._lost = why
        self.end_take_over()
        self.update()
        self.screen_lost.emit(why)

    def _update_target(self) -> None:
        self._feed.set_target_size(self.frame_rect().size() * self.devicePixelRatioF())

    # --- where the screen is in the widget ----------------------------------------------------

    def frame_rect(self) -> QRect:
        """Where the screen is drawn in the widget: whole pixels, so a frame scaled to this
        size is copied as it is when painted, never scaled again."""
        width, height = self.screen_size.width, self.screen_size.height
        area = QSize(max(1, self.width() - 2 * PADDING), max(1, self.height() - 2 * PADDING))
        scale = fit_scale(QSize(width, height), area)  # the screen is never enlarged
        shown = QSize(max(1, round(width * scale)), max(1, round(height * scale)))
        return QRect(
            (self.width() - shown.width()) // 2, (self.height() - shown.height()) // 2,
            shown.width(), shown.height(),
        )  # fmt: skip

    @property
    def scale(self) -> float:
        """View pixels per screen pixel."""
        return self.frame_rect().width() / self.screen_size.width

    def to_screen(self, point: QPointF, *, clamp: bool = False) -> Point | None:
        """The screen pixel under a point of the widget; None off the picture (with `clamp`,
        the nearest pixel on it: a drag that leaves the picture goes on along its edge)."""
        rect, width, height = self.frame_rect(), self.screen_size.width, self.screen_size.height
        x = math.floor((point.x() - rect.left()) * width / rect.width())
        y = math.floor((point.y() - rect.top()) * height / rect.height())
        if clamp:
            return Point(min(max(x, 0), width - 1), min(max(y, 0), height - 1))
        return Point(x, y) if 0 <= x < width and 0 <= y < height else None

    def to_widget(self, point: Point) -> QPointF:
        """Where the centre of a screen pixel is drawn in the widget."""
        rect, width, height = self.frame_rect(), self.screen_size.width, self.screen_size.height
        return QPointF(
            rect.left() + (point.x + 0.5) * rect.width() / width,
            rect.top() + (point.y + 0.5) * rect.height() / height,
        )

    # --- take-over --------------------------------------------------------------------------

    @property
    def taking_over(self) -> bool:
        return self._forwarder is not None

    def begin_take_over(self) -> None:
        """From now on the boss's mouse and keys here act on the employee's screen."""
        if self._forwarder is not None or self._lost:
            return
        assert self.employee_screen.display is not None  # checked when made
        self._forwarder = InputForwarder(self.employee_screen.display, self._report_input_error)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._feed.fps = TAKE_OVER_FPS
        self.update()

    def _report_input_error(self, why: str) -> None:
        with contextlib.suppress(RuntimeError):  # (on the input thread) the view was deleted
            self.input_failed.emit(why)

    def end_take_over(self, then: Callable[[], object] | None = None) -> None:
        """Stop sending input; let go of whatever the boss still held there, and then call
        `then` (on the input thread; at once when there was no take-over)."""
        forwarder, self._forwarder = self._forwarder, None
        if forwarder is None:
            if then is not None:
                then()
            return
        forwarder.finish(then)
        self._finishing = [*(f for f in self._finishing if not f.finished), forwarder]
        self._buttons.clear()
        self._wheel = QPointF()
        self._preedit = ""
        self.setMouseTracking(False)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.unsetCursor()
        self._feed.fps = self._watch_fps
        self.update()

    # --- the boss's mouse ---------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        forwarder, button = self._forwarder, X_BUTTONS.get(event.button())
        point = self.to_screen(event.position())
        if forwarder is None or button is None or point is None:
            super().mousePressEvent(event)
            return
        self._pointer = event.position()
        forwarder.press(point.x, point.y, button, modifier_names(event.modifiers()))
        self._buttons.add(button)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # Qt's second press of a double click: X apps count the clicks themselves.
        self.mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        forwarder, button = self._forwarder, X_BUTTONS.get(event.button())
        if forwarder is None or button not in self._buttons:
            super().mouseReleaseEvent(event)
            return
        point = self.to_screen(event.position(), clamp=True)
        assert point is not None and button is not None
        forwarder.release(point.x, point.y, button)
        self._buttons.discard(button)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        forwarder = self._forwarder
        point = self.to_screen(event.position(), clamp=bool(self._buttons))
        if forwarder is None or point is None:
            super().mouseMoveEvent(event)
            return
        self._pointer = event.position()
        forwarder.move(point.x, point.y)
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        forwarder, point = self._forwarder, self.to_screen(event.position())
        if forwarder is None or point is None:
            super().wheelEvent(event)
            return
        # Trackpads turn in small steps: whole clicks go, the rest waits for the next turn.
        self._wheel += QPointF(event.angleDelta())
        up, left = int(self._wheel.y() / WHEEL_NOTCH), int(self._wheel.x() / WHEEL_NOTCH)
        self._wheel -= QPointF(left * WHEEL_NOTCH, up * WHEEL_NOTCH)
        if up or left:
            # Qt's positive turns go up and left; X's wheel buttons count down and right.
            forwarder.scroll(point.x, point.y, down=-up, right=-left)
        event.accept()

    # --- the boss's keys -------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if self._forwarder is not None:
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # every key is the employee's while the boss holds the screen
                return True
            if (
                isinstance(event, QKeyEvent)
                and event.type() == QEvent.Type.KeyPress
                and event.key() in TAB_KEYS
            ):
                self.keyPressEvent(event)
                return True  # not a move to the next widget here
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        forwarder = self._forwarder
        if forwarder is None:
            super().keyPressEvent(event)
            return
        match boss_key(event.key(), event.modifiers(), event.text()):
            case TypedText(text=text):
                forwarder.type_text(text)
            case KeyCombination(keys=keys):
                forwarder.press_combination(keys)
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if self._forwarder is None:
            super().keyReleaseEvent(event)
        else:
            event.accept()  # keys go as whole presses

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        """Text from the boss's input method (Japanese, say) is typed as committed."""
        forwarder = self._forwarder
        if forwarder is None:
            event.ignore()
            return
        if event.commitString():
            forwarder.type_text(event.commitString())
        self._preedit = event.preeditString()
        self.update()
        event.accept()

    def inputMethodQuery(self, query: Qt.InputMethodQuery) -> Any:
        if query == Qt.InputMethodQuery.ImEnabled:
            return self._forwarder is not None
        if query == Qt.InputMethodQuery.ImCursorRectangle:
            # The input method's candidate list opens by where the boss last clicked.
            return QRect(self._pointer.toPoint(), QSize(1, 20))
        return super().inputMethodQuery(query)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._preedit = ""
        super().focusOutEvent(event)

    # --- painting -------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._update_target()
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            rect = QRectF(self.frame_rect())
            image = self._image
            if image is not None and image.deviceIndependentSize() == rect.size():
                painter.drawImage(rect.topLeft(), image)  # copied, not scaled again
            elif image is not None:  # until a frame of the new size comes after a resize
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                painter.drawImage(rect, image)
            if self._forwarder is not None:
                self._paint_take_over(painter, rect)
            elif self._image is not None and not self._lost:
                paint_overlays(painter, self._overlays, self.scale, rect)
            message = LOST_MESSAGE if self._lost else "" if image is not None else WAITING_MESSAGE
            if message:
                if self._image is not None:
                    painter.fillRect(rect, LOST_WASH)
                painter.setPen(MESSAGE_COLOUR)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, message)
        finally:
            painter.end()

    def _paint_take_over(self, painter: QPainter, rect: QRectF) -> None:
        """A border says the boss holds the screen; what the input method composes shows."""
        pen = QPen(TAKE_OVER_COLOUR, TAKE_OVER_BORDER)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inset = TAKE_OVER_BORDER / 2
        painter.drawRect(rect.adjusted(inset, inset, -inset, -inset))
        if self._preedit:
            paint_overlays(painter, [Caption(f"composing: {self._preedit}")], self.scale, rect)
