"""The progress window: the running task's live screen with its last action drawn on it, its
steps so far, its budget bars, and Pause/Resume and Stop.

Fed on the GUI thread by `on_event` (connect QtBridge.event_happened to it). The buttons only
call the callbacks it was given; nothing here reaches into a running agent.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from agent.desktop.protocol import Frame
from agent.record.events import (
    ActionExecuted,
    Event,
    Observed,
    RunFinished,
    RunStarted,
    StepStarted,
)
from agent.record.formatting import duration_text
from agent.record.status import RunStatus
from agent.report.overlays import Overlay, overlays_of_logged
from agent.taskfile.task import BudgetSpec
from ui.tray.progress_model import (
    ACTIONS_ROLE,
    DURATION_ROLE,
    NUMBER_ROLE,
    STATUS_ROLE,
    THOUGHT_ROLE,
    StepListModel,
    frame_image,
)
from ui.widgets.panels import heading, screen_beside, titled_column
from ui.widgets.screenshot_view import ScreenshotView
from ui.widgets.style import STYLE_SHEET, cost_text, pill_style, status_colours, tokens_text

Callback = Callable[[], None]
Index = QModelIndex | QPersistentModelIndex
BAR_PRECISION = 1000  # budget bars other than steps run 0..1000 of their limit
WARN_FRACTION = 0.8

PROGRESS_STYLE = """
QProgressBar {
    border: none; border-radius: 4px; background: #eaeef2; max-height: 8px; min-height: 8px;
}
QProgressBar::chunk { border-radius: 4px; background: #0969da; }
QProgressBar[level="warn"]::chunk { background: #bf8700; }
QProgressBar[level="over"]::chunk { background: #cf222e; }
QListView { border: 1px solid #d0d7de; border-radius: 6px; background: #ffffff; }
QPushButton {
    border: 1px solid #d0d7de; border-radius: 6px; padding: 5px 16px; background: #f6f8fa;
}
QPushButton:hover { background: #eaeef2; }
QPushButton:disabled { color: #8c959f; }
QPushButton#stop { color: #cf222e; font-weight: 600; }
"""


class BudgetBar(QWidget):
    """One budget line: its name, `used / limit` and a thin bar; hidden when there is no limit."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLabel(name)
        self.name.setObjectName("metricName")
        self.text = QLabel()
        self.text.setObjectName("metricName")
        self.text.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(3)
        layout.addWidget(self.name, 0, 0)
        layout.addWidget(self.text, 0, 1)
        layout.addWidget(self.bar, 1, 0, 1, 2)
        self.used = 0.0
        self.limit: float | None = None

    def set_use(self, used: float, limit: float | None, text: str, exact: bool = False) -> None:
        """`exact`: the bar runs 0..limit in whole units (steps); else in thousandths."""
        self.used, self.limit = used, limit
        self.setVisible(limit is not None)
        if limit is None:
            return
        fraction = min(used / limit, 1.0) if limit > 0 else 1.0
        if exact:
            self.bar.setRange(0, int(limit))
            self.bar.setValue(min(int(used), int(limit)))
        else:
            self.bar.setRange(0, BAR_PRECISION)
            self.bar.setValue(round(fraction * BAR_PRECISION))
        self.text.setText(text)
        level = "over" if fraction >= 1.0 else "warn" if fraction >= WARN_FRACTION else "ok"
        if self.bar.property("level") != level:
            self.bar.setProperty("level", level)
            self.bar.style().unpolish(self.bar)
            self.bar.style().polish(self.bar)


class StepDelegate(QStyledItemDelegate):
    """A step as a card: number and duration, the model's thought, then its action lines."""

    PADDING = 8

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        bold = QFont(option.font)
        bold.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, small.pointSizeF() - 0.5))
        return bold, small

    def _wrapped_height(self, font: QFont, text: str, width: int) -> int:
        if not text:
            return 0
        flags = int(Qt.TextFlag.TextWordWrap)
        return QFontMetrics(font).boundingRect(QRect(0, 0, width, 10_000), flags, text).height()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        bold, small = self._fonts(option)
        view = option.widget
        shown = view.viewport().width() if isinstance(view, QAbstractItemView) else 300
        width = max(120, shown - 2 * self.PADDING)
        thought = str(index.data(THOUGHT_ROLE) or "")
        actions = str(index.data(ACTIONS_ROLE) or "")
        height = QFontMetrics(bold).height() + 4
        height += self._wrapped_height(small, thought, width) + (4 if thought else 0)
        height += self._wrapped_height(bold, actions, width)
        return QSize(width, height + 2 * self.PADDING)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        bold, small = self._fonts(option)
        rect: QRect = option.rect
        status = str(index.data(STATUS_ROLE) or "running")
        painter.save()
        try:
            selected = bool(option.state & QStyle.StateFlag.State_Selected)
            painter.fillRect(rect, QColor("#ddf4ff" if selected else "#ffffff"))
            painter.setPen(QPen(QColor("#eaeef2")))
            painter.drawLine(rect.bottomLeft(), rect.bottomRight())
            accent = status_colours(status)[0] if status != "running" else QColor("#0969da")
            painter.fillRect(QRect(rect.left(), rect.top() + 1, 3, rect.height() - 2), accent)
            inner = rect.adjusted(self.PADDING + 2, self.PADDING, -self.PADDING, -self.PADDING)
            line = QFontMetrics(bold).height()
            painter.setFont(bold)
            painter.setPen(QColor("#1f2328"))
            head = QRect(inner.left(), inner.top(), inner.width(), line)
            painter.drawText(head, Qt.AlignmentFlag.AlignLeft, f"Step {index.data(NUMBER_ROLE)}")
            painter.setFont(small)
            painter.setPen(QColor("#57606a"))
            right = f"{index.data(DURATION_ROLE) or ''}  {'' if status == 'ok' else status}"
            painter.drawText(head, int(Qt.AlignmentFlag.AlignRight), right.strip())
            top = inner.top() + line + 4
            thought = str(index.data(THOUGHT_ROLE) or "")
            wrap = int(Qt.TextFlag.TextWordWrap)
            if thought:
                height = self._wrapped_height(small, thought, inner.width())
                painter.drawText(QRect(inner.left(), top, inner.width(), height), wrap, thought)
                top += height + 4
            painter.setFont(bold)
            painter.setPen(status_colours(status)[0] if status != "ok" else QColor("#1f2328"))
            box = QRect(inner.left(), top, inner.width(), inner.bottom() - top + 1)
            painter.drawText(box, wrap, str(index.data(ACTIONS_ROLE) or ""))
        finally:
            painter.restore()


class StepList(QListView):
    """The steps of a run as cards, following the newest: the tray's progress window and the
    watch window show them so."""

    def __init__(self) -> None:
        super().__init__()
        self.step_model = StepListModel()
        self.setModel(self.step_model)
        self.setItemDelegate(StepDelegate(self))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setWordWrap(True)
        self.step_model.rowsInserted.connect(lambda *_: self.scrollToBottom())
        self.step_model.dataChanged.connect(self._relayout)

    def _relayout(self) -> None:
        # Row heights follow their text, which grows as a step's events arrive.
        self.doItemsLayout()
        self.scrollToBottom()


class ProgressWindow(QWidget):
    """The running task, live. `on_event` takes the run's events; `set_budget` its limits."""

    def __init__(
        self,
        *,
        on_pause: Callback,
        on_resume: Callback,
        on_stop: Callback,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shain — progress")
        self.setObjectName("page")
        self.setStyleSheet(STYLE_SHEET + PROGRESS_STYLE)
        self._on_pause, self._on_resume, self._on_stop = on_pause, on_resume, on_stop
        self.budget: BudgetSpec | None = None
        self.task_name = ""
        self.step = 0
        self.running = False
        self.paused = False
        self._overlays: list[Overlay] = []

        top, self.status, self.pill = heading("Waiting for a task")

        self.screen_view = ScreenshotView()
        self.screen_view.show_frame(None, (), "The screen shows here once the task starts")

        self.steps = StepList()
        self.model = self.steps.step_model

        self.step_bar = BudgetBar("Steps")
        self.time_bar = BudgetBar("Time")
        self.token_bar = BudgetBar("Tokens")
        self.cost_bar = BudgetBar("Cost")
        budget_box = QFrame()
        budget_box.setObjectName("metric")
        budget_layout = QVBoxLayout(budget_box)
        budget_layout.setContentsMargins(10, 8, 10, 10)
        budget_layout.setSpacing(8)
        budget_title = QLabel("Budget")
        budget_title.setObjectName("sectionTitle")
        budget_layout.addWidget(budget_title)
        for bar in self.bars:
            budget_layout.addWidget(bar)
            bar.hide()

        side = titled_column("Steps", self.steps, budget_box)
        splitter = screen_beside(self.screen_view, side, 2, [700, 360])

        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self._pause_clicked)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.clicked.connect(self._stop_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.resize(1100, 640)
        self._update_buttons()

    @property
    def bars(self) -> tuple[BudgetBar, ...]:
        return (self.step_bar, self.time_bar, self.token_bar, self.cost_bar)

    # --- fed by the tray app ---

    def set_budget(self, budget: BudgetSpec | None) -> None:
        """The limits of the run about to start (RunStarted does not carry them)."""
        self.budget = budget
        self._update_budget()

    def on_event(self, event: Event) -> None:
        self.model.on_event(event)
        match event:
            case RunStarted(task_name=name):
                self.task_name, self.step = name, 0
                self.running, self.paused = True, False
                self._overlays = []
                self.screen_view.show_frame(None, (), "Setting up…")
                self.pill.hide()
                self._show_working()
            case StepStarted(step=step):
                self.step = step
                if not self.paused:
                    self._show_working()
            case Observed(frame=Frame() as frame):
                self._overlays = []
                self.screen_view.show_frame(frame_image(frame), (), "")
            case ActionExecuted(action=action):
                self._overlays.extend(overlays_of_logged(action))
                self.screen_view.show_frame(self.screen_view.image, self._overlays, "")
            case RunFinished(status=status, reason=reason):
                self.running, self.paused = False, False
                self._show_finished(status, reason)
        self._update_budget()
        self._update_buttons()

    def show_paused(self, reason: str = "") -> None:
        """The run paused itself (the boss moved the mouse) or was paused from the tray."""
        if self.running:
            self.paused = True
            self._set_status(f"Paused — {reason}" if reason else "Paused")
            self._update_buttons()

    def show_resumed(self) -> None:
        if self.running:
            self.paused = False
            self._show_working()
            self._update_buttons()

    # --- the buttons ---

    def _pause_clicked(self) -> None:
        if self.paused:
            self._on_resume()
            self.show_resumed()
        else:
            self._on_pause()
            self.show_paused()

    def _stop_clicked(self) -> None:
        self._on_stop()
        if self.running:
            self._set_status("Stopping…")
            self.stop_button.setEnabled(False)

    # --- what is shown ---

    def _show_working(self) -> None:
        step = f" — step {self.step}" if self.step else ""
        self._set_status(f"Working on '{self.task_name}'{step}")

    def _show_finished(self, status: RunStatus, reason: str) -> None:
        ending = {RunStatus.SUCCESS: "Done", RunStatus.STOPPED: "Stopped"}.get(status, "Ended")
        self._set_status(f"{ending}: {reason}" if reason else ending)
        self.pill.setText(status.replace("_", " "))
        self.pill.setStyleSheet(pill_style(status))
        self.pill.show()

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.update()

    def _update_buttons(self) -> None:
        self.pause_button.setText("Resume" if self.paused else "Pause")
        self.pause_button.setEnabled(self.running)
        self.stop_button.setEnabled(self.running)

    def _update_budget(self) -> None:
        budget, spent = self.budget, self.model.folder.totals
        if budget is None:
            for bar in self.bars:
                bar.hide()
            return
        steps = budget.max_steps
        self.step_bar.set_use(spent.steps, steps, f"{spent.steps} of {steps}", exact=True)
        seconds, spent_seconds = budget.max_seconds, spent.seconds or 0.0
        time_text = f"{duration_text(spent_seconds)} of {duration_text(seconds)}"
        self.time_bar.set_use(spent_seconds, seconds, time_text)
        tokens = budget.max_tokens
        token_text = f"{tokens_text(spent.tokens)} of {tokens_text(tokens or 0)}"
        self.token_bar.set_use(spent.tokens, tokens, token_text)
        cost = budget.max_cost_usd
        cost_line = f"{cost_text(spent.cost_usd)} of {cost_text(cost or 0.0)}"
        self.cost_bar.set_use(spent.cost_usd, cost, cost_line)
