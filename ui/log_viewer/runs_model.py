"""The runs list: a table model over a runs folder, and a proxy that sorts and filters it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from agent.record.formatting import duration_text
from ui.log_viewer.column_model import ColumnTableModel, Index
from ui.log_viewer.runs import RunRow, read_row, run_folders
from ui.widgets.style import (
    cost_text,
    status_colours,
    tokens_text,
    when_text,
)

SORT_ROLE = Qt.ItemDataRole.UserRole
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = ("Task", "Status", "Started", "Duration", "Steps", "Tokens", "Cost", "Result")
RESULT_COLUMN = 7
ALL_STATUSES = "All statuses"


class RunsModel(ColumnTableModel):
    """One row per run folder; `refresh()` adds new runs and re-reads unfinished ones."""

    columns = COLUMNS

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        self.rows: list[RunRow] = []
        self._seen: dict[Path, tuple[int, int]] = {}  # unfinished run -> its log's size, mtime
        self.refresh()

    def row_count(self) -> int:
        return len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column)
        if role == SORT_ROLE:
            return _sort_key(row, column)
        if role == FOLDER_ROLE:
            return str(row.folder)
        if role == STATUS_ROLE:
            return row.status
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return status_colours(row.status)[0]
        if role == Qt.ItemDataRole.BackgroundRole and column == 1:
            return status_colours(row.status)[1]
        if role == Qt.ItemDataRole.ToolTipRole:
            started = when_text(row.started_at)
            return f"{row.run_id}\nstarted {started}\n{row.reason}".rstrip()
        if role == Qt.ItemDataRole.TextAlignmentRole and 3 <= column < RESULT_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def row_of(self, folder: Path) -> int | None:
        for number, row in enumerate(self.rows):
            if row.folder == folder:
                return number
        return None

    def statuses(self) -> list[str]:
        return sorted({str(row.status) for row in self.rows})

    def refresh(self) -> None:
        """Insert runs that appeared; re-read the ones that had not finished."""
        known = {row.folder: number for number, row in enumerate(self.rows)}
        for folder in reversed(run_folders(self.runs_dir)):  # oldest first: newest ends on top
            number = known.get(folder)
            if number is None:
                try:
                    row = read_row(folder)
                except (OSError, ValueError):
                    continue
                self.beginInsertRows(QModelIndex(), 0, 0)
                self.rows.insert(0, row)
                self.endInsertRows()
                known = {row.folder: n for n, row in enumerate(self.rows)}
            elif not self.rows[number].finished and self._grew(folder):
                try:
                    self.rows[number] = read_row(folder)
                except (OSError, ValueError):
                    continue
                self.dataChanged.emit(self.index(number, 0), self.index(number, len(COLUMNS) - 1))

    def _grew(self, folder: Path) -> bool:
        """Whether an unfinished run's log or summary changed since it was last read."""
        try:
            stat = (folder / "events.jsonl").stat()
        except OSError:
            return False
        mark = (stat.st_size, stat.st_mtime_ns)
        if (folder / "summary.json").is_file() or self._seen.get(folder) != mark:
            self._seen[folder] = mark
            return True
        return False


def _display(row: RunRow, column: int) -> str:
    match column:
        case 0:
            return row.task
        case 1:
            return row.status.replace("_", " ")
        case 2:
            return when_text(row.started_at, short=True)
        case 3:
            return duration_text(row.seconds)
        case 4:
            return str(row.steps)
        case 5:
            return tokens_text(row.tokens)
        case 6:
            return cost_text(row.cost_usd)
        case _:
            return row.reason


def _sort_key(row: RunRow, column: int) -> Any:
    keys: tuple[Any, ...] = (
        row.task.lower(),
        row.status,
        row.started_at or 0.0,
        row.seconds or 0.0,
        row.steps,
        row.tokens,
        row.cost_usd,
        row.reason.lower(),
    )
    return keys[column]


class RunsFilter(QSortFilterProxyModel):
    """Sorts by the raw values and keeps the rows matching a status and a text."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._status: str | None = None
        self._text = ""

    def set_status(self, status: str | None) -> None:
        self.beginFilterChange()
        self._status = status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, RunsModel):
            return True
        row = model.rows[source_row]
        if self._status is not None and row.status != self._status:
            return False
        if not self._text:
            return True
        haystack = f"{row.task} {row.run_id} {row.status} {row.reason}".lower()
        return self._text in haystack
