"""One run: its heading, the step timeline and the selected step's detail; follows a run that
is still being written by re-reading only the new lines of its events.jsonl."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from agent.record.formatting import duration_text
from agent.record.steps import PENDING, StepInfo
from ui.log_viewer.detail_view import StepDetail
from ui.log_viewer.frames import FrameLoader
from ui.log_viewer.row_table import RowTable
from ui.log_viewer.step_model import ProblemFilter, StepsModel
from ui.log_viewer.tail import EventTail
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.style import cost_text, pill_style, tokens_text, when_text

POLL_MILLISECONDS = 500


class RunView(QWidget):
    def __init__(self, loader: FrameLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.tail: EventTail | None = None
        self.model = StepsModel()
        self.filter = ProblemFilter()
        self.filter.setSourceModel(self.model)

        self.title = ElidedLabel("No run selected")
        self.title.setObjectName("title")
        self.pill = QLabel()
        self.pill.setObjectName("pill")
        self.pill.hide()
        self.subtitle = QLabel()
        self.subtitle.setObjectName("subtle")
        self.subtitle.setWordWrap(True)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.pill)

        self.only_problems = QCheckBox("Only problems")
        self.only_problems.toggled.connect(self._filter_problems)
        self.counts = QLabel()
        self.counts.setObjectName("subtle")
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Steps"))
        tools.addWidget(self.counts, 1)
        tools.addWidget(self.only_problems)

        self.timeline = RowTable(stretch_column=1)
        self.timeline.setModel(self.filter)
        self.timeline.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.dataChanged.connect(self._data_changed)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(tools)
        left_layout.addWidget(self.timeline)
        self.detail = StepDetail(loader)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 1160])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(heading)
        layout.addWidget(self.subtitle)
        layout.addWidget(splitter, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MILLISECONDS)
        self.timer.timeout.connect(self.poll)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self.poll)

    # ---- opening and following a run

    def open_run(self, folder: Path) -> None:
        """Show the run in `folder`, following it if it has not finished."""
        self.timer.stop()
        if self.watcher.files():
            self.watcher.removePaths(self.watcher.files())
        self.folder = folder
        self.tail = EventTail(folder / "events.jsonl")
        self.model = StepsModel()
        self.model.dataChanged.connect(self._data_changed)
        self.filter.setSourceModel(self.model)
        self.model.feed(self.tail.poll_events())
        self._update_heading()
        if self.filter.rowCount() > 0:
            self.select_row(0)
        else:
            self.detail.show_step(None, folder)
        if self.following:
            self.watcher.addPath(str(folder / "events.jsonl"))
            self.timer.start()

    @property
    def following(self) -> bool:
        return self.folder is not None and self.model.folder.progress.finished is None

    def poll(self) -> None:
        """Read the lines appended since the last poll; new steps are appended to the model."""
        if self.tail is None:
            return
        events = self.tail.poll_events()
        if not events:
            return
        had_rows = self.filter.rowCount() > 0
        self.model.feed(events)
        self._update_heading()
        if not had_rows and self.filter.rowCount() > 0:
            self.select_row(0)
        if not self.following:
            self.timer.stop()

    # ---- selection

    def select_row(self, row: int) -> None:
        """Select a row of the timeline (as the view shows it) and show that step."""
        index = self.filter.index(row, 0)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.timeline.selectionModel().setCurrentIndex(index, flags)
        self.timeline.scrollTo(index)

    def current_step(self) -> StepInfo | None:
        index = self.timeline.currentIndex()
        if not index.isValid():
            return None
        return self.model.step_at(self.filter.mapToSource(index).row())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.folder is not None:
            self.detail.show_step(self.current_step() if current.isValid() else None, self.folder)

    def _data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        current = self.filter.mapToSource(self.timeline.currentIndex())
        inside = current.isValid() and top_left.row() <= current.row() <= bottom_right.row()
        if inside and self.folder is not None:
            self.detail.show_step(self.current_step(), self.folder)

    def _filter_problems(self, only: bool) -> None:
        step = self.current_step()
        self.filter.set_only_problems(only)
        rows = [
            self.model.step_at(self.filter.mapToSource(self.filter.index(r, 0)).row())
            for r in range(self.filter.rowCount())
        ]
        if step is not None and step in rows:
            self.select_row(rows.index(step))
        elif rows:
            self.select_row(0)
        else:
            self.detail.show_step(None, self.folder or Path())
        self._update_counts()

    # ---- heading

    def _update_heading(self) -> None:
        folder = self.model.folder
        header = self.tail.header if self.tail else {}
        started, finished = folder.progress.started, folder.progress.finished
        status = finished.status if finished else "running"
        task = started.task_name if started else ""
        self.title.setText(str(header.get("task") or task or "run"))
        self.pill.setText(status.replace("_", " "))
        self.pill.setStyleSheet(pill_style(finished.status if finished else PENDING))
        self.pill.show()
        totals = folder.totals
        parts = [
            when_text(started.at if started else None),
            started.policy if started else "",
            duration_text(totals.seconds) if finished else "still going",
            f"{tokens_text(totals.tokens)} tokens",
            cost_text(totals.cost_usd),
        ]
        reason = f"{status}: {finished.reason}" if finished else "following the log…"
        self.subtitle.setText(" · ".join(p for p in parts if p) + "\n" + reason)
        self.subtitle.setToolTip(str(self.folder))
        self._update_counts()

    def _update_counts(self) -> None:
        steps = self.model.steps
        problems = sum(1 for step in steps if step.is_problem)
        text = f"{len(steps)} steps"
        if problems:
            text += f", {problems} with problems"
        deciders = self.model.folder.deciders
        if deciders is not None:
            text += f" · {deciders}"
        self.counts.setText(text)
