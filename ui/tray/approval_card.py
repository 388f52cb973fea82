"""The approval card: a small always-on-top window that asks the boss about one held action.

It shows what the agent wants to do, why the guard held it, and the part of the screen it
touches (a crop of the last frame, with the action drawn on it as the log viewer draws it).
Approve, Deny or Stop answer the PendingApproval the run's thread waits on; closing the card
denies. With no answer for `timeout_seconds` the card pauses the run and says so; an answer
after that still counts, and resumes the run the card paused.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent.actions import Action, describe_action, points_of
from agent.desktop.protocol import Frame
from agent.geometry import Point
from agent.report.overlays import Arrow, Caption, Marker, Overlay, Trail, overlays_of
from ui.tray.approvals import Answer, PendingApproval
from ui.widgets.overlay_painter import render_annotated

DEFAULT_TIMEOUT_SECONDS = 120.0
CROP = QSize(640, 360)  # frame pixels around the action's points
PREVIEW = QSize(440, 248)  # the most the crop is shown at, in view pixels
TICK_MS = 250

STYLE = """
QWidget#card { background: #ffffff; }
QWidget { font-size: 10pt; color: #1f2328; }
QLabel#badge {
    background: #fff1e5; color: #bc4c00; border-radius: 18px; font-size: 16pt;
    font-weight: 700; min-width: 36px; max-width: 36px; min-height: 36px; max-height: 36px;
}
QLabel#title { font-size: 13pt; font-weight: 600; }
QLabel#subtle { color: #57606a; }
QLabel#action {
    font-family: monospace; font-size: 10.5pt; background: #f6f8fa; border: 1px solid #d0d7de;
    border-radius: 6px; padding: 8px 10px;
}
QLabel#reason { color: #9a3412; }
QLabel#screen { border: 1px solid #d0d7de; border-radius: 6px; background: #0d1117; }
QLabel#countdown { color: #57606a; }
QLabel#countdown[paused="true"] {
    color: #7d4e00; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
    padding: 6px 8px;
}
QPushButton { border-radius: 6px; padding: 6px 16px; font-weight: 600; min-width: 72px; }
QPushButton#deny { background: #1f2328; color: #ffffff; border: 1px solid #1f2328; }
QPushButton#deny:hover { background: #32383f; }
QPushButton#approve { background: #ffffff; color: #cf222e; border: 1px solid #cf222e; }
QPushButton#approve:hover { background: #ffebe9; }
QPushButton#stop { background: #f6f8fa; color: #57606a; border: 1px solid #d0d7de; }
QPushButton#stop:hover { background: #eaeef2; }
"""


def frame_image(frame: Frame) -> QImage:
    """The frame's BGRA pixels as a QImage of its own (the frame may be reused later)."""
    pixels = np.ascontiguousarray(frame.pixels)
    height, width = pixels.shape[:2]
    view = QImage(pixels.data, width, height, int(pixels.strides[0]), QImage.Format.Format_RGB32)
    return view.copy()


