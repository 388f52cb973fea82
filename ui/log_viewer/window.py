"""The log viewer's main window: the runs list on the left, the selected run on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ui.log_viewer.frames import FrameLoader
from ui.log_viewer.row_table import RowTable
from ui.log_viewer.run_view import RunView
from ui.log_viewer.runs_model import (
    ALL_STATUSES,
    FOLDER_ROLE,
    RESULT_COLUMN,
    RunsFilter,
    RunsModel,
)
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.style import STYLE_SHEET

REFRESH_MILLISECONDS = 2000


class LogViewerWindow(QMainWindow):
    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.setWindowTitle(f"Shain — run logs — {runs_dir}")
        self.setStyleSheet(STYLE_SHEET)
        self.resize(1600, 1000)
        self.loader = FrameLoader(self)

        self.runs = RunsModel(runs_dir)
        self.runs_filter = RunsFilter()
        self.runs_filter.setSourceModel(self.runs)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by task, run id or reason…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.runs_filter.set_text)
        self.status = QComboBox()
        self.status.currentTextChanged.connect(self._status_chosen)
        self._fill_statuses()

        self.table = RowTable(stretch_column=RESULT_COLUMN)
        self.table.setModel(self.runs_filter)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # newest first
        self.table.selectionModel().currentRowChanged.connect(self._run_chosen)

        title = QLabel("Runs")
        title.setObjectName("title")
        self.where = ElidedLabel(str(runs_dir))
        self.where.setObjectName("subtle")
        self.search.setMinimumWidth(320)
        filters = QHBoxLayout()
        filters.addWidget(title)
        filters.addWidget(self.where, 1)
        filters.addWidget(self.search)
        filters.addWidget(self.status)
        runs_panel = QWidget()
        runs_layout = QVBoxLayout(runs_panel)
        runs_layout.setContentsMargins(0, 0, 0, 4)
        runs_layout.addLayout(filters)
        runs_layout.addWidget(self.table, 1)

        self.run_view = RunView(self.loader)
        self.run_view.setContentsMargins(0, 6, 0, 0)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(runs_panel)
        splitter.addWidget(self.run_view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([210, 750])
        page = QWidget()
        page.setObjectName("page")
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(14, 10, 14, 14)
        page_layout.addWidget(splitter)
        self.setCentralWidget(page)

        self.refresher = QTimer(self)
        self.refresher.setInterval(REFRESH_MILLISECONDS)
        self.refresher.timeout.connect(self.refresh_runs)
        self.refresher.start()

    def refresh_runs(self) -> None:
        self.runs.refresh()
        self._fill_statuses()

    def select_run(self, folder: Path) -> bool:
        """Select the run in `folder` in the runs list (clearing filters that hide it)."""
        row = self.runs.row_of(folder)
        if row is None:
            return False
        index = self.runs_filter.mapFromSource(self.runs.index(row, 0))
        if not index.isValid():
            self.search.clear()
            self.status.setCurrentText(ALL_STATUSES)
            index = self.runs_filter.mapFromSource(self.runs.index(row, 0))
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index)
        return True

    def select_first_run(self) -> None:
        if self.runs_filter.rowCount() > 0:
            self.select_run(Path(self.runs_filter.index(0, 0).data(FOLDER_ROLE)))

    def _fill_statuses(self) -> None:
        wanted = [ALL_STATUSES, *self.runs.statuses()]
        present = [self.status.itemText(i) for i in range(self.status.count())]
        if present != wanted:
            current = self.status.currentText() or ALL_STATUSES
            self.status.blockSignals(True)
            self.status.clear()
            self.status.addItems(wanted)
            self.status.setCurrentText(current if current in wanted else ALL_STATUSES)
            self.status.blockSignals(False)

    def _status_chosen(self, text: str) -> None:
        self.runs_filter.set_status(None if text in ("", ALL_STATUSES) else text)

    def _run_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        folder = Path(current.data(FOLDER_ROLE))
        if folder != self.run_view.folder:
            self.run_view.open_run(folder)
