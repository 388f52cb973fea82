"""The selected step in detail: its annotated screenshot, timings, tokens, thought and reply."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from agent.record.deciders import Healed, describe_decider
from agent.record.formatting import duration_text
from agent.record.steps import StepInfo
from agent.report.overlays import Overlay, overlays_of_logged
from ui.log_viewer.frames import FrameLoader
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.screenshot_view import ScreenshotView
from ui.widgets.style import cost_text, pill_style, tokens_text

METRICS = ("Capture", "Model", "Action", "Settle", "Tokens in / out", "Cost")


class Metric(QFrame):
    """A small card: a value over its name."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName("metric")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        self.value = QLabel("–")
        self.value.setObjectName("metricValue")
        caption = QLabel(name)
        caption.setObjectName("metricName")
        layout.addWidget(self.value)
        layout.addWidget(caption)


def _text_box() -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setReadOnly(True)
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    return box


class StepDetail(QWidget):
    def __init__(self, loader: FrameLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.step: StepInfo | None = None
        self._frame_path: Path | None = None

        self.title = ElidedLabel("No step selected")
        self.title.setObjectName("title")
        self.pill = QLabel()
        self.pill.setObjectName("pill")
        self.pill.hide()
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.pill)
        # Who decided the step: the script, the model, or the model in a script step's place.
        self.decided = QLabel()
        self.decided.setObjectName("subtle")
        self.decided.setWordWrap(True)
        self.decided.hide()

        self.screenshot = ScreenshotView()
        self.metrics = {name: Metric(name) for name in METRICS}
        cards = QGridLayout()
        cards.setSpacing(8)
        for column, metric in enumerate(self.metrics.values()):
            cards.addWidget(metric, 0, column)

        self.thought = _text_box()
        self.raw_reply = _text_box()
        self.problems = _text_box()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.thought, "Thought")
        self.tabs.addTab(self.raw_reply, "Raw reply")
        self.tabs.addTab(self.problems, "Problems")
        self.tabs.setMaximumHeight(170)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(heading)
        layout.addWidget(self.decided)
        layout.addWidget(self.screenshot, 1)
        layout.addLayout(cards)
        layout.addWidget(self.tabs)
        loader.loaded.connect(self._frame_loaded)

    def show_step(self, step: StepInfo | None, folder: Path) -> None:
        """Show `step` of the run in `folder` (None: nothing selected)."""
        self.step = step
        if step is None:
            self.title.setText("No step selected")
            self.pill.hide()
            self.decided.hide()
            self._frame_path = None
            self.screenshot.show_frame(None, (), "No step selected")
            for box in (self.thought, self.raw_reply, self.problems):
                box.clear()
            for metric in self.metrics.values():
                metric.value.setText("–")
            return
        self.title.setText(f"Step {step.number} · {'; '.join(step.action_lines)}")
        self.title.setToolTip("\n".join(step.action_lines))
        self.pill.setText(step.status)
        self.pill.setStyleSheet(pill_style(step.status))
        self.pill.show()
        if step.by is None:
            self.decided.hide()
        else:
            self.decided.setText(f"Decided by: {describe_decider(step.by)}")
            self.decided.setToolTip(step.by.detail if isinstance(step.by, Healed) else "")
            self.decided.show()
        values = (
            duration_text(step.capture_seconds),
            duration_text(step.decide_seconds),
            duration_text(step.action_seconds) if step.executed else "–",
            duration_text(step.settle_seconds) if step.executed else "–",
            f"{tokens_text(step.input_tokens)} / {tokens_text(step.output_tokens)}",
            cost_text(step.cost_usd),
        )
        for metric, value in zip(self.metrics.values(), values, strict=True):
            metric.value.setText(value)
        _set_text(self.thought, step.thought or "(no thought logged)")
        _set_text(self.raw_reply, step.raw_reply or "(no model reply: a scripted step)")
        problems = [f"error: {e}" for e in step.errors] + [f"retry: {r}" for r in step.retries]
        _set_text(self.problems, "\n\n".join(problems) or "(none)")
        self.tabs.setTabText(2, f"Problems ({len(problems)})" if problems else "Problems")
        if step.is_problem:
            self.tabs.setCurrentWidget(self.problems)
        elif self.tabs.currentWidget() is self.problems:
            self.tabs.setCurrentWidget(self.thought)
        self._show_frame(folder)

    def overlays(self) -> tuple[Overlay, ...]:
        if self.step is None:
            return ()
        return tuple(o for action in self.step.actions for o in overlays_of_logged(action))

    def _show_frame(self, folder: Path) -> None:
        step = self.step
        if step is None or step.frame is None:
            self._frame_path = None
            self.screenshot.show_frame(None, (), "No screenshot for this step")
            return
        self._frame_path = folder / step.frame
        image = self.loader.request(self._frame_path)
        if image is not None:
            self.screenshot.show_frame(image, self.overlays(), "")
        else:
            self.screenshot.show_frame(None, (), "Loading screenshot…")

    def _frame_loaded(self, path: str, image: QImage) -> None:
        if self._frame_path is None or path != str(self._frame_path):
            return
        if image.isNull():
            self.screenshot.show_frame(None, (), f"Cannot read {Path(path).name}")
        else:
            self.screenshot.show_frame(image, self.overlays(), "")


def _set_text(box: QPlainTextEdit, text: str) -> None:
    if box.toPlainText() != text:
        box.setPlainText(text)