def crop_box(action: Action | None, screen: QSize) -> QRect:
    """The part of the screen the action touches: CROP around its points, or all of it."""
    points = points_of(action) if action is not None else ()
    if not points:
        return QRect(0, 0, screen.width(), screen.height())
    left, right = min(p.x for p in points), max(p.x for p in points)
    top, bottom = min(p.y for p in points), max(p.y for p in points)
    width = min(max(CROP.width(), right - left + 120), screen.width())
    height = min(max(CROP.height(), bottom - top + 120), screen.height())
    x = min(max(0, (left + right) // 2 - width // 2), screen.width() - width)
    y = min(max(0, (top + bottom) // 2 - height // 2), screen.height() - height)
    return QRect(x, y, width, height)


def _shifted(overlay: Overlay, dx: int, dy: int) -> Overlay:
    def move(point: Point) -> Point:
        return Point(point.x - dx, point.y - dy)

    match overlay:
        case Marker(at=at, label=label):
            return Marker(move(at), label)
        case Trail(points=points):
            return Trail(tuple(move(p) for p in points))
        case Arrow(at=at, dx=sx, dy=sy):
            return Arrow(move(at), sx, sy)
        case Caption(text=text):  # no place on the screen; one line, Enter shown as ⏎
            return Caption(text.replace("\n", "⏎"))
    return overlay


def action_preview(frame: Frame, action: Action | None, area: QSize = PREVIEW) -> QImage:
    """The crop of the frame around the action, with the action drawn on it."""
    image = frame_image(frame)
    box = crop_box(action, image.size())
    overlays = overlays_of(action) if action is not None else ()
    shifted = [_shifted(overlay, box.x(), box.y()) for overlay in overlays]
    return render_annotated(image.copy(box), shifted, area)


def _countdown(seconds: float) -> str:
    whole = max(0, int(seconds + 0.999))
    return f"{whole // 60}:{whole % 60:02d}"


class ApprovalCard(QWidget):
    """Asks about `pending`; `decided` carries the Answer once given here."""

    decided = Signal(object)  # Answer
    timed_out = Signal()  # no answer in time: the run is paused

    def __init__(
        self,
        pending: PendingApproval,
        *,
        task_name: str = "",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self.pending = pending
        self.timeout_seconds = timeout_seconds
        self.paused_run = False  # the card paused the run for want of an answer
        self.setObjectName("card")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(STYLE)
        self.setWindowTitle("Shain — approval needed")
        request = pending.request

        badge = QLabel("!")
        badge.setObjectName("badge")
        badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Shain needs your approval")
        title.setObjectName("title")
        where = [f"“{task_name}”"] if task_name else []
        where += [f"step {request.step}"] if request.step is not None else []
        subtitle = QLabel(" · ".join(where) or "a running task")
        subtitle.setObjectName("subtle")
        heading = QVBoxLayout()
        heading.setSpacing(0)
        heading.addWidget(title)
        heading.addWidget(subtitle)
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(badge)
        top.addLayout(heading, 1)

        what = describe_action(request.action) if request.action else "go on past safety checks"
        self.action_label = QLabel(what)
        self.action_label.setObjectName("action")
        self.action_label.setWordWrap(True)
        self.action_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_label = QLabel(f"Held because {request.reason}")
        self.reason_label.setObjectName("reason")
        self.reason_label.setWordWrap(True)

        self.screen_label = QLabel()
        self.screen_label.setObjectName("screen")
        self.screen_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview: QImage | None = None
        if request.frame is not None:
            self.preview = action_preview(request.frame, request.action)
            self.screen_label.setPixmap(QPixmap.fromImage(self.preview))
        else:
            self.screen_label.hide()

        self.countdown = QLabel()
        self.countdown.setObjectName("countdown")
        self.countdown.setWordWrap(True)

        self.buttons: dict[Answer, QPushButton] = {}
        for answer, text in (
            (Answer.STOP, "Stop task"),
            (Answer.DENY, "Deny"),
            (Answer.APPROVE, "Approve"),
        ):
            button = QPushButton(text)
            button.setObjectName(answer.value)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _=False, a=answer: self.give(a))
            self.buttons[answer] = button
        self.buttons[Answer.DENY].setDefault(True)
        row = QHBoxLayout()
        row.addWidget(self.buttons[Answer.STOP])
        row.addStretch(1)
        row.addWidget(self.buttons[Answer.DENY])
        row.addWidget(self.buttons[Answer.APPROVE])

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #d0d7de;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.action_label)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.screen_label)
        layout.addWidget(self.countdown)
        layout.addWidget(line)
        layout.addLayout(row)
        self.setFixedWidth(PREVIEW.width() + 38)

        self._left = timeout_seconds
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._show_countdown()

    @property
    def answer(self) -> Answer | None:
        return self.pending.answer

    def give(self, answer: Answer) -> None:
        if self.pending.answered:
            return
        if self.paused_run and answer is not Answer.STOP:
            self.pending.stop.resume()  # the boss is back: the run goes on as answered
        self.pending.give(answer)
        self._timer.stop()
        self.decided.emit(answer)
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.give(Answer.DENY)  # closing the card is a no
        super().closeEvent(event)

    def _tick(self) -> None:
        if self.pending.answered:  # answered elsewhere: the run was stopped
            self._timer.stop()
            self.close()
            return
        if self.paused_run:
            return
        self._left -= TICK_MS / 1000
        if self._left <= 0:
            self._pause()
        else:
            self._show_countdown()

    def _pause(self) -> None:
        stop = self.pending.stop
        if not stop.stopped:
            stop.pause()
        self.paused_run = True
        minutes = self.timeout_seconds / 60
        waited = f"{minutes:g} min" if self.timeout_seconds >= 60 else f"{self.timeout_seconds:g} s"
        self.countdown.setText(
            f"No answer for {waited}: the task is paused. Answer to let it go on."
        )
        self.countdown.setProperty("paused", True)
        self.countdown.style().unpolish(self.countdown)
        self.countdown.style().polish(self.countdown)
        self.timed_out.emit()

    def _show_countdown(self) -> None:
        self.countdown.setText(
            f"The task waits for you. With no answer in {_countdown(self._left)} it pauses."
        )
